import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../../src/main/engine/file/FileStore';
import { keyHash, keyHash32 } from '../../src/main/engine/file/keyHash';
import { SqliteIndex } from '../../src/main/engine/file/SqliteIndex';
import { ID_TABLE_SHARE } from '../../src/main/engine/file/SealedTier';
import { MAX_UNREAD_SEALED } from '../../src/main/engine/file/indexCache';
import type { EventInput, StoredEvent } from '../../src/shared/event';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chronoscope-ixcache-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const SEGMENTS = 24;
const PER_SEGMENT = 60;
/** Room for about three of the built store's segment indexes (their size, measured with all resident). */
async function threeIndexes(): Promise<number> {
  const store = await FileStore.open(dir, { readOnly: true });
  const { bytes, size } = store.indexCacheStats();
  await store.close();
  expect(size).toBe(SEGMENTS);
  return Math.floor((3.5 * bytes) / size);
}

function batch(seg: number): EventInput[] {
  return Array.from({ length: PER_SEGMENT }, (_, i) => {
    const k = seg * PER_SEGMENT + i;
    return {
      id: `evt-${k}`,
      stream: `S-${k % 13}`,
      type: k % 3 ? 'A' : 'B',
      actor: `actor-${k % 5}`,
      time: new Date(Date.UTC(2026, 0, 1) + k * 60_000).toISOString(),
      data: { k },
    };
  });
}

/** A store of SEGMENTS sealed segments (one per batch). */
async function build(): Promise<void> {
  const store = await FileStore.open(dir, { sealInWorker: false });
  for (let s = 0; s < SEGMENTS; s++) {
    await store.append(batch(s));
    await store.sealActive();
  }
  await store.close();
}

/** Everything a reader can ask the sealed tier, in one comparable value. */
async function answers(store: FileStore) {
  const all: StoredEvent[] = [];
  for (let cursor: string | undefined, first = true; first || cursor; first = false) {
    const page = await store.query({}, { limit: 100, cursor });
    all.push(...page.events);
    cursor = page.nextCursor;
  }
  const desc = await store.query({ types: ['B'], actor: 'actor-2' }, { order: 'desc', limit: 50 });
  const timed = await store.query({
    since: new Date(Date.UTC(2026, 0, 1) + 300 * 60_000).toISOString(),
    until: new Date(Date.UTC(2026, 0, 1) + 900 * 60_000).toISOString(),
  });
  const byId = await Promise.all([0, 77, 500, 1439].map((k) => store.getEvent(`evt-${k}`)));
  const bySeq = await Promise.all([1, 61, 1000].map((s) => store.getBySeq(s)));
  return {
    all,
    desc: desc.events,
    timed: timed.events,
    byId,
    bySeq,
    stream: await store.readStream('S-4'),
    readAll: await store.readAll(100, 500),
    histogram: await store.histogram({ stream: 'S-1' }, { buckets: 12 }),
    missing: await store.getEvent('evt-none'),
  };
}

describe('sealed segment indexes in a bounded LRU', () => {
  it('answers every query as with every index resident, never holding more than the budget', async () => {
    await build();
    const big = await FileStore.open(dir, { readOnly: true });
    const expected = await answers(big);
    expect(big.indexCacheStats().size).toBe(SEGMENTS);
    await big.close();
    expect(expected.all).toHaveLength(SEGMENTS * PER_SEGMENT);
    expect(expected.byId.every((e) => e !== undefined)).toBe(true);

    const BUDGET = await threeIndexes();
    const small = await FileStore.open(dir, { readOnly: true, indexCacheBytes: BUDGET });
    const loadsAtOpen = small.indexCacheStats().loads;
    expect(loadsAtOpen).toBe(SEGMENTS); // every index read once at open, for its ids
    expect(small.indexCacheStats().bytes).toBeLessThanOrEqual(BUDGET);
    expect(small.indexCacheStats().size).toBeLessThan(SEGMENTS / 4);
    expect(await answers(small)).toEqual(expected);
    // Evicted indexes were read again, and the cache stayed within its budget.
    expect(small.indexCacheStats().loads).toBeGreaterThan(loadsAtOpen);
    expect(small.indexCacheStats().bytes).toBeLessThanOrEqual(BUDGET);
    expect(await answers(small)).toEqual(expected);
    expect((await small.verify()).ok).toBe(true);
    await small.close();
  });

  it('charges the id table to the same budget: cached indexes give way to ids', async () => {
    await build();
    const room = await threeIndexes();
    const probe = await FileStore.open(dir, { readOnly: true });
    const { idBytes } = probe.indexCacheStats();
    const expected = await answers(probe);
    await probe.close();
    expect(idBytes).toBeGreaterThanOrEqual(4 * SEGMENTS * PER_SEGMENT);

    const roomy = await FileStore.open(dir, { readOnly: true, indexCacheBytes: idBytes + room });
    expect(await answers(roomy)).toEqual(expected);
    const r = roomy.indexCacheStats();
    expect(r.size).toBe(3);
    expect(r.bytes + r.idBytes).toBeLessThanOrEqual(idBytes + room);
    await roomy.close();

    // The same budget without room for the ids: only the index in use stays.
    const tight = await FileStore.open(dir, { readOnly: true, indexCacheBytes: Math.min(room, idBytes) });
    expect(await answers(tight)).toEqual(expected);
    expect(tight.indexCacheStats().size).toBeLessThanOrEqual(1);
    await tight.close();
  });

  it('a seal hands its index to the store: the catalogue blob is not read back, in the worker or not', async () => {
    const reads = vi.spyOn(SqliteIndex.prototype, 'segmentBlob');
    try {
      for (const sealInWorker of [true, false]) {
        reads.mockClear();
        const store = await FileStore.open(join(dir, String(sealInWorker)), { sealInWorker });
        for (let s = 0; s < 3; s++) {
          await store.append(batch(s));
          await store.sealActive();
        }
        expect(reads).not.toHaveBeenCalled();
        expect(store.indexCacheStats().size).toBe(MAX_UNREAD_SEALED);
        expect((await store.getEvent(`evt-${PER_SEGMENT + 7}`))?.data).toEqual({ k: PER_SEGMENT + 7 });
        expect(await store.readStream('S-4')).toHaveLength(14);
        await store.close();
      }
    } finally {
      reads.mockRestore();
    }
  });

  it('a write-only run keeps only the newest sealed indexes; one that a read used stays as any other', async () => {
    const store = await FileStore.open(dir, { sealInWorker: false });
    for (let s = 0; s < 8; s++) {
      await store.append(batch(s));
      await store.sealActive();
    }
    expect(store.indexCacheStats().size).toBe(MAX_UNREAD_SEALED);
    const bytesOfFew = store.indexCacheStats().bytes;
    // A read of the newest segment makes its index an ordinary entry: later seals do not push it out.
    expect((await store.getEvent(`evt-${7 * PER_SEGMENT + 3}`))?.seq).toBe(7 * PER_SEGMENT + 4);
    for (let s = 8; s < 12; s++) {
      await store.append(batch(s));
      await store.sealActive();
    }
    expect(store.indexCacheStats().size).toBe(MAX_UNREAD_SEALED + 1);
    expect(store.indexCacheStats().bytes).toBeLessThan(2 * bytesOfFew);
    const loads = store.indexCacheStats().loads;
    expect((await store.getEvent(`evt-${7 * PER_SEGMENT + 5}`))?.seq).toBe(7 * PER_SEGMENT + 6);
    expect(store.indexCacheStats().loads).toBe(loads);
    await store.close();
  });

  it('a budget smaller than one index still answers (the index in use is kept)', async () => {
    await build();
    const store = await FileStore.open(dir, { readOnly: true, indexCacheBytes: 0 });
    expect(store.indexCacheStats().size).toBe(1);
    const e = await store.getEvent('evt-5');
    expect(e?.seq).toBe(6);
    expect((await store.readStream('S-0')).length).toBe(Math.ceil((SEGMENTS * PER_SEGMENT) / 13));
    await store.close();
  });

  it('the first append to a new stream reads no segment index; an existing stream continues its versions', async () => {
    await build();
    const store = await FileStore.open(dir, { sealInWorker: false, indexCacheBytes: 0 });
    const before = store.indexCacheStats().loads;
    const fresh = await store.append([{ stream: 'Brand-new-1', type: 'A', data: {} }]);
    expect(fresh.events[0]!.version).toBe(1);
    expect(store.indexCacheStats().loads).toBe(before);
    // S-0 holds every 13th event of the build: its next version follows its last sealed one.
    const old = await store.append([{ stream: 'S-0', type: 'A', data: {} }]);
    expect(old.events[0]!.version).toBe(Math.ceil((SEGMENTS * PER_SEGMENT) / 13) + 1);
    await store.close();
  });

  it('detects a duplicate id whose segment index was evicted, after sealing and after reopening', async () => {
    await build();
    const BUDGET = await threeIndexes();
    const check = async (s: FileStore) => {
      const before = s.indexCacheStats().loads;
      // The first segment's index was evicted long ago: the id table routes the check to it.
      await expect(s.append([{ ...batch(0)[3]!, type: 'Other' }])).rejects.toMatchObject({
        code: 'DUPLICATE_ID',
      });
      const again = await s.append([batch(0)[3]!]);
      expect(again.events[0]!.seq).toBe(4);
      expect(s.indexCacheStats().loads).toBeGreaterThan(before);
      expect(s.indexCacheStats().bytes).toBeLessThanOrEqual(BUDGET);
    };
    // After reopening: the id table was built from every index at open.
    const store = await FileStore.open(dir, { sealInWorker: false, indexCacheBytes: BUDGET });
    await check(store);
    // After sealing more: the table grew segment by segment.
    for (let s = SEGMENTS; s < SEGMENTS + 6; s++) {
      await store.append(batch(s));
      await store.sealActive();
      const last = batch(s)[PER_SEGMENT - 1]!;
      await expect(store.append([{ ...last, stream: 'elsewhere' }])).rejects.toMatchObject({
        code: 'DUPLICATE_ID',
      });
    }
    await check(store);
    expect(store.lastSeq()).toBe((SEGMENTS + 6) * PER_SEGMENT);
    await store.close();
  });

  it('past its share of the budget the id table keeps its ids in an unlinked file: duplicates and ids are still found', async () => {
    await build();
    // 4 bytes an id: the table's share of this budget holds 900 ids, so most go to the file; none
    // of it shows in the store's folder.
    const BUDGET = (4 * 900) / ID_TABLE_SHARE;
    const store = await FileStore.open(dir, { sealInWorker: false, indexCacheBytes: BUDGET });
    await vi.waitFor(() => expect(store.indexCacheStats().idsSpilled).toBe(SEGMENTS * PER_SEGMENT));
    // New segments' ids stay in memory until they pass the table's share (900 ids), then all move.
    for (let s = SEGMENTS; s < SEGMENTS + 16; s++) {
      await store.append(batch(s));
      await store.sealActive();
      if (s === SEGMENTS + 8) expect(store.indexCacheStats().idsSpilled).toBe(SEGMENTS * PER_SEGMENT);
    }
    await vi.waitFor(() => expect(store.indexCacheStats().idsSpilled).toBe((SEGMENTS + 16) * PER_SEGMENT));
    expect(readdirSync(join(dir, 'segments')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    for (const k of [0, 5, 700, (SEGMENTS + 15) * PER_SEGMENT + 59]) {
      const e = batch(Math.floor(k / PER_SEGMENT))[k % PER_SEGMENT]!;
      expect((await store.getEvent(e.id!))?.data).toEqual({ k });
      await expect(store.append([{ ...e, type: 'Other' }])).rejects.toMatchObject({ code: 'DUPLICATE_ID' });
      expect((await store.append([e])).duplicates).toBe(1);
    }
    expect(await store.getEvent('evt-none')).toBeUndefined();
    await store.close();
  });

  it('the append path reads an evicted index for a duplicate check without caching it', async () => {
    await build();
    const BUDGET = await threeIndexes();
    const store = await FileStore.open(dir, { sealInWorker: false, indexCacheBytes: BUDGET });
    const cached = store.indexCacheStats();
    // batch(0) lies in the first segment, whose index the budget evicted long ago.
    for (let k = 1; k <= 2; k++) {
      const again = await store.append([batch(0)[3]!]);
      expect(again.duplicates).toBe(1);
      const now = store.indexCacheStats();
      expect(now.loads).toBe(cached.loads + k);
      expect([now.size, now.bytes]).toEqual([cached.size, cached.bytes]);
    }
    // A reader's look keeps it, as before.
    expect((await store.getEvent(batch(0)[3]!.id!))?.seq).toBe(4);
    expect(store.indexCacheStats().loads).toBe(cached.loads + 3);
    expect((await store.getEvent(batch(0)[3]!.id!))?.seq).toBe(4);
    expect(store.indexCacheStats().loads).toBe(cached.loads + 3);
    await store.close();
  });

  it('an id whose 32-bit hash collides with a sealed id is new, and is told apart without reading that index', async () => {
    // Two ids with equal 32-bit hashes (what the segment postings store) but different full hashes.
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const id = `c-${i}`;
      const other = seen.get(keyHash32(id));
      if (other !== undefined && keyHash(other) !== keyHash(id)) pair = [other, id];
      else seen.set(keyHash32(id), id);
    }
    const [a, b] = pair;
    // Only the newest index stays cached: a look into a's segment would read it again.
    const store = await FileStore.open(dir, { sealInWorker: false, indexCacheBytes: 0 });
    await store.append([{ id: a, stream: 'S', type: 'T', data: {} }]);
    await store.sealActive();
    for (let s = 0; s < 3; s++) {
      await store.append(batch(s));
      await store.sealActive();
    }
    const loads = store.indexCacheStats().loads;
    const r = await store.append([{ id: b, stream: 'S', type: 'T', data: { b: true } }]);
    expect(r.events[0]!.seq).toBe(1 + 3 * PER_SEGMENT + 1);
    expect(store.indexCacheStats().loads).toBe(loads);
    expect((await store.getEvent(a))?.seq).toBe(1);
    expect((await store.getEvent(b))?.data).toEqual({ b: true });
    await store.close();
  });
});
