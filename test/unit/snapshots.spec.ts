/**
 * SqliteSnapshotStore and openSnapshotStore: persistence in the store's chronoscope.db, code-hash
 * invalidation, the byte budget, read-only stores, damaged rows, and the index's recovery leaving
 * the table alone. The property test (test/conformance/snapshots.property.spec.ts) checks answers.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isChronoscopeError } from '../../src/shared/errors';
import type { EventInput } from '../../src/shared/event';
import { globalReducer, type Projection } from '../../src/shared/projection';
import { crc32 } from '../../src/main/engine/file/checksum';
import { FileStore } from '../../src/main/engine/file/FileStore';
import { MemoryStore } from '../../src/main/engine/memory/MemoryStore';
import { openSnapshotStore } from '../../src/main/engine/timetravel/openSnapshots';
import {
  MemorySnapshotStore,
  exactJson,
  snapshotKey,
  type SnapshotStore,
} from '../../src/main/engine/timetravel/snapshots';
import { SqliteSnapshotStore } from '../../src/main/engine/timetravel/sqliteSnapshots';
import { globalStateAt, streamStateAt } from '../../src/main/engine/timetravel/stateAt';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  vi.restoreAllMocks();
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'chronoscope-snap-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
};
const time = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
const log = (n: number, from = 0): EventInput[] =>
  Array.from({ length: n }, (_, j) => {
    const i = from + j;
    return {
      stream: `S-${i % 3}`,
      type: i % 4 ? 'Bump' : 'Set',
      time: time(i),
      data: { n: i, [`k${i % 5}`]: i },
    };
  });

async function fileStore(dir = tmp(), readOnly = false) {
  const s = await FileStore.open(dir, { segmentMaxBytes: 4096, readOnly });
  cleanups.push(() => s.close());
  return s;
}
async function snaps(store: FileStore | MemoryStore, options: Parameters<typeof openSnapshotStore>[1] = {}) {
  const s = await openSnapshotStore(store, options);
  cleanups.push(() => s.close());
  return s;
}
const rowsIn = (dir: string) => {
  const db = new Database(join(dir, 'chronoscope.db'), { readonly: true });
  try {
    return db.prepare(`SELECT count(*) AS n, coalesce(max(used), 0) AS used FROM snapshots_v1`).get() as {
      n: number;
      used: number;
    };
  } finally {
    db.close();
  }
};
const every = (n: number) => ({ kind: 'count' as const, every: n });

describe('openSnapshotStore', () => {
  it('keeps a file store’s snapshots in its chronoscope.db, and a memory store’s in memory', async () => {
    const dir = tmp();
    const file = await fileStore(dir);
    expect(await snaps(file)).toBeInstanceOf(SqliteSnapshotStore);
    expect(rowsIn(dir).n).toBe(0);
    expect(await snaps(new MemoryStore())).toBeInstanceOf(MemorySnapshotStore);
  });

  it('rejects a bad strategy, naming the field', async () => {
    const store = new MemoryStore();
    const err = await openSnapshotStore(store, { strategy: { kind: 'count', every: 0 } }).catch((e) => e);
    expect(isChronoscopeError(err, 'INVALID_ARGUMENT')).toBe(true);
    expect(err.message).toContain('snapshots.strategy.every');
    const t = await openSnapshotStore(store, { globalStrategy: { kind: 'time', intervalMs: 1.5 } }).catch(
      (e) => e,
    );
    expect(t.details).toEqual({ field: 'snapshots.globalStrategy.intervalMs' });
    const k = await openSnapshotStore(store, { strategy: { kind: 'often' } as never }).catch((e) => e);
    expect(k.message).toContain('snapshots.strategy.kind');
    const b = await openSnapshotStore(await fileStore(), { maxBytes: -1 }).catch((e) => e);
    expect(b.details).toEqual({ field: 'snapshots.maxBytes' });
  });
});

describe('SqliteSnapshotStore', () => {
  it('survives closing and reopening the store, and the index’s rebuild', async () => {
    const dir = tmp();
    let store = await fileStore(dir);
    await store.append(log(60));
    let s = await snaps(store, { globalStrategy: every(10), strategy: every(5) });
    await globalStateAt(store, {}, undefined, { snapshots: s });
    await streamStateAt(store, 'S-1', {}, undefined, { snapshots: s });
    expect(s.size()).toBe(6 + 4);
    await s.close();
    await store.close();
    store = await fileStore(dir);
    await store.rebuildIndex();
    s = await snaps(store, { globalStrategy: every(10) });
    expect(s.size()).toBe(10);
    const r = await globalStateAt(store, { seq: 37 }, undefined, { snapshots: s });
    expect(r).toMatchObject({ fromSnapshot: 30, folded: 7 });
    expect(r.state).toEqual((await globalStateAt(store, { seq: 37 })).state);
  });

  it('is lost, not trusted, when the index moves a damaged database aside', async () => {
    const dir = tmp();
    const store = await fileStore(dir);
    await store.append(log(30));
    const s = await snaps(store, { globalStrategy: every(10) });
    await globalStateAt(store, {}, undefined, { snapshots: s });
    await s.close();
    await store.close();
    // A foreign format makes recovery move chronoscope.db aside and rebuild from the segments.
    const db = new Database(join(dir, 'chronoscope.db'));
    db.prepare(`UPDATE meta SET value = '1' WHERE key = 'format'`).run();
    db.close();
    const again = await fileStore(dir);
    expect(again.report.rebuiltIndex).toBe(true);
    expect(readdirSync(dir).some((n) => n.includes('.damaged-'))).toBe(true);
    const fresh = await snaps(again);
    expect(fresh.size()).toBe(0);
    expect((await globalStateAt(again, { seq: 25 }, undefined, { snapshots: fresh })).state.events).toBe(25);
  });

  it('drops the rows of other code when a projection’s code changes', async () => {
    const store = await fileStore();
    await store.append(log(40));
    const s = await snaps(store, { globalStrategy: every(10) });
    await globalStateAt(store, {}, undefined, { snapshots: s });
    const other: Projection<unknown> = { ...globalReducer, name: 'other', codeHash: 'o1' } as never;
    await globalStateAt(store, {}, other, { snapshots: s });
    expect((await s.stats()).perProjection).toEqual({
      'generic-global': { rows: 4, bytes: expect.any(Number), codeHashes: 1 },
      other: { rows: 4, bytes: expect.any(Number), codeHashes: 1 },
    });
    // v2 of generic-global: its first put drops v1's rows; `other` is untouched.
    const v2 = { ...globalReducer, codeHash: 'builtin:generic-global@2' };
    const r = await globalStateAt(store, { seq: 35 }, v2, { snapshots: s });
    expect(r.fromSnapshot).toBeUndefined();
    const st = await s.stats();
    expect(st.perProjection['generic-global']).toMatchObject({ rows: 3, codeHashes: 1 });
    expect(st.perProjection.other!.rows).toBe(4);
    expect(await s.invalidate('other', 'o2')).toBe(4);
    expect(await s.invalidate('generic-global')).toBe(3);
    expect(s.size()).toBe(0);
  });

  it('does not persist a projection without a code hash', async () => {
    const store = await fileStore();
    await store.append(log(20));
    const s = await snaps(store, { globalStrategy: every(5) });
    const { codeHash: _h, ...unversioned } = globalReducer;
    await globalStateAt(store, {}, unversioned, { snapshots: s });
    expect(s.size()).toBe(0);
    expect((await s.stats()).skipped).toBe(4);
  });

  it('stays within its byte budget, evicting the least recently used rows first', async () => {
    const dir = tmp();
    const path = join(dir, 'snap.db');
    let now = 1_000_000;
    vi.spyOn(Date, 'now').mockImplementation(() => (now += 10_000));
    const s = SqliteSnapshotStore.open(path, { maxBytes: 20_000, maxStateBytes: 5_000 });
    cleanups.push(() => s.close());
    const key = snapshotKey(globalReducer as Projection<unknown>, '*');
    const state = { pad: 'x'.repeat(900) };
    for (let seq = 1; seq <= 10; seq++) await s.put(key, { seq, state });
    // Reading seq 1 makes it recent: the eviction at the 20th row (1,038 bytes each) takes 2, 3, 4.
    expect((await s.nearest(key, 1))?.seq).toBe(1);
    for (let seq = 11; seq <= 20; seq++) await s.put(key, { seq, state });
    expect(await s.stats()).toMatchObject({ rows: 17, evicted: 3 });
    expect((await s.nearest(key, 4))?.seq).toBe(1);
    expect((await s.nearest(key, 5))?.seq).toBe(5);
    for (let seq = 21; seq <= 60; seq++) await s.put(key, { seq, state });
    const st = await s.stats();
    expect(st.bytes).toBeLessThanOrEqual(20_000);
    expect(st.rows + st.evicted).toBe(60);
    expect((await s.nearest(key, 60))?.seq).toBe(60);
    // Too big for one row: skipped, nothing evicted for it.
    await s.put(key, { seq: 61, state: { pad: 'y'.repeat(6_000) } });
    expect((await s.stats()).skipped).toBe(1);
    expect((await s.nearest(key, 61))?.seq).toBe(60);
  });

  it('never trusts a damaged row (bad JSON, bad checksum) or one whose event changed; drops it', async () => {
    const dir = tmp();
    const store = await fileStore(dir);
    await store.append(log(50));
    const s = await snaps(store, { globalStrategy: every(10) });
    await globalStateAt(store, {}, undefined, { snapshots: s });
    const db = new Database(join(dir, 'chronoscope.db'));
    cleanups.push(() => {
      db.close();
    });
    const key = (seq: number) =>
      db.prepare(`SELECT id FROM snapshots_v1 WHERE seq = ?`).get(seq) as { id: number };
    // seq 40: JSON broken but the checksum matches it; seq 30: checksum broken; seq 20: another event id.
    const bad = '{"events": 40, oops';
    db.prepare(`UPDATE snapshots_v1 SET state = ?, crc = ? WHERE id = ?`).run(bad, crc32(bad), key(40).id);
    db.prepare(`UPDATE snapshots_v1 SET state = replace(state, '30', '31') WHERE id = ?`).run(key(30).id);
    db.prepare(`UPDATE snapshots_v1 SET pos = json_set(pos, '$.eventId', 'nope') WHERE id = ?`).run(
      key(20).id,
    );
    const plain = await globalStateAt(store, { seq: 45 });
    const r = await globalStateAt(store, { seq: 45 }, undefined, { snapshots: s });
    expect(r.state).toEqual(plain.state);
    expect(r.position).toEqual(plain.position);
    expect(r.fromSnapshot).toBe(10);
    expect((await s.stats()).damaged).toBe(3);
    // The fold from 10 re-took 20, 30 and 40 (every 10 events), now from the log itself.
    const rows = db.prepare(`SELECT seq, pos, state FROM snapshots_v1 ORDER BY seq`).all() as {
      seq: number;
      pos: string;
      state: string;
    }[];
    expect(rows.map((x) => x.seq)).toEqual([10, 20, 30, 40, 50]);
    for (const x of rows) {
      expect(JSON.parse(x.state)).toEqual((await globalStateAt(store, { seq: x.seq })).state);
      expect(JSON.parse(x.pos).eventId).toBe((await store.getBySeq(x.seq))!.id);
    }
  });

  it('a read-only store answers from existing snapshots and never writes', async () => {
    const dir = tmp();
    const writer = await fileStore(dir);
    const reader = await fileStore(dir, true); // before any snapshot table exists
    const early = await snaps(reader);
    await writer.append(log(40));
    await reader.refresh();
    expect(await globalStateAt(reader, { seq: 30 }, undefined, { snapshots: early })).not.toHaveProperty(
      'fromSnapshot',
    );
    const w = await snaps(writer, { globalStrategy: every(10), strategy: every(3) });
    await globalStateAt(writer, {}, undefined, { snapshots: w });
    await streamStateAt(writer, 'S-2', {}, undefined, { snapshots: w });
    const before = rowsIn(dir);
    for (const ro of [early, await snaps(reader)]) {
      const g = await globalStateAt(reader, { seq: 33 }, undefined, { snapshots: ro, probe: true });
      expect(g).toMatchObject({ fromSnapshot: 30, folded: 3 });
      expect(g.state).toEqual((await globalStateAt(reader, { seq: 33 })).state);
      const st = await streamStateAt(reader, 'S-2', { version: 8 }, undefined, {
        snapshots: ro,
        probe: true,
      });
      expect(st.fromSnapshot).toBeDefined();
      expect(st.state).toEqual((await streamStateAt(reader, 'S-2', { version: 8 })).state);
      expect(ro.wants('fold', 10)).toBe(false);
      expect(await ro.invalidate('generic-global', 'other')).toBe(0);
      const stats = await ro.stats();
      expect(stats).toMatchObject({ readOnly: true, puts: 0, writeErrors: 0 });
    }
    expect(rowsIn(dir)).toEqual(before);
  });

  it('a missing store database is an error for a read-only snapshot store', () => {
    const err = (() => {
      try {
        SqliteSnapshotStore.open(join(tmp(), 'none.db'), { readOnly: true });
      } catch (e) {
        return e;
      }
    })();
    expect(isChronoscopeError(err, 'IO_ERROR')).toBe(true);
  });

  it('skips states JSON cannot give back exactly', async () => {
    expect(exactJson({ a: [1, 'x', null, { b: true }] })).toBe('{"a":[1,"x",null,{"b":true}]}');
    for (const v of [
      { a: undefined },
      { a: NaN },
      { a: -0 },
      { d: new Date(0) },
      Object.assign(new Array(3), { 0: 1, 2: 2 }),
      new Map(),
      1n,
    ])
      expect(exactJson(v)).toBeUndefined();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(exactJson(cyclic)).toBeUndefined();
    const store = await fileStore();
    await store.append(log(20));
    const s = await snaps(store, { strategy: every(1) });
    const withDate: Projection<{ at: Date | null }> = {
      name: 'dated',
      scope: 'stream',
      codeHash: 'd1',
      init: () => ({ at: null }),
      apply: (_s, e) => ({ at: new Date(e.time) }),
    };
    const r = await streamStateAt(store, 'S-0', {}, withDate, { snapshots: s });
    expect(r.state.at).toBeInstanceOf(Date);
    expect(s.size()).toBe(0);
    const again = await streamStateAt(store, 'S-0', {}, withDate, { snapshots: s });
    expect(again.state.at).toBeInstanceOf(Date);
  });

  it('time strategy: a snapshot at the first event of each later time bucket, the same from any base', async () => {
    const store = await fileStore();
    await store.append(log(50)); // one event a minute
    const tenMin = { kind: 'time' as const, intervalMs: 600_000 };
    const a = await snaps(store, { globalStrategy: tenMin });
    await globalStateAt(store, {}, undefined, { snapshots: a });
    const db = new Database(join(store.path, 'chronoscope.db'), { readonly: true });
    cleanups.push(() => {
      db.close();
    });
    const seqs = () => db.prepare(`SELECT seq FROM snapshots_v1 ORDER BY seq`).pluck().all();
    expect(seqs()).toEqual([11, 21, 31, 41]); // events 10, 20, ... (0-based) open a new 10-minute bucket
    await a.dropFrom(21);
    expect(seqs()).toEqual([11]);
    await globalStateAt(store, {}, undefined, { snapshots: a }); // folds from 11, same boundaries
    expect(seqs()).toEqual([11, 21, 31, 41]);
  });

  it('adaptive: every probe that folded at least minFold events, plus a sparse count', async () => {
    const store = await fileStore();
    await store.append(log(60));
    const s: SnapshotStore = await snaps(store, {
      globalStrategy: { kind: 'adaptive', every: 25, minFold: 5 },
    });
    await globalStateAt(store, { seq: 3 }, undefined, { snapshots: s, probe: true }); // 3 < minFold
    expect(s.size()).toBe(0);
    await globalStateAt(store, { seq: 30 }, undefined, { snapshots: s, probe: true });
    expect(s.size()).toBe(2); // count boundary at 25, probe at 30
    const r = await globalStateAt(store, { seq: 32 }, undefined, { snapshots: s, probe: true });
    expect(r).toMatchObject({ fromSnapshot: 30, folded: 2 });
    expect(s.size()).toBe(2);
  });

  it('counts a failed write (database busy) instead of failing the fold', async () => {
    const dir = tmp();
    const store = await fileStore(dir);
    await store.append(log(20));
    const s = await snaps(store, { globalStrategy: every(5), busyTimeoutMs: 20 });
    const other = new Database(join(dir, 'chronoscope.db'));
    cleanups.push(() => {
      other.close();
    });
    other.exec('BEGIN IMMEDIATE'); // another writer holds the lock past the busy timeout
    const r = await globalStateAt(store, {}, undefined, { snapshots: s });
    other.exec('ROLLBACK');
    expect(r.state).toEqual((await globalStateAt(store, {})).state);
    const st = await s.stats();
    expect(st.writeErrors).toBeGreaterThanOrEqual(4);
    expect(st.lastError).toMatch(/locked|busy/i);
    expect(s.size()).toBe(0);
    await globalStateAt(store, {}, undefined, { snapshots: s });
    expect(s.size()).toBe(4);
  });
});
