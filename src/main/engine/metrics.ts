import type { LatencySummary, MetricsSnapshot } from '../../shared/storeTypes';

/**
 * Latency histogram with logarithmic buckets (about 4 % wide, from 1 µs to ~1 h): constant
 * memory and O(1) recording, so it can sit on every operation's hot path.
 */
export class LatencyHistogram {
  static readonly #GROWTH = 1.04;
  static readonly #LOG = Math.log(LatencyHistogram.#GROWTH);
  readonly #buckets = new Float64Array(600);
  count = 0;
  sum = 0;
  max = 0;
  min = Infinity;

  /** Records one duration in milliseconds. */
  record(ms: number): void {
    const us = Math.max(1, ms * 1000);
    const i = Math.min(this.#buckets.length - 1, Math.floor(Math.log(us) / LatencyHistogram.#LOG));
    this.#buckets[i]!++;
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
    if (ms < this.min) this.min = ms;
  }

  /** The q-quantile in milliseconds (upper edge of its bucket, capped by the true max). */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    if (q <= 0) return this.min;
    const target = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < this.#buckets.length; i++) {
      seen += this.#buckets[i]!;
      if (seen >= target) return Math.min(this.max, LatencyHistogram.#GROWTH ** (i + 1) / 1000);
    }
    return this.max;
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      p50: this.quantile(0.5),
      p95: this.quantile(0.95),
      p99: this.quantile(0.99),
      max: this.max,
      mean: this.count ? this.sum / this.count : 0,
    };
  }
}

export type { MetricsSnapshot } from '../../shared/storeTypes';

/** Per-operation latency histograms and named counters (index use, errors, quarantined lines). */
export class Metrics {
  readonly #hist = new Map<string, LatencyHistogram>();
  readonly #counters = new Map<string, number>();

  #h(name: string): LatencyHistogram {
    let h = this.#hist.get(name);
    if (!h) this.#hist.set(name, (h = new LatencyHistogram()));
    return h;
  }

  record(name: string, ms: number): void {
    this.#h(name).record(ms);
  }

  count(name: string, by = 1): void {
    this.#counters.set(name, (this.#counters.get(name) ?? 0) + by);
  }

  async time<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.record(name, performance.now() - t0);
    }
  }

  timeSync<T>(name: string, fn: () => T): T {
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      this.record(name, performance.now() - t0);
    }
  }

  snapshot(): MetricsSnapshot {
    const latency: MetricsSnapshot['latency'] = {};
    for (const [k, h] of this.#hist) latency[k] = h.summary();
    return { latency, counters: Object.fromEntries(this.#counters) };
  }
}
