import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventInput, StoredEvent } from '../../src/shared/event';
import {
  globalReducer,
  parseStatePredicate,
  streamReducer,
  type Projection,
} from '../../src/shared/projection';
import { jsonEqual } from '../../src/shared/query';
import { registerTimeTravelCommands } from '../../src/main/cli/timetravelCommands';
import { createDemoStore } from '../../src/main/engine/demo/createDemoStore';
import { createShop } from '../../src/main/engine/demo/shop';
import { FileStore } from '../../src/main/engine/file/FileStore';
import { MemoryStore } from '../../src/main/engine/memory/MemoryStore';
import { bisectAnyStream, bisectGlobal, bisectStream } from '../../src/main/engine/timetravel/bisect';
import { MemorySnapshotStore, snapshotKey } from '../../src/main/engine/timetravel/snapshots';
import { globalStateAt, streamStateAt } from '../../src/main/engine/timetravel/stateAt';
import type { EventStore } from '../../src/main/engine/types';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'chronoscope-tt-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const time = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
/** Order-1 and Order-2 interleaved; Order-1's total goes 100, 80, 60, ... and below zero at its version 7. */
function orderLog(n = 40): EventInput[] {
  const out: EventInput[] = [];
  for (let i = 0; i < n; i++) {
    const stream = i % 2 === 0 ? 'Order-1' : 'Order-2';
    const v = Math.floor(i / 2) + 1;
    const data =
      stream === 'Order-1'
        ? { total: 100 - 20 * (v - 1), pad: 'x'.repeat(200) }
        : { total: 50, note: `n${v}` };
    out.push({ stream, type: v === 1 ? 'OrderPlaced' : 'RefundIssued', time: time(i), data, tenant: 'acme' });
  }
  return out;
}
const fold = <S>(p: Projection<S>, events: StoredEvent[]) => events.reduce((s, e) => p.apply(s, e), p.init());

async function checkStateAt(store: EventStore) {
  const all = await store.readAll(1, 10_000);
  const o1 = all.filter((e) => e.stream === 'Order-1');
  // by seq: the state after the last Order-1 event with seq ≤ 10
  const bySeq = await streamStateAt(store, 'Order-1', { seq: 10 });
  expect(bySeq.state).toEqual(
    fold(
      streamReducer,
      o1.filter((e) => e.seq <= 10),
    ),
  );
  expect(bySeq.position).toMatchObject({ seq: 9, version: 5, eventId: o1[4]!.id });
  // by version
  const byVersion = await streamStateAt(store, 'Order-1', { version: 3 });
  expect(byVersion.state).toEqual(fold(streamReducer, o1.slice(0, 3)));
  expect(byVersion.folded).toBe(3);
  // by time: the prefix of events at or before T
  const byTime = await streamStateAt(store, 'Order-1', { time: time(6) });
  expect(byTime.state).toEqual(fold(streamReducer, o1.slice(0, 4)));
  // global by seq and time
  const g = await globalStateAt(store, { seq: 25 });
  expect(g.state).toEqual(fold(globalReducer, all.slice(0, 25)));
  expect((await globalStateAt(store, { time: time(29) })).state).toEqual(
    fold(globalReducer, all.slice(0, 30)),
  );
  expect((await globalStateAt(store, {})).state.events).toBe(all.length);
  // before any event
  expect((await streamStateAt(store, 'Order-1', { seq: 0 })).position).toEqual({ seq: 0, version: 0 });
}

describe('state at a position', () => {
  it('folds a stream or the log by seq, time and version on the memory store', async () => {
    const store = new MemoryStore();
    await store.append(orderLog());
    await checkStateAt(store);
  });

  it('reads across sealed segments on the file store', async () => {
    const store = await FileStore.open(tmp(), { segmentMaxBytes: 1024, create: true });
    try {
      for (const e of orderLog()) await store.append([e]);
      await store.flushSeals();
      expect((await store.stats()).storage.sealedSegments).toBeGreaterThan(2);
      await checkStateAt(store);
    } finally {
      await store.close();
    }
  });

  it('rejects bad positions and names the event a projection threw on', async () => {
    const store = new MemoryStore();
    await store.append(orderLog(6));
    await expect(streamStateAt(store, 'Order-1', { seq: -1 })).rejects.toThrow(/position.seq/);
    await expect(streamStateAt(store, 'Order-1', { time: 'yesterday' })).rejects.toThrow(/position.time/);
    await expect(globalStateAt(store, { version: 2 })).rejects.toThrow(/applies to one stream/);
    const boom: Projection<number> = {
      name: 'boom',
      scope: 'stream',
      init: () => 0,
      apply: (s, e) => {
        if (e.version === 2) throw new Error('kaput');
        return s + 1;
      },
    };
    const err = await streamStateAt(store, 'Order-1', {}, boom).catch((e: unknown) => e);
    expect(String(err)).toMatch(/projection boom threw at seq 3 \(RefundIssued Order-1 v2, id .+\): kaput/);
    expect((err as { details: { stack: string } }).details.stack).toContain('kaput');
  });

  it('stops between pages when cancelled and reports progress', async () => {
    const store = new MemoryStore();
    await store.append(orderLog(40));
    const progress: number[] = [];
    const r = await globalStateAt(store, {}, undefined, { pageSize: 7, onProgress: (d) => progress.push(d) });
    expect(r.folded).toBe(40);
    expect(progress).toEqual([7, 14, 21, 28, 35, 40]);
    const c = new AbortController();
    const p = globalStateAt(store, {}, undefined, {
      pageSize: 7,
      signal: c.signal,
      onProgress: () => c.abort(),
    });
    await expect(p).rejects.toThrow(/cancelled/);
  });
});

describe('snapshots', () => {
  const arbEvent = fc.record({
    stream: fc.constantFrom('A', 'B', 'C'),
    type: fc.constantFrom('Set', 'Bump'),
    data: fc.dictionary(
      fc.constantFrom('x', 'y', 'z'),
      fc.oneof(fc.integer(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 })),
    ),
  });

  it('never change an answer: with and without snapshots, identical states at random positions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbEvent, { minLength: 1, maxLength: 60 }),
        fc.array(fc.tuple(fc.constantFrom('A', 'B', 'C', '*'), fc.nat(70)), { minLength: 1, maxLength: 12 }),
        fc.oneof(
          fc.integer({ min: 1, max: 5 }).map((every) => ({ kind: 'count' as const, every })),
          fc.constant({ kind: 'adaptive' as const, every: 3 }),
        ),
        async (events, probes, strategy) => {
          const store = new MemoryStore();
          await store.append(events.map((e, i) => ({ ...e, time: time(i) })));
          const snapshots = new MemorySnapshotStore(strategy);
          for (const [stream, seq] of probes) {
            const opts = { snapshots, probe: true, pageSize: 4 };
            const [plain, snapped] =
              stream === '*'
                ? [await globalStateAt(store, { seq }), await globalStateAt(store, { seq }, undefined, opts)]
                : [
                    await streamStateAt(store, stream, { seq }),
                    await streamStateAt(store, stream, { seq }, undefined, opts),
                  ];
            expect(jsonEqual(snapped.state, plain.state)).toBe(true);
            expect(snapped.position).toEqual(plain.position);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('are used when they fit, and never across projection code versions', async () => {
    const store = new MemoryStore();
    await store.append(orderLog(40));
    const snapshots = new MemorySnapshotStore({ kind: 'count', every: 5 });
    await globalStateAt(store, {}, undefined, { snapshots });
    expect(snapshots.size()).toBe(8);
    const r = await globalStateAt(store, { seq: 33 }, undefined, { snapshots });
    expect(r).toMatchObject({ fromSnapshot: 30, folded: 3 });
    const v2 = { ...globalReducer, codeHash: 'v2' };
    expect((await globalStateAt(store, { seq: 33 }, v2, {})).fromSnapshot).toBeUndefined();
    expect(await snapshots.nearest(snapshotKey(v2, '*'), 33)).toBeUndefined();
    expect(await snapshots.invalidate(globalReducer.name, 'v2')).toBe(8);
    expect(snapshots.size()).toBe(0);
  });
});

describe('bisect', () => {
  const negative = parseStatePredicate('total < 0');

  it('finds the first version of a stream where the predicate holds, in O(log n) folds', async () => {
    const store = new MemoryStore();
    await store.append(orderLog(200)); // Order-1: 100 versions, total < 0 from version 7
    const r = await bisectStream(store, 'Order-1', negative);
    expect(r).toMatchObject({ found: true, version: 7, seq: 13, monotone: true, stream: 'Order-1' });
    expect(r.event?.version).toBe(7);
    expect(r.stateBefore).toMatchObject({ total: 0 });
    expect(r.stateAfter).toMatchObject({ total: -20 });
    expect(r.diff).toContainEqual({ path: ['total'], kind: 'changed', before: 0, after: -20 });
    expect(r.folds).toBeLessThanOrEqual(Math.ceil(Math.log2(100)) + 1);
    expect(r.applied).toBeLessThan(2 * 100); // adaptive snapshots: each probe folds from the last one
  });

  it('reports not found, and holding before any event', async () => {
    const store = new MemoryStore();
    await store.append(orderLog(20));
    const never = await bisectStream(store, 'Order-2', negative);
    expect(never.found).toBe(false);
    expect(never.notes.join()).toMatch(/does not hold at the head/);
    const always = await bisectStream(store, 'Order-2', parseStatePredicate('!exists(total)'));
    expect(always).toMatchObject({ found: true, seq: 0 });
    expect(always.notes.join()).toMatch(/initial state/);
  });

  it('reports a non-monotone predicate instead of trusting its boundary', async () => {
    const store = new MemoryStore();
    const totals = [10, -1, 5, 5, 5, 5, -2, -3, -4];
    await store.append(
      totals.map((total, i) => ({ stream: 'S', type: 'T', time: time(i), data: { total } })),
    );
    const r = await bisectStream(store, 'S', negative);
    expect(r.found).toBe(true);
    expect(r.monotone).toBe(false);
    expect(r.notes.join('\n')).toMatch(/first holds at version 2/);
    expect(r.notes.join('\n')).toMatch(/turns false again at version 3/);
    const g = await bisectGlobal(store, (s) => s.events === 2, { verify: true });
    expect(g.monotone).toBe(false);
  });

  it('bisects the global state and a filtered global fold', async () => {
    const store = new MemoryStore();
    await store.append(orderLog(100));
    const g = await bisectGlobal(store, parseStatePredicate('counts.RefundIssued >= 10'), { verify: true });
    expect(g).toMatchObject({ found: true, seq: 12, monotone: true }); // both streams refund from version 2
    expect(g.diff).toContainEqual({
      path: ['counts', 'RefundIssued'],
      kind: 'changed',
      before: 9,
      after: 10,
    });
    const f = await bisectGlobal(store, parseStatePredicate('events >= 3'), {
      streams: { stream: 'Order-2' },
    });
    expect(f).toMatchObject({ found: true, seq: 6 });
  });

  it('finds the first event after which any matching stream satisfies the predicate', async () => {
    const store = new MemoryStore();
    await store.append([
      { stream: 'Order-9', type: 'Placed', data: { total: 5 } },
      { stream: 'Cart-1', type: 'X', data: { total: -1 } },
      { stream: 'Order-9', type: 'Refund', data: { total: -5 } },
    ]);
    const r = await bisectAnyStream(store, { streamPrefix: 'Order-' }, negative);
    expect(r).toMatchObject({ found: true, seq: 3, stream: 'Order-9', version: 2, folds: 1, applied: 2 });
    expect((await bisectAnyStream(store, { streamPrefix: 'User-' }, negative)).found).toBe(false);
  });

  it("finds the demo shop's planted double refund exactly", async () => {
    const dir = tmp();
    const demo = await createDemoStore(dir, { events: 20_000, seed: 1, store: { segmentMaxBytes: 1 << 20 } });
    const planted = createShop({ events: 20_000, seed: 1 }).plantedBug;
    expect(demo.plantedBug).toEqual(planted);
    const store = await FileStore.open(dir, { readOnly: true, create: false });
    try {
      expect((await store.stats()).storage.sealedSegments).toBeGreaterThan(1);
      const r = await bisectAnyStream(store, { streamPrefix: 'Order-' }, negative);
      expect(r.found).toBe(true);
      expect(r.stream).toBe(planted.stream);
      expect(r.event?.id).toBe(planted.eventId);
      const s = await bisectStream(store, planted.stream, negative);
      expect(s.event?.id).toBe(planted.eventId);
      expect(s.monotone).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe('CLI: state, diff, bisect', () => {
  async function run(store: EventStore, ...args: string[]): Promise<string> {
    let text = '';
    const program = new Command().exitOverride();
    registerTimeTravelCommands(
      program,
      (_path, _opts, fn) => fn(store),
      (s) => void (text += s),
    );
    const exit = process.exitCode;
    await program.parseAsync(args, { from: 'user' });
    process.exitCode = exit;
    return text;
  }

  it('prints a state as a tree or JSON, a diff, and the event a bisect found', async () => {
    const store = new MemoryStore();
    await store.append(orderLog(20));
    const tree = await run(store, 'state', 'mem', '--stream', 'Order-1', '--at', '5');
    expect(tree).toMatch(/^Order-1 at seq 5 \(version 3\)/);
    expect(tree).toContain('total: 60');
    expect(tree).toContain('$counts:\n  OrderPlaced: 1\n  RefundIssued: 2');
    const json = JSON.parse(await run(store, 'state', 'mem', '--at-time', time(3), '--json'));
    expect(json.state.events).toBe(4);
    const diff = await run(store, 'diff', 'mem', '--stream', 'Order-1', '--from', '3', '--to', '7');
    expect(diff).toContain('~ total: 80 → 40');
    expect(diff).not.toContain('\x1b[');
    const found = await run(store, 'bisect', 'mem', '--stream', 'Order-1', '--where', 'total < 0');
    expect(found).toMatch(/first holds at seq 13 \(Order-1 version 7\): RefundIssued/);
    expect(found).toContain('~ total: 0 → -20');
    expect(found).toMatch(/\d+ folds, \d+ events applied/);
    const any = await run(store, 'bisect', 'mem', '--streams', 'Order-*', '--where', 'total < 0');
    expect(any).toMatch(/first holds at seq 13 \(Order-1 version 7\)/);
    const none = await run(store, 'bisect', 'mem', '--where', 'events > 1000');
    expect(none).toMatch(/not found/);
  });

  it('refuses a bad predicate or flag with a message naming it', async () => {
    const store = new MemoryStore();
    await expect(run(store, 'bisect', 'mem', '--stream', 'S', '--where', 'total <')).rejects.toThrow(
      /missing a value/,
    );
    await expect(run(store, 'state', 'mem', '--at', 'x')).rejects.toThrow(/--at "x"/);
  });
});
