import type { Histogram } from '../../shared/storeTypes';
import { ChronoscopeError } from '../../shared/errors';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const NICE_WIDTHS = [1, 2, 5, 10, 15, 30]
  .map((n) => n * SEC)
  .concat(
    [1, 2, 5, 10, 15, 30].map((n) => n * MIN),
    [1, 2, 3, 6, 12].map((n) => n * HOUR),
    [1, 2, 7, 14, 28].map((n) => n * DAY),
  );

/** Default number of buckets: fine enough to see daily cycles over months, small enough to draw. */
export const DEFAULT_BUCKETS = 120;

/**
 * Lays about `buckets` buckets over [lo, hi] with a readable width; every width is a whole number
 * of seconds starting on a whole second, so the sealed index's coarse seconds fall into exactly one
 * bucket.
 */
export function planBuckets(
  lo: number,
  hi: number,
  buckets = DEFAULT_BUCKETS,
): { from: number; bucketMs: number; n: number } {
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 10_000) {
    throw new ChronoscopeError(
      'INVALID_ARGUMENT',
      `options.buckets: expected an integer 1..10000, got ${buckets}`,
      { field: 'options.buckets' },
    );
  }
  const raw = Math.max(1000, (hi + 1 - lo) / buckets);
  // A width people read at a glance (1 h, 6 h, 1 d …), with buckets starting on its UTC boundaries.
  const bucketMs = NICE_WIDTHS.find((w) => w >= raw) ?? Math.ceil(raw / DAY) * DAY;
  const from = Math.floor(lo / bucketMs) * bucketMs;
  return { from, bucketMs, n: Math.max(1, Math.ceil((hi + 1 - from) / bucketMs)) };
}

/** Wraps raw counts with totals and the bursts worth highlighting. */
export function finishHistogram(from: number, bucketMs: number, counts: number[]): Histogram {
  const total = counts.reduce((a, b) => a + b, 0);
  const mean = total / counts.length;
  const sd = Math.sqrt(counts.reduce((a, c) => a + (c - mean) ** 2, 0) / counts.length);
  const bursts: number[] = [];
  counts.forEach((c, i) => {
    if (c >= 5 && c > mean + 3 * sd) bursts.push(i);
  });
  return {
    from: new Date(from).toISOString(),
    to: new Date(from + bucketMs * counts.length).toISOString(),
    bucketMs,
    counts,
    total,
    bursts,
  };
}
