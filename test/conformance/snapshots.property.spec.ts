/**
 * A snapshot never changes an answer: for random logs (several streams, clocks that sometimes go
 * back) and random positions (seq, time, version, filtered), stream and global states computed
 * with the SQLite snapshot store — every strategy, tiny budgets that evict, after closing and
 * reopening the store, after more appends, and after the projection's code changed — equal the
 * states computed without snapshots.
 *
 * Reproduce a failure with the seed fast-check prints: SNAP_SEED=<seed> npx vitest run test/conformance/snapshots.property.spec.ts
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { EventInput } from '../../src/shared/event';
import { globalReducer, streamReducer, type Projection } from '../../src/shared/projection';
import type { EventFilter } from '../../src/shared/query';
import { FileStore } from '../../src/main/engine/file/FileStore';
import { openSnapshotStore } from '../../src/main/engine/timetravel/openSnapshots';
import type { SnapshotStore, SnapshotStrategy } from '../../src/main/engine/timetravel/snapshots';
import { globalStateAt, streamStateAt, type Position } from '../../src/main/engine/timetravel/stateAt';
import { tempDir } from './backends';

const SEED = process.env.SNAP_SEED
  ? Number(process.env.SNAP_SEED)
  : (Date.now() ^ (Math.random() * 2 ** 31)) | 0;
const RUNS = Math.max(1, Math.round(40 * (process.env.SNAP_SCALE ? Number(process.env.SNAP_SCALE) : 1)));

const STREAMS = ['A-1', 'A-2', 'B-1', '*', '注文-7'];
const T0 = Date.UTC(2026, 2, 1);
const arbEvent = fc.record({
  stream: fc.constantFrom(...STREAMS),
  type: fc.constantFrom('Set', 'Bump', 'OrderCancelled'),
  /** Minutes after the previous event; sometimes negative (a writer with a slow clock). */
  step: fc.oneof(fc.integer({ min: 0, max: 30 }), fc.integer({ min: -20, max: -1 })),
  tenant: fc.constantFrom('t1', 't2'),
  data: fc.dictionary(
    fc.constantFrom('x', 'y', 'z', '__proto__'),
    fc.oneof(
      fc.integer(),
      fc.constant(null),
      fc.string({ maxLength: 3 }),
      fc.array(fc.integer(), { maxLength: 2 }),
    ),
  ),
});
const arbStrategy: fc.Arbitrary<SnapshotStrategy> = fc.oneof(
  fc.integer({ min: 1, max: 6 }).map((every) => ({ kind: 'count' as const, every })),
  fc.integer({ min: 1, max: 90 }).map((m) => ({ kind: 'time' as const, intervalMs: m * 60_000 })),
  fc.record({ every: fc.integer({ min: 2, max: 8 }), minFold: fc.integer({ min: 1, max: 4 }) }).map((a) => ({
    kind: 'adaptive' as const,
    ...a,
  })),
);
type Probe = { stream: string | null; pos: Position; probe: boolean; filter: EventFilter | undefined };
const arbProbe = (n: number): fc.Arbitrary<Probe> =>
  fc.record({
    stream: fc.oneof(fc.constant(null), fc.constantFrom(...STREAMS, 'none')),
    pos: fc.oneof(
      fc.record({ seq: fc.integer({ min: 0, max: n + 3 }) }),
      fc.record({
        time: fc.integer({ min: -30, max: n * 30 }).map((m) => new Date(T0 + m * 60_000).toISOString()),
      }),
      fc.record({ version: fc.integer({ min: 0, max: n }) }),
      fc.constant({}),
    ),
    probe: fc.boolean(),
    filter: fc.option(
      fc.constantFrom<EventFilter>({ streamPrefix: 'A-' }, { types: ['Bump'] }, { tenant: 't2' }),
      {
        nil: undefined,
      },
    ),
  });

/** Events with times from the generated steps. */
function inputs(events: (Omit<EventInput, 'time'> & { step: number })[]): EventInput[] {
  let t = T0;
  return events.map(({ step, ...e }) => {
    t += step * 60_000;
    return { ...e, time: new Date(t).toISOString() };
  });
}

/** Compares one probe with and without snapshots (global folds reject a version: both must). */
async function same(store: FileStore, snaps: SnapshotStore, p: Probe, projection?: Projection<unknown>) {
  const run = (options: Parameters<typeof globalStateAt>[3]) =>
    p.stream === null
      ? globalStateAt(store, p.pos, (projection ?? globalReducer) as Projection<unknown>, {
          ...options,
          filter: p.filter,
        })
      : streamStateAt(store, p.stream, p.pos, (projection ?? streamReducer) as Projection<unknown>, options);
  const plain = await run({}).catch((e: Error) => e);
  const snapped = await run({ snapshots: snaps, probe: p.probe, pageSize: 3 }).catch((e: Error) => e);
  if (plain instanceof Error) {
    expect(snapped).toBeInstanceOf(Error);
    expect((snapped as Error).message).toBe(plain.message);
    return;
  }
  expect(snapped).not.toBeInstanceOf(Error);
  const s = snapped as Exclude<typeof snapped, Error>;
  expect(s.state).toEqual(plain.state);
  expect(s.position).toEqual(plain.position);
}

/** The generic reducers with another code hash, and one whose new code really computes something else. */
const v2Global = { ...globalReducer, codeHash: 'builtin:generic-global@2' };
const changedStream: Projection<unknown> = {
  ...(streamReducer as Projection<unknown>),
  codeHash: 'changed@1',
  apply: (s, e) => ({ ...(streamReducer.apply(s as never, e) as object), seen: e.seq * 2 }),
};
const changedStreamV2: Projection<unknown> = {
  ...changedStream,
  codeHash: 'changed@2',
  apply: (s, e) => ({ ...(streamReducer.apply(s as never, e) as object), seen: e.seq * 3 }),
};

/** Totals over all runs, so a property that never reached a snapshot cannot pass unnoticed. */
const seen = { hits: 0, misses: 0, puts: 0, evicted: 0, skipped: 0, damaged: 0 };
const tally = async (s: SnapshotStore) => {
  const st = await s.stats();
  seen.hits += st.hits;
  seen.puts += st.puts;
  seen.evicted += st.evicted;
  seen.skipped += st.skipped;
  seen.misses += st.misses;
  seen.damaged += st.damaged;
};

describe('snapshots never change an answer (SQLite store, file backend)', () => {
  afterAll(() => {
    process.stdout.write(`snapshots property seed: SNAP_SEED=${SEED}\n`);
  });

  it('stream and global states equal the states without snapshots, across strategies, reopen and code changes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbEvent, { minLength: 1, maxLength: 45, size: 'max' }),
        fc.array(arbEvent, { maxLength: 10 }),
        arbStrategy,
        arbStrategy,
        fc.constantFrom(undefined, 2_500, 8_000),
        fc.array(arbProbe(55), { minLength: 1, maxLength: 10, size: 'max' }),
        async (first, more, strategy, globalStrategy, maxBytes, probes) => {
          const t = tempDir('chronoscope-snapprop-');
          const opts = { strategy, globalStrategy, ...(maxBytes ? { maxBytes, maxStateBytes: 1_000 } : {}) };
          let store = await FileStore.open(t.dir, { segmentMaxBytes: 1500 });
          let snaps = await openSnapshotStore(store, opts);
          try {
            const all = inputs([...first, ...more]);
            await store.append(all.slice(0, first.length));
            for (const p of probes) await same(store, snaps, p);
            // Reopen both: the answers now come from rows on disk.
            await tally(snaps);
            await snaps.close();
            await store.close();
            store = await FileStore.open(t.dir, { segmentMaxBytes: 1500 });
            snaps = await openSnapshotStore(store, opts);
            for (const p of probes) await same(store, snaps, p);
            // More events: old snapshots still describe the prefix they were taken of.
            if (more.length) await store.append(all.slice(first.length));
            for (const p of [...probes].reverse()) await same(store, snaps, p);
            // New code: same behaviour under a new hash, and changed behaviour under new hashes.
            for (const p of probes) {
              await same(
                store,
                snaps,
                p,
                p.stream === null ? (v2Global as Projection<unknown>) : changedStream,
              );
              if (p.stream !== null) await same(store, snaps, p, changedStreamV2);
            }
            for (const p of probes)
              await same(store, snaps, p, p.stream === null ? undefined : changedStream);
            await tally(snaps);
          } finally {
            await snaps.close();
            await store.close();
            t.remove();
          }
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
    process.stdout.write(`snapshot totals: ${JSON.stringify(seen)}\n`);
    expect(seen.puts).toBeGreaterThan(RUNS);
    expect(seen.hits).toBeGreaterThan(RUNS);
    if (RUNS >= 20) expect(seen.evicted).toBeGreaterThan(0);
  });
});
