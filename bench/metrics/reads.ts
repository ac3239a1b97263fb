import type { RunContext } from '../context';
import { BenchRng } from '../rng';
import { errorCell } from '../rows';
import { sample, type SampleBudget } from '../stats';
import type { PageQuery, Subject } from '../subject';
import { SEARCH_WORD, TENANTS, TYPES, type Workload } from '../workload';

/** One read row: how to pick its arguments from the workload and how to ask a subject. */
interface ReadRow {
  key: string;
  iterations: number;
  /** The value reported: p99 for latency rows, the median for the few full-text runs. */
  stat: 'p99' | 'p50';
  pick(w: Workload, r: BenchRng): unknown;
  ask(s: Subject, arg: unknown): Promise<number>;
}

const page = (key: string, make: (w: Workload, r: BenchRng) => PageQuery): ReadRow => ({
  key,
  // A p99 of 200 samples was their second slowest, which a single collection or page fault decided
  // (the time-range row read 0.98, 2.03 and 4.66 ms in three runs with p50s of 0.46–0.65).
  iterations: 1000,
  stat: 'p99',
  pick: make,
  ask: (s, q) => s.page(q as PageQuery),
});

/** The read rows of the issue, with their sample counts (2,000 gets, 500 streams, 1,000 pages each). */
export const READ_ROWS: readonly ReadRow[] = [
  {
    key: 'get-by-id',
    iterations: 2000,
    stat: 'p99',
    pick: (w, r) => w.event(r.below(w.shape.events)).id,
    ask: (s, id) => s.getById(id as string),
  },
  {
    key: 'read-stream',
    iterations: 500,
    stat: 'p99',
    pick: (w, r) => w.streamName(r.below(w.shape.streams)),
    ask: (s, name) => s.readStream(name as string),
  },
  page('page-type', (_w, r) => ({ kind: 'type', type: r.pick(TYPES) })),
  page('page-actor', (w, r) => ({ kind: 'actor', actor: w.actorName(r.below(w.shape.actors)) })),
  page('page-correlation', (w, r) => ({
    kind: 'correlation',
    correlationId: w.correlationId(r.below(w.shape.correlations)),
  })),
  page('page-time', (w, r) => ({ kind: 'time', ...w.timeWindow(r) })),
  page('page-type-tenant', (_w, r) => ({
    kind: 'type-tenant',
    type: r.pick(TYPES),
    tenant: r.pick(TENANTS),
  })),
  {
    key: 'search-first-page',
    iterations: 5,
    stat: 'p50',
    pick: () => SEARCH_WORD,
    ask: (s, word) => s.search(word as string, 100),
  },
  {
    key: 'search-all',
    iterations: 3,
    stat: 'p50',
    pick: () => SEARCH_WORD,
    ask: (s, word) => s.search(word as string),
  },
];

/** Per cell: stop early after this much time (a linear scan over 1M events takes seconds per call). */
const BUDGET_MS = 15_000;

/**
 * Untimed calls before a row's timed ones: for `--warm-up-ms` (1 s by default; at least one call, at
 * most WARM_UP_CALLS). The first calls after an ingest run the read path cold: measured on a 1M store,
 * the very first stream read took 11 ms, and the p99 of the next 500 was 1.3-1.9 ms against
 * 0.6-0.7 ms once ~2,000 had run (V8 compiles and tunes allocation in tiers over that many calls).
 * The goals are about the steady latency; the cold first call is reported in the details.
 */
const WARM_UP_CALLS = 10_000;

/**
 * Warms a row up with its own picks (another seed: the timed picks must not find their blocks
 * already cached), the same for every subject. Returns the call count and the first call's time.
 */
async function warmUp(
  ctx: RunContext,
  s: Subject,
  row: ReadRow,
  ri: number,
): Promise<{ calls: number; firstMs: number }> {
  const rng = new BenchRng(ctx.opts.seed * 104_729 + ri);
  const start = performance.now();
  let firstMs = NaN;
  let calls = 0;
  while (calls < WARM_UP_CALLS && (calls === 0 || performance.now() - start < ctx.opts.warmUpMs)) {
    const t0 = performance.now();
    await row.ask(s, row.pick(ctx.workload, rng));
    if (calls++ === 0) firstMs = performance.now() - t0;
  }
  return { calls, firstMs };
}

/** First-pick result counts per row and subject, compared once every subject was read. */
const firstCounts = new Map<string, Map<string, number>>();

/**
 * Runs every selected read row against one subject (right after its ingest), with the same seeded
 * picks for every subject, after untimed warm-up calls (warmUp). The first pick's result count is kept
 * and compared across subjects (compareReadCounts), so a baseline that answers a different
 * question is flagged instead of silently "winning".
 */
export async function readRows(ctx: RunContext, s: Subject): Promise<void> {
  for (const [ri, row] of READ_ROWS.entries()) {
    if (!ctx.wants(row.key)) continue;
    const rng = new BenchRng(ctx.opts.seed * 7919 + ri);
    const picks = Array.from({ length: row.iterations }, () => row.pick(ctx.workload, rng));
    try {
      // Every row starts with the harness's garbage collected (the previous row's results): a
      // collection due to them must not land in this row's p99. The warm-up that follows regrows
      // the heap the collection shrank.
      (globalThis as { gc?: () => void }).gc?.();
      const warm = await warmUp(ctx, s, row, ri);
      const budget: SampleBudget = { iterations: row.iterations, budgetMs: BUDGET_MS };
      const counted: number[] = [];
      const { summary } = await sample(async (i) => counted.push(await row.ask(s, picks[i])), budget);
      let counts = firstCounts.get(row.key);
      if (!counts) firstCounts.set(row.key, (counts = new Map()));
      counts.set(s.name, counted[0]!);
      const results = counted.reduce((a, b) => a + b, 0);
      ctx.table.set(row.key, s.name, {
        value: summary[row.stat],
        details: {
          ...summary,
          firstResultCount: counted[0],
          meanResults: results / counted.length,
          warmUpCalls: warm.calls,
          coldFirstCallMs: warm.firstMs,
        },
      });
      ctx.log(`${row.key} ${s.name}: ${row.stat} ${summary[row.stat].toFixed(3)} ms (n=${summary.n})`);
    } catch (err) {
      ctx.log(`${row.key} ${s.name}: failed: ${(err as Error).message}`);
      ctx.table.set(row.key, s.name, errorCell(err));
    }
  }
}

/** Notes every read row whose subjects returned different counts for the first pick. */
export function compareReadCounts(ctx: RunContext): void {
  for (const [key, counts] of firstCounts)
    if (new Set(counts.values()).size > 1)
      ctx.notes.push(
        `${key}: subjects returned different counts for the first pick: ${JSON.stringify(Object.fromEntries(counts))}`,
      );
}
