/** Latency summary of one cell: nearest-rank percentiles from the sorted samples, in milliseconds. */
export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of ascending samples (exact, no histogram buckets: sample counts are small). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

/** Sorts a copy of the samples and summarises them. */
export function summarise(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const sum = s.reduce((a, b) => a + b, 0);
  return {
    n: s.length,
    p50: percentile(s, 0.5),
    p95: percentile(s, 0.95),
    p99: percentile(s, 0.99),
    max: s[s.length - 1] ?? NaN,
    mean: s.length ? sum / s.length : NaN,
  };
}

/** How many samples to take: at most `iterations`, stopping early once `budgetMs` is spent (after `min`). */
export interface SampleBudget {
  iterations: number;
  budgetMs: number;
  min?: number;
}

/**
 * Times `fn(i)` repeatedly; slow baselines (a linear scan over 1M events) stop at the time budget
 * so a full run stays bounded, and the sample count is reported with the result.
 */
export async function sample(
  fn: (i: number) => Promise<unknown>,
  budget: SampleBudget,
): Promise<{ summary: Summary; last: unknown }> {
  const times: number[] = [];
  const start = performance.now();
  let last: unknown;
  for (let i = 0; i < budget.iterations; i++) {
    const t0 = performance.now();
    last = await fn(i);
    times.push(performance.now() - t0);
    if (times.length >= (budget.min ?? 3) && performance.now() - start > budget.budgetMs) break;
  }
  return { summary: summarise(times), last };
}

/** Wall time of one async call in milliseconds, with its result. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}
