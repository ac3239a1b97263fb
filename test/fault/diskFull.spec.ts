/**
 * Disk full (DESIGN §3, §5): the store lives on a small tmpfs. Appends, rotation/sealing and imports
 * that hit ENOSPC fail with NO_SPACE and a message saying so, nothing acknowledged is lost, and the
 * store carries on once space returns.
 *
 * Needs `mount -t tmpfs` (root, or a container with CAP_SYS_ADMIN; CI runs as root). Where mounting
 * is not permitted the tests are reported as skipped with the reason in their names, never passed.
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statfsSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isChronoscopeError } from '../../src/shared/errors';
import type { EventInput, StoredEvent } from '../../src/shared/event';
import { FileStore, type FileStoreOptions } from '../../src/main/engine/file/FileStore';
import { importFiles } from '../../src/main/engine/ingest/importer';
import { OpenStores } from './support/openStores';
import { readEverything } from '../support/readEverything';

const TMPFS_SIZE = '2m';

/** Whether this process may mount a tmpfs; the reason when not. */
function probeMount(): { ok: true } | { ok: false; why: string } {
  if (process.platform !== 'linux')
    return { ok: false, why: `tmpfs mounts need Linux (this is ${process.platform})` };
  const probe = mkdtempSync(join(tmpdir(), 'chronoscope-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'pipe' });
    execFileSync('umount', [probe], { stdio: 'pipe' });
    return { ok: true };
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    const uid = process.getuid?.();
    return {
      ok: false,
      why: `mount -t tmpfs is not permitted here (uid ${uid}): ${(e.stderr?.toString() || e.message).trim()}`,
    };
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

const mountable = probeMount();
const canMount = mountable.ok;
const skipReason = mountable.ok ? '' : ` [SKIPPED: ${mountable.why}]`;
if (!mountable.ok) console.warn(`diskFull.spec: every test skipped: ${mountable.why}`);

let mnt: string;
let dir: string;
const stores = new OpenStores();
let outside: string;

beforeEach(() => {
  if (!canMount) return;
  mnt = mkdtempSync(join(tmpdir(), 'chronoscope-diskfull-'));
  outside = mkdtempSync(join(tmpdir(), 'chronoscope-diskfull-src-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE},nr_inodes=256,mode=0700`, 'tmpfs', mnt]);
  dir = join(mnt, 'store');
});
afterEach(async () => {
  if (!canMount) return;
  await stores.closeAll();
  execFileSync('umount', ['-l', mnt]);
  rmSync(mnt, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

const open = (options: Partial<FileStoreOptions> = {}) => stores.open(dir, options);
const close = (s: FileStore) => stores.close(s);

let counter = 0;
function batch(n: number): EventInput[] {
  return Array.from({ length: n }, () => {
    const k = counter++;
    return {
      id: `disk-${k}`,
      stream: `Order-${k % 7}`,
      type: ['OrderPlaced', 'OrderPaid'][k % 2]!,
      data: { k, note: `event ${k} ${'x'.repeat(200 + (k % 300))}` },
    };
  });
}

/** Writes `bytes` (or until the disk is full) into a filler file; returns the bytes written. */
function fill(path: string, bytes = Number.MAX_SAFE_INTEGER): number {
  const fd = openSync(path, 'a');
  let written = 0;
  try {
    for (const chunk of [Buffer.alloc(64 << 10, 1), Buffer.alloc(4 << 10, 1), Buffer.alloc(512, 1)]) {
      while (written < bytes) {
        try {
          written += writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}
const freeBytes = () => {
  const s = statfsSync(mnt);
  return s.bavail * s.bsize;
};

async function thrown(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

function expectNoSpace(err: unknown): void {
  expect(isChronoscopeError(err, 'NO_SPACE'), `expected NO_SPACE, got ${String(err)}`).toBe(true);
  expect((err as Error).message).toMatch(/no space/i);
}

/** Every acknowledged event is there once and unchanged; seqs run 1..N. */
async function expectAcked(s: FileStore, acked: StoredEvent[]): Promise<StoredEvent[]> {
  const all = await readEverything(s);
  expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
  expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
  for (const e of acked) expect(all[e.seq - 1]).toEqual(e);
  return all;
}

async function expectVerifyOk(s: FileStore): Promise<void> {
  const v = await s.verify();
  expect(v.issues).toEqual([]);
  expect(v.ok).toBe(true);
}
const tmpFiles = () => readdirSync(join(dir, 'segments')).filter((n) => n.endsWith('.tmp'));

describe(`disk full on a ${TMPFS_SIZE} tmpfs (256 inodes)`, () => {
  it.skipIf(!canMount)(
    `appends on a full disk reject with NO_SPACE ("no space"), keep every acknowledged event, and work again once space returns${skipReason}`,
    async () => {
      const s = await open({ segmentMaxBytes: 64 << 20, sealInWorker: false });
      const reserve = join(mnt, 'reserve');
      fill(reserve, 512 << 10);
      const acked: StoredEvent[] = [];
      let err: unknown;
      for (let i = 0; i < 10_000 && !err; i++) {
        err = await thrown(s.append(batch(1 + (i % 40))).then((r) => acked.push(...r.events)));
      }
      expectNoSpace(err);
      expect(acked.length).toBeGreaterThan(100);
      // The failed append was cut back; take the last free bytes too so nothing fits any more.
      const topUp = join(mnt, 'top-up');
      fill(topUp);
      // Still full: every further append fails the same way, and none leaves a partial line behind.
      // (Each needs more than the 4 KiB page the segment's tail may still have room in.)
      for (let i = 0; i < 5; i++) expectNoSpace(await thrown(s.append(batch(20 + i))));
      expect(s.lastSeq()).toBe(acked.length);
      await expectAcked(s, acked);
      expect((await s.health()).lastSeq).toBe(acked.length);

      unlinkSync(reserve);
      unlinkSync(topUp);
      const after = await s.append(batch(10));
      expect(after.events[0]!.seq).toBe(acked.length + 1);
      acked.push(...after.events);
      await expectVerifyOk(s);
      await close(s);

      const again = await open({ segmentMaxBytes: 64 << 20, sealInWorker: false });
      expect(again.report.tornTailBytes).toBe(0);
      const all = await expectAcked(again, acked);
      expect(all.length).toBe(acked.length);
      await expectVerifyOk(again);
    },
  );

  for (const sealInWorker of [false, true]) {
    it.skipIf(!canMount)(
      `a seal that hits a full disk surfaces NO_SPACE in health() and flushSeals (${sealInWorker ? 'worker' : 'inline'} seal), loses nothing, and succeeds once space returns${skipReason}`,
      async () => {
        const opts = { segmentMaxBytes: 160 << 10, sealInWorker, compressionLevel: 0 };
        const s = await open(opts);
        const acked: StoredEvent[] = [];
        // Just under the rotation limit, uncompressed-sized gzip (level 0) so the seal needs room.
        while (s.lastSeq() === 0 || (await s.stats()).storage.activeSegmentBytes < 150 << 10)
          acked.push(...(await s.append(batch(20))).events);
        const slack = join(mnt, 'slack');
        fill(slack, 24 << 10);
        const filler = join(mnt, 'filler');
        fill(filler);
        unlinkSync(slack);
        expect(freeBytes()).toBeLessThan(64 << 10);

        // Past the limit: the next append rotates; the append fits, the seal of the old segment does not.
        while ((await s.stats()).storage.activeSegmentBytes < opts.segmentMaxBytes)
          acked.push(...(await s.append(batch(2))).events);
        const rotating = await s.append(batch(1));
        acked.push(...rotating.events);
        let health = await s.health();
        for (let i = 0; i < 200 && health.status === 'ok'; i++) {
          await new Promise((r) => setTimeout(r, 20));
          health = await s.health();
        }
        expect(health.status).toBe('degraded');
        expect(health.problems.join('\n')).toMatch(/sealing failed: .*no space/i);
        expect(health.sealBacklog).toBe(1);
        expectNoSpace(await thrown(s.flushSeals()));
        await expectAcked(s, acked);

        unlinkSync(filler);
        acked.push(...(await s.append(batch(3))).events);
        await s.sealActive();
        expect((await s.health()).status).toBe('ok');
        expect(tmpFiles()).toEqual([]);
        await expectVerifyOk(s);
        await close(s);

        const again = await open(opts);
        const all = await expectAcked(again, acked);
        expect(all.length).toBe(acked.length);
        expect(again.report.removedTmp).toEqual([]);
        await expectVerifyOk(again);
      },
    );
  }

  for (const sealInWorker of [false, true]) {
    it.skipIf(!canMount)(
      `a seal whose index commit hits a full disk (the .gz fit, SQLite did not) fails with NO_SPACE too (${sealInWorker ? 'worker' : 'inline'} seal), and succeeds once space returns${skipReason}`,
      async () => {
        const opts = { segmentMaxBytes: 160 << 10, sealInWorker, compressionLevel: 0 };
        const s = await open(opts);
        const acked: StoredEvent[] = [];
        let k = 0;
        // Many distinct keys, so the index commit of the seal needs tens of KB of WAL.
        const keyed = () =>
          Array.from({ length: 20 }, () => ({
            stream: `S${k % 50}`,
            type: `T${k % 30}`,
            tags: [`t${k % 40}`],
            data: { k: k++, pad: 'y'.repeat(300) },
          }));
        while ((await s.stats()).storage.activeSegmentBytes < opts.segmentMaxBytes)
          acked.push(...(await s.append(keyed())).events);
        // Room for the uncompressed-size .gz (~165 KB) but not for the index's WAL as well.
        const slack = join(mnt, 'slack');
        fill(slack, 185 << 10);
        const filler = join(mnt, 'filler');
        fill(filler);
        unlinkSync(slack);
        acked.push(...(await s.append(batch(1))).events); // rotates; the seal starts
        const err = await thrown(s.flushSeals());
        // The scenario was reached: the sealed file was written, the failure came after it.
        expect(readdirSync(join(dir, 'segments')).filter((n) => n.endsWith('.jsonl.gz'))).toHaveLength(1);
        expect(err, 'the seal must fail').toBeDefined();
        expectNoSpace(err);
        await expectAcked(s, acked);

        unlinkSync(filler);
        await s.sealActive();
        expect(tmpFiles()).toEqual([]);
        await expectVerifyOk(s);
      },
    );
  }

  it.skipIf(!canMount)(
    `a rotation that cannot create its new segment (no inodes left) fails with NO_SPACE, and the store rotates and seals normally once space returns${skipReason}`,
    async () => {
      const opts = { segmentMaxBytes: 16 << 10, sealInWorker: false };
      const s = await open(opts);
      const acked: StoredEvent[] = [];
      const active = async () => (await s.stats()).storage.activeSegmentBytes;
      // Close to the limit first: a store rotates a full segment as soon as its queue is idle, so
      // the inodes must be gone before the append that fills it.
      while ((await active()) < opts.segmentMaxBytes - (6 << 10))
        acked.push(...(await s.append(batch(5))).events);
      // Use up every inode: the next rotation cannot create its segment file.
      const inodes = join(mnt, 'inodes');
      mkdirSync(inodes);
      let made = 0;
      for (;;) {
        try {
          closeSync(openSync(join(inodes, String(made)), 'w'));
          made++;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
      expect(made).toBeGreaterThan(0);
      // The filling append is written (rotation comes before a write); the idle rotation after it
      // fails, and so does every append that needs the new segment.
      while ((await active()) < opts.segmentMaxBytes) acked.push(...(await s.append(batch(1))).events);
      for (let i = 0; i < 3; i++) expectNoSpace(await thrown(s.append(batch(2))));
      expect(s.lastSeq()).toBe(acked.length);
      await expectAcked(s, acked);

      rmSync(inodes, { recursive: true });
      for (let i = 0; i < 6; i++) acked.push(...(await s.append(batch(15))).events);
      await s.sealActive();
      const health = await s.health();
      expect(health.problems).toEqual([]);
      expect(health.sealBacklog).toBe(0);
      expect(tmpFiles()).toEqual([]);
      await expectAcked(s, acked);
      await expectVerifyOk(s);
      await close(s);

      const again = await open(opts);
      expect((await expectAcked(again, acked)).length).toBe(acked.length);
      await expectVerifyOk(again);
    },
  );

  it.skipIf(!canMount)(
    `an import that runs out of space stops with NO_SPACE naming the lines, keeps a contiguous prefix, and re-running it after space returns adds exactly the rest${skipReason}`,
    async () => {
      const N = 6000;
      const file = join(outside, 'events.jsonl');
      const events = batch(N);
      writeFileSync(file, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
      const opts = { segmentMaxBytes: 256 << 10, sealInWorker: false };
      mkdirSync(dir);
      const s = await open(opts);
      // Leave ~200 KB free: the import fills it long before its 6000 events (~3 MB) are in.
      const slack = join(mnt, 'slack');
      fill(slack, 200 << 10);
      const reserve = join(mnt, 'reserve');
      fill(reserve);
      unlinkSync(slack);

      const err = await thrown(importFiles(s, [file], { format: 'native', batchSize: 250 }));
      expectNoSpace(err);
      expect((err as Error).message).toMatch(/importing lines \d+–\d+ of .*events\.jsonl/);
      const stored = await expectAcked(s, []);
      expect(stored.length).toBeGreaterThan(0);
      expect(stored.length).toBeLessThan(N);
      expect(stored.map((e) => e.id)).toEqual(events.slice(0, stored.length).map((e) => e.id));

      unlinkSync(reserve);
      await s.flushSeals().catch(() => {}); // a seal may have failed for want of space too
      const rerun = await importFiles(s, [file], { format: 'native', batchSize: 250 });
      expect({ imported: rerun.imported, duplicates: rerun.duplicates }).toEqual({
        imported: N - stored.length,
        duplicates: stored.length,
      });
      await s.sealActive();
      const all = await expectAcked(s, stored);
      expect(all.map((e) => e.id)).toEqual(events.map((e) => e.id));
      expect(tmpFiles()).toEqual([]);
      await expectVerifyOk(s);
    },
  );
});
