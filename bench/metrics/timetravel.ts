import type { OursSubject } from '../ours';
import type { RunContext } from '../context';
import { BenchRng } from '../rng';
import { BASELINES, errorCell } from '../rows';
import { sample } from '../stats';
import { openSnapshotStore } from '../../src/main/engine/timetravel/openSnapshots';
import type { SnapshotStore } from '../../src/main/engine/timetravel/snapshots';
import { globalStateAt, streamStateAt } from '../../src/main/engine/timetravel/stateAt';

/** The time-travel rows (DESIGN §4), ours only: the baselines have no projections. */
export const TIMETRAVEL_ROWS = ['state-stream', 'state-stream-snap', 'state-global-snap'] as const;

const STREAM_PICKS = 500;
const GLOBAL_PICKS = 20;
const BUDGET_MS = 30_000;
/** Snapshot every 4 stream events (W1M streams hold ~20) and every 1 % of the log globally. */
const STREAM_EVERY = 4;
const globalEvery = (events: number) => Math.max(1000, Math.round(events / 100));

/**
 * State at a random position on the W1M store after ingest: one stream (generic stream reducer,
 * a random version of a random stream) without and with snapshots, and the global state
 * (generic global reducer, a random seq) from snapshots taken by one untimed warm-up fold.
 */
export async function timeTravelRows(ctx: RunContext, ours: OursSubject | undefined): Promise<void> {
  const wanted = TIMETRAVEL_ROWS.filter((k) => ctx.wants(k));
  if (!wanted.length) return;
  for (const k of wanted) ctx.table.fill(k, [...BASELINES], 'ours only: baselines have no projections');
  if (!ours) return;
  const store = ours.store;
  const w = ctx.workload;
  const rng = new BenchRng(ctx.opts.seed * 6151 + 11);
  let snaps: SnapshotStore | undefined;
  try {
    snaps = await openSnapshotStore(store, {
      strategy: { kind: 'count', every: STREAM_EVERY },
      globalStrategy: { kind: 'count', every: globalEvery(w.shape.events) },
      maxBytes: 512 << 20,
    });
    const picks: { stream: string; version: number }[] = [];
    for (let i = 0; i < STREAM_PICKS; i++) {
      const stream = w.streamName(rng.below(w.shape.streams));
      const n = (await store.readStream(stream)).length;
      picks.push({ stream, version: n ? 1 + rng.below(n) : 0 });
    }
    if (ctx.wants('state-stream')) {
      await streamStateAt(store, picks[0]!.stream); // untimed: the first call pays for JIT, as in readRows
      const { summary } = await sample(
        (i) => streamStateAt(store, picks[i]!.stream, { version: picks[i]!.version }),
        { iterations: STREAM_PICKS, budgetMs: BUDGET_MS },
      );
      ctx.table.set('state-stream', 'ours', { value: summary.p99, details: { ...summary } });
      ctx.log(`state-stream: p99 ${summary.p99.toFixed(3)} ms (n=${summary.n})`);
    }
    if (ctx.wants('state-stream-snap')) {
      for (const p of picks) await streamStateAt(store, p.stream, {}, undefined, { snapshots: snaps });
      const before = await snaps.stats();
      const { summary } = await sample(
        (i) =>
          streamStateAt(store, picks[i]!.stream, { version: picks[i]!.version }, undefined, {
            snapshots: snaps,
          }),
        { iterations: STREAM_PICKS, budgetMs: BUDGET_MS },
      );
      const after = await snaps.stats();
      ctx.table.set('state-stream-snap', 'ours', {
        value: summary.p99,
        details: {
          ...summary,
          note: `warm-up: one fold to the head of each picked stream, a snapshot every ${STREAM_EVERY} events; snapshots verified against the log's event id on use`,
          snapshots: before.perProjection['generic-stream'],
          hits: after.hits - before.hits,
        },
      });
      ctx.log(
        `state-stream-snap: p99 ${summary.p99.toFixed(3)} ms (n=${summary.n}, ${after.hits - before.hits} hits)`,
      );
    }
    if (ctx.wants('state-global-snap')) {
      const t0 = performance.now();
      await globalStateAt(store, {}, undefined, { snapshots: snaps });
      const warmMs = performance.now() - t0;
      const taken = (await snaps.stats()).perProjection['generic-global'];
      const head = store.lastSeq();
      const seqs = Array.from({ length: GLOBAL_PICKS }, () => 1 + rng.below(head));
      const { summary } = await sample(
        (i) => globalStateAt(store, { seq: seqs[i]! }, undefined, { snapshots: snaps }),
        {
          iterations: GLOBAL_PICKS,
          budgetMs: BUDGET_MS,
        },
      );
      ctx.table.set('state-global-snap', 'ours', {
        value: summary.p99,
        details: {
          ...summary,
          note: `snapshots from one untimed warm-up fold of ${head} events (${warmMs.toFixed(0)} ms): ${taken?.rows ?? 0} snapshots, ${taken?.bytes ?? 0} bytes, one every ${globalEvery(w.shape.events)} events`,
          warmUpMs: warmMs,
          snapshots: taken,
        },
      });
      ctx.log(
        `state-global-snap: p99 ${summary.p99.toFixed(1)} ms (n=${summary.n}); warm-up ${warmMs.toFixed(0)} ms, ${taken?.rows} snapshots, ${taken?.bytes} bytes`,
      );
    }
  } catch (err) {
    ctx.log(`time travel rows failed: ${(err as Error).message}`);
    for (const k of wanted) if (!ctx.table.get(k, 'ours')) ctx.table.set(k, 'ours', errorCell(err));
  } finally {
    await snaps?.close();
  }
}
