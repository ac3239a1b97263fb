/**
 * `repair` on real files (issue #9, corruption): damaged lines in the active segment, damaged,
 * truncated and deleted sealed segments, repeated repair, and kill -9 in the middle of a repair.
 * After every repair: the store opens, verify is clean (the lost seqs listed as information), every
 * acknowledged event outside the reported lost set is present and unchanged, lost seqs read as
 * absent, and appends continue with the next seq.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isChronoscopeError } from '../../src/shared/errors';
import type { EventInput, StoredEvent } from '../../src/shared/event';
import { FileStore, type FileStoreOptions } from '../../src/main/engine/file/FileStore';
import type { RepairReport } from '../../src/main/engine/file/repair';
import type { FileVerifyReport } from '../../src/main/engine/file/verify';
import { exited, FILE_STORE_MODULE, PROJECT_ROOT } from './support/children';
import { OpenStores } from './support/openStores';
import { readEverything } from '../support/readEverything';

let dir: string;
const stores = new OpenStores();
let children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chronoscope-repair-'));
  children = [];
});
afterEach(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(children.map((c) => exited(c)));
  await stores.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

const segPath = (name: string) => join(dir, 'segments', name);
const files = () => readdirSync(join(dir, 'segments')).sort();
const plainFiles = () => files().filter((n) => /^\d{12}\.jsonl$/.test(n));
const sealedFiles = () => files().filter((n) => /^\d{12}-\d{12}\.jsonl\.gz$/.test(n));
const open = (options: Partial<FileStoreOptions> = {}) => stores.open(dir, options);
const close = (s: FileStore) => stores.close(s);

let counter = 0;
function batch(n: number): EventInput[] {
  return Array.from({ length: n }, () => {
    const k = counter++;
    return {
      stream: `Order-${k % 5}`,
      type: ['OrderPlaced', 'OrderPaid', 'OrderShipped'][k % 3]!,
      tenant: k % 4 === 0 ? 't1' : undefined,
      tags: k % 3 === 0 ? ['vip'] : undefined,
      data: { k, note: `event ${k} — ünïcödé 😀`, pad: 'x'.repeat(40 + (k % 7) * 30) },
    };
  });
}

async function appendBatches(s: FileStore, sizes: number[]): Promise<StoredEvent[]> {
  const acked: StoredEvent[] = [];
  for (const n of sizes) acked.push(...(await s.append(batch(n))).events);
  return acked;
}

function thrown(fn: () => Promise<unknown>): Promise<unknown> {
  return fn().then(
    () => undefined,
    (err: unknown) => err,
  );
}

/** Byte offsets of each line of a plain segment. */
function lineOffsets(buf: Buffer): { offset: number; length: number }[] {
  const out: { offset: number; length: number }[] = [];
  for (let start = 0; start < buf.length;) {
    const nl = buf.indexOf(10, start);
    if (nl === -1) break;
    out.push({ offset: start, length: nl - start });
    start = nl + 1;
  }
  return out;
}

/**
 * The store after repair: verify clean except for exactly `lost` listed as information; every
 * acknowledged event outside `lost` present and unchanged (by seq, id and stream); lost seqs read as
 * absent; nothing else appears. Returns the next append's seq check.
 */
async function expectRepaired(s: FileStore, acked: StoredEvent[], lost: number[]): Promise<void> {
  const v = (await s.verify()) as FileVerifyReport;
  expect(v.issues).toEqual([]);
  expect(v.ok).toBe(true);
  const listed = (v.lost?.ranges ?? []).flatMap(([a, b]) =>
    Array.from({ length: b - a + 1 }, (_, i) => a + i),
  );
  expect(listed).toEqual([...lost].sort((a, b) => a - b));
  const lostSet = new Set(lost);
  const all = await readEverything(s);
  const expected = acked.filter((e) => !lostSet.has(e.seq));
  expect(all).toEqual(expected);
  for (const e of expected) {
    expect(await s.getBySeq(e.seq)).toEqual(e);
    expect(await s.getEvent(e.id)).toEqual(e);
  }
  for (const seq of lost) expect(await s.getBySeq(seq)).toBeUndefined();
  for (const stream of new Set(acked.map((e) => e.stream)))
    expect(await s.readStream(stream)).toEqual(expected.filter((e) => e.stream === stream));
  const types = await s.query({ types: ['OrderPaid'] }, { limit: 10_000 });
  expect(types.events).toEqual(expected.filter((e) => e.type === 'OrderPaid'));
  const next = await s.append(batch(1));
  expect(next.events[0]!.seq).toBe(Math.max(...acked.map((e) => e.seq), ...lost) + 1);
}

function lostSeqs(r: RepairReport): number[] {
  return r.lost.map((l) => l.seq);
}

// ---------------------------------------------------------------------------------------------

describe('repair: damaged lines in the active segment', () => {
  it('a flipped byte in the active segment: open names file and offset, repair keeps every intact event and names the lost seq', async () => {
    let s = await open();
    const acked = await appendBatches(s, [4, 6]);
    await close(s);
    const [active] = plainFiles();
    const buf = readFileSync(segPath(active!));
    const line5 = lineOffsets(buf)[4]!;
    const original = Buffer.from(buf.subarray(line5.offset, line5.offset + line5.length));
    buf[line5.offset + line5.length - 1] = 0x78; // the closing '}' becomes 'x': no longer JSON
    writeFileSync(segPath(active!), buf);

    const err = await thrown(() => FileStore.open(dir));
    expect(isChronoscopeError(err, 'CORRUPT'), String(err)).toBe(true);
    expect((err as Error).message).toContain(active!);
    expect((err as Error).message).toContain(`at byte ${line5.offset}`);
    expect((err as Error).message).toContain(`chronoscope repair ${dir}`);
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);

    const r = await FileStore.repair(dir);
    expect(r.changed).toBe(true);
    expect(lostSeqs(r)).toEqual([5]);
    expect(r.lostRanges).toBe('5');
    expect(r.lost[0]!.reason).toContain(`${active} at byte ${line5.offset}`);
    expect(r.damagedLines).toEqual([
      expect.objectContaining({ file: active, offset: line5.offset, length: line5.length, seq: 5 }),
    ]);
    expect(r.recoveredEvents).toBe(9);
    expect(r.quarantinedBytes).toBe(line5.length);
    const q = join(dir, r.quarantineFile!);
    expect(statSync(q).mode & 0o777).toBe(0o600);
    const rec = readFileSync(q, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { kind: string; offset?: number; bytes?: string })
      .find((x) => x.kind === 'damaged-line')!;
    expect(rec.offset).toBe(line5.offset);
    const damagedBytes = Buffer.from(original);
    damagedBytes[damagedBytes.length - 1] = 0x78;
    expect(Buffer.from(rec.bytes!, 'base64')).toEqual(damagedBytes);
    // One plain file per run of consecutive seqs: no file ever holds a gap.
    expect(plainFiles()).toEqual(['000000000001.jsonl', '000000000006.jsonl']);

    s = await open();
    await expectRepaired(s, acked, [5]);
    // The split runs seal like any other segment and stay verifiable.
    await s.sealActive();
    await close(s);
    s = await open();
    const v = await s.verify();
    expect(v.issues).toEqual([]);
    expect(await s.getBySeq(5)).toBeUndefined();
    expect(await s.getBySeq(6)).toEqual(acked[5]);
  });

  it('garbage inserted mid-file: repair quarantines it and loses nothing', async () => {
    let s = await open();
    const acked = await appendBatches(s, [3, 5]);
    await close(s);
    const [active] = plainFiles();
    const buf = readFileSync(segPath(active!));
    const at = lineOffsets(buf)[3]!.offset;
    const garbage = Buffer.from('\u0000\u00ffnot an event at all\n', 'latin1');
    writeFileSync(segPath(active!), Buffer.concat([buf.subarray(0, at), garbage, buf.subarray(at)]));
    expect(isChronoscopeError(await thrown(() => FileStore.open(dir)), 'CORRUPT')).toBe(true);

    const r = await FileStore.repair(dir);
    expect(r.lost).toEqual([]);
    expect(r.damagedLines).toEqual([
      expect.objectContaining({ file: active, offset: at, length: garbage.length - 1 }),
    ]);
    expect(r.quarantinedBytes).toBe(garbage.length - 1);
    s = await open();
    await expectRepaired(s, acked, []);
    expect(((await s.verify()) as FileVerifyReport).lost).toBeUndefined();
  });

  it('a truncated middle line (bytes cut, newline kept) loses exactly its seq; a later damaged last line reserves its seq', async () => {
    let s = await open();
    const acked = await appendBatches(s, [5, 5]);
    await close(s);
    const [active] = plainFiles();
    const buf = readFileSync(segPath(active!));
    const lines = lineOffsets(buf);
    const l6 = lines[5]!;
    const l10 = lines[9]!;
    const cut = Buffer.concat([
      buf.subarray(0, l6.offset + 30),
      buf.subarray(l6.offset + l6.length, l10.offset + 20),
      Buffer.from('\n'),
    ]);
    writeFileSync(segPath(active!), cut);

    const r = await FileStore.repair(dir);
    expect(lostSeqs(r)).toEqual([6, 10]);
    expect(r.damagedLines.map((d) => d.seq)).toEqual([6, 10]);
    s = await open();
    await expectRepaired(s, acked, [6, 10]);
  });

  it('repair needs the LOCK: it is refused while the store is open', async () => {
    const s = await open();
    await appendBatches(s, [2]);
    const err = await thrown(() => FileStore.repair(dir));
    expect(isChronoscopeError(err, 'LOCKED'), String(err)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------

/** Three sealed segments of 8 events (small gzip members, so one has several) and 2 hot events. */
async function threeSealedSegments(): Promise<StoredEvent[]> {
  const s = await open({ blockBytes: 700 });
  const acked: StoredEvent[] = [];
  for (let i = 0; i < 3; i++) {
    acked.push(...(await appendBatches(s, [5, 3])));
    await s.sealActive();
  }
  acked.push(...(await appendBatches(s, [2])));
  await close(s);
  expect(sealedFiles()).toEqual([
    '000000000001-000000000008.jsonl.gz',
    '000000000009-000000000016.jsonl.gz',
    '000000000017-000000000024.jsonl.gz',
  ]);
  return acked;
}

/** Start offsets of the gzip members of a blocked gzip file. */
function members(buf: Buffer): number[] {
  const out: number[] = [];
  for (let pos = 0; pos < buf.length; pos += buf.readUInt16LE(pos + 16) + 1) out.push(pos);
  return out;
}

describe('repair: damaged sealed segments', () => {
  it('a flipped byte inside a sealed segment: only the damaged member’s records are lost, the rest rewritten and readable', async () => {
    const acked = await threeSealedSegments();
    const damaged = '000000000009-000000000016.jsonl.gz';
    const buf = readFileSync(segPath(damaged));
    const m = members(buf);
    expect(m.length).toBeGreaterThan(3); // several data members + EOF
    const at = m[1]! + 40; // inside the second member's compressed data
    buf[at] = buf[at]! ^ 0x5a;
    writeFileSync(segPath(damaged), buf);
    let s = await open();
    const v = await s.verify();
    expect(v.issues.some((i) => i.file === damaged)).toBe(true);
    await close(s);

    const r = await FileStore.repair(dir);
    expect(r.sealed).toHaveLength(1);
    const sr = r.sealed[0]!;
    expect(sr.file).toBe(damaged);
    expect(sr.offset).toBe(m[1]);
    const lost = lostSeqs(r);
    expect(lost.length).toBeGreaterThan(0);
    expect(lost.length).toBeLessThan(8);
    expect(lost.every((x) => x > 9 && x < 16)).toBe(true); // first and last member intact
    expect(sr.lostEvents).toBe(lost.length);
    expect(sr.recoveredEvents).toBe(8 - lost.length);
    expect(sr.quarantinedAs).toMatch(/^quarantine\/000000000009-000000000016\.jsonl\.gz\.damaged-/);
    expect(existsSync(join(dir, sr.quarantinedAs!))).toBe(true);
    expect(existsSync(segPath(damaged))).toBe(false);
    expect(r.lost.every((l) => l.file === damaged && l.reason.includes(`at byte ${m[1]}`))).toBe(true);

    s = await open();
    await expectRepaired(s, acked, lost);
    const stats = await s.stats();
    expect(stats.types.OrderPaid).toBe(
      acked.filter((e) => e.type === 'OrderPaid' && !lost.includes(e.seq)).length,
    );
  });

  it('a truncated sealed segment: the records before the cut are recovered, the tail is lost and named', async () => {
    const acked = await threeSealedSegments();
    const damaged = '000000000017-000000000024.jsonl.gz';
    const size = statSync(segPath(damaged)).size;
    truncateSync(segPath(damaged), size - 120);
    const r = await FileStore.repair(dir);
    const lost = lostSeqs(r);
    expect(lost.length).toBeGreaterThan(0);
    expect(lost.at(-1)).toBe(24);
    expect(lost).toEqual(Array.from({ length: lost.length }, (_, i) => 25 - lost.length + i));
    expect(r.sealed[0]!.recoveredEvents).toBe(8 - lost.length);
    const s = await open();
    await expectRepaired(s, acked, lost);
  });

  it('a deleted sealed segment: all its seqs are recorded lost, its index entries removed, everything else intact', async () => {
    const acked = await threeSealedSegments();
    const gone = '000000000009-000000000016.jsonl.gz';
    unlinkSync(segPath(gone));
    const r = await FileStore.repair(dir);
    expect(r.lostRanges).toBe('9–16');
    expect(r.sealed).toEqual([
      expect.objectContaining({ file: gone, problem: 'file missing', recoveredEvents: 0, lostEvents: 8 }),
    ]);
    const s = await open();
    expect(s.report.problems).toEqual([]);
    await expectRepaired(s, acked, [9, 10, 11, 12, 13, 14, 15, 16]);
    const stats = await s.stats();
    expect(stats.events).toBe(acked.length - 8 + 1);
    // Key counts drop the lost events (taken from the deleted segment's postings in the catalogue).
    expect(stats.types.OrderPaid).toBe(
      acked.filter((e) => e.type === 'OrderPaid' && (e.seq < 9 || e.seq > 16)).length,
    );
    // Stream names outlive a repair (their catalogue rows carry no count to drop to zero).
    expect(stats.streams).toBe(new Set(acked.map((e) => e.stream)).size);
    await close(s);
    const db = new Database(join(dir, 'chronoscope.db'), { readonly: true });
    const sealed = acked.filter((e) => e.seq <= 24 && (e.seq < 9 || e.seq > 16));
    expect((db.prepare('SELECT count(*) AS n FROM keys WHERE kind = 0').get() as { n: number }).n).toBe(
      new Set(sealed.map((e) => e.stream)).size,
    );
    db.close();
  });

  it('a stream whose only events were lost leaves the catalogue; streams with events elsewhere stay', async () => {
    const s = await open({ blockBytes: 700 });
    await appendBatches(s, [8]);
    await s.sealActive();
    await s.append(Array.from({ length: 8 }, (_, k) => ({ stream: 'Lonely-1', type: 'Note', data: { k } })));
    await s.sealActive();
    await appendBatches(s, [8]);
    await s.sealActive();
    await close(s);
    unlinkSync(segPath('000000000009-000000000016.jsonl.gz'));
    await FileStore.repair(dir);
    const reopened = await open();
    const stats = await reopened.stats();
    expect(stats.events).toBe(16);
    expect(stats.streams).toBe(5);
    expect(await reopened.readStream('Lonely-1')).toEqual([]);
  });

  it('repair twice is a no-op: nothing changes on disk the second time', async () => {
    const acked = await threeSealedSegments();
    unlinkSync(segPath('000000000001-000000000008.jsonl.gz'));
    const active = plainFiles().at(-1)!;
    const buf = readFileSync(segPath(active));
    buf[lineOffsets(buf)[0]!.offset + 3] = 0x00;
    writeFileSync(segPath(active), buf);
    const first = await FileStore.repair(dir);
    expect(first.lostRanges).toBe('1–8, 25');
    const snapshot = () =>
      [...files(), ...readdirSync(join(dir, 'quarantine'))].map((n) => {
        const p = existsSync(segPath(n)) ? segPath(n) : join(dir, 'quarantine', n);
        return `${n}:${statSync(p).size}:${statSync(p).mtimeMs}`;
      });
    const before = snapshot();
    const second = await FileStore.repair(dir);
    expect(second.changed).toBe(false);
    expect(second.lost).toEqual([]);
    expect(second.knownLost).toBe(9);
    expect(snapshot()).toEqual(before);
    const s = await open();
    await expectRepaired(s, acked, [1, 2, 3, 4, 5, 6, 7, 8, 25]);
  });
});

// ---------------------------------------------------------------------------------------------

const CHILD_SOURCE = `
const [modulePath, root] = process.argv.slice(2);
const { FileStore } = await import(modulePath);
console.log('START');
const r = await FileStore.repair(root, { blockBytes: 700 });
console.log('DONE ' + r.lost.length);
process.exit(0);
`;

/** Runs a repair in a child; resolves `started` when it begins, so the parent can kill it mid-repair. */
function spawnRepair(script: string): { child: ChildProcess; started: Promise<void>; done: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', script, FILE_STORE_MODULE, dir], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let onStart: () => void = () => {};
  const started = new Promise<void>((r) => (onStart = r));
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (c: string) => {
    out += c;
    if (out.includes('START')) onStart();
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (c: string) => (out += c));
  const done = new Promise<string>((r) =>
    child.once('close', () => {
      onStart();
      r(out);
    }),
  );
  return { child, started, done };
}

describe('repair under kill -9', () => {
  it('a kill -9 during repair leaves a consistent store: a second repair finishes with the same lost seqs', async () => {
    // Many segments, several damaged, plus a damaged active segment: a repair with real work to do.
    const s0 = await open({ blockBytes: 700 });
    const acked: StoredEvent[] = [];
    for (let i = 0; i < 14; i++) {
      acked.push(...(await appendBatches(s0, [20, 20])));
      await s0.sealActive();
    }
    acked.push(...(await appendBatches(s0, [30])));
    await close(s0);
    const sealed = sealedFiles();
    unlinkSync(segPath(sealed[2]!));
    for (const n of [sealed[5]!, sealed[9]!]) {
      const b = readFileSync(segPath(n));
      const m = members(b);
      b[m[2]! + 30] ^= 0x5a;
      writeFileSync(segPath(n), b);
    }
    truncateSync(segPath(sealed[12]!), statSync(segPath(sealed[12]!)).size - 500);
    const active = plainFiles().at(-1)!;
    const buf = readFileSync(segPath(active));
    const ls = lineOffsets(buf);
    buf[ls[3]!.offset + 10] = 0x00;
    buf[ls[17]!.offset + ls[17]!.length - 1] = 0x21;
    writeFileSync(segPath(active), buf);

    // The reference: the same damage repaired without interruption.
    const template = `${dir}-template`;
    const reference = `${dir}-reference`;
    cpSync(dir, template, { recursive: true });
    cpSync(dir, reference, { recursive: true });
    const script = `${dir}-repair.mts`;
    writeFileSync(script, CHILD_SOURCE);
    try {
      const ref = await FileStore.repair(reference, { blockBytes: 700 });
      const refLost = lostSeqs(ref);
      expect(refLost.length).toBeGreaterThan(40);

      let killedMidway = 0;
      const ROUNDS = 6;
      for (let round = 0; round < ROUNDS; round++) {
        rmSync(dir, { recursive: true, force: true });
        cpSync(template, dir, { recursive: true });
        const c = spawnRepair(script);
        await c.started;
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 120)));
        c.child.kill('SIGKILL');
        const out = await c.done;
        if (!out.includes('DONE')) killedMidway++;
        // The interrupted store: a rerun finishes the job.
        await FileStore.repair(dir, { blockBytes: 700 });
        const s = await open();
        const v = (await s.verify()) as FileVerifyReport;
        expect(v.issues, `round ${round}`).toEqual([]);
        const listed = (v.lost?.ranges ?? []).flatMap(([a, b]) =>
          Array.from({ length: b - a + 1 }, (_, i) => a + i),
        );
        expect(listed, `round ${round}`).toEqual(refLost);
        const lostSet = new Set(refLost);
        expect(await readEverything(s), `round ${round}`).toEqual(acked.filter((e) => !lostSet.has(e.seq)));
        const next = await s.append(batch(1));
        expect(next.events[0]!.seq).toBe(Math.max(acked.at(-1)!.seq, ...refLost) + 1);
        await close(s);
        expect(files().filter((n) => n.endsWith('.tmp'))).toEqual([]);
      }
      console.info(`repair kill -9: ${ROUNDS} rounds, ${killedMidway} killed before the repair finished`);
    } finally {
      rmSync(template, { recursive: true, force: true });
      rmSync(reference, { recursive: true, force: true });
      rmSync(script, { force: true });
    }
  });
});
