import { setTimeout as sleep } from 'node:timers/promises';
import { FileStore, type FileStoreOptions } from '../src/main/engine/file/FileStore';
import { summarise, type Summary } from './stats';
import { Workload, shapeFor } from './workload';

/** Arguments of the soak child: a fresh store folder, the target rate and how long to hold it. */
export interface SoakArgs {
  dir: string;
  rate: number;
  seconds: number;
  seed: number;
  /** The run's workload size: the soak keeps its proportions (streams, actors) and runs past its end. */
  events: number;
  /** File store options (test/fault/load.spec.ts uses small segments so a short run seals many times). */
  storeOptions?: Partial<FileStoreOptions>;
  /** In-process callers only: starts work beside the ingest (live tail, queries); its stop is awaited before close. */
  alongside?: (store: FileStore) => () => Promise<void>;
}

/** What the soak measured: append latency, RSS every 5 s, and how well the rate was held. */
export interface SoakResult {
  /** Completion minus the batch's scheduled time: falling behind the rate shows up here. */
  append: Summary;
  /** Completion minus the call: the store's own service time, hiding any backlog. */
  service: Summary;
  /** RSS every 5 s, with the V8 heap in use and the memory outside it (Buffers, typed arrays) beside it. */
  rssSamples: { t: number; mb: number; heapMB: number; externalMB: number }[];
  /** Largest deviation of a post-warm-up RSS sample from their median, in percent. */
  rssDriftPct: number;
  rssMedianMB: number;
  warmupSeconds: number;
  achievedRate: number;
  maxLagMs: number;
  events: number;
}

const BATCH = 1000;
const SAMPLE_MS = 5000;
/** Appends allowed in flight (1 s of events at 20k/s): bounds the harness's own memory when the store falls behind. */
const MAX_INFLIGHT = 20;

/**
 * Ingest at `rate` events/s in batches of 1,000 on a fixed schedule; latency is measured from each
 * batch's scheduled time, so a store that cannot keep up is not hidden by coordinated omission.
 * At most MAX_INFLIGHT appends are outstanding, so a backlog costs latency, not harness RSS.
 */
export async function runSoak(a: SoakArgs): Promise<SoakResult> {
  const total = Math.max(BATCH, Math.round(a.rate * a.seconds));
  const w = new Workload(shapeFor(a.events, a.seed));
  const store = await FileStore.open(a.dir, a.storeOptions);
  const stopAlongside = a.alongside?.(store);
  const lat: number[] = [];
  const service: number[] = [];
  const rss: SoakResult['rssSamples'] = [];
  const start = performance.now();
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    const mb = (b: number) => b / (1 << 20);
    const last = {
      t: (performance.now() - start) / 1000,
      mb: mb(m.rss),
      heapMB: mb(m.heapUsed),
      externalMB: mb(m.external),
    };
    rss.push(last);
    process.stderr.write(
      `[bench soak] t=${last.t.toFixed(0)}s rss=${last.mb.toFixed(0)} MB heap=${last.heapMB.toFixed(0)} MB external=${last.externalMB.toFixed(0)} MB appends=${lat.length}\n`,
    );
  }, SAMPLE_MS);
  const interval = (1000 * BATCH) / a.rate;
  const inflight = new Set<Promise<void>>();
  let maxLag = 0;
  let issued = 0;
  let b = 0;
  try {
    const batches = w.batches(BATCH, 0, total);
    for (let next = batches.next(); !next.done; ) {
      const batch = next.value;
      const due = start + b++ * interval;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      while (inflight.size >= MAX_INFLIGHT) await Promise.race(inflight);
      if (performance.now() - start > a.seconds * 1000) break; // a store that fell behind stops at the deadline
      issued += batch.length;
      maxLag = Math.max(maxLag, performance.now() - due);
      const t0 = performance.now();
      const p: Promise<void> = store.append(batch).then(() => {
        lat.push(performance.now() - due);
        service.push(performance.now() - t0);
        inflight.delete(p);
      });
      inflight.add(p);
      // The next batch is made once this append is done (or half an interval has passed): made at
      // once, the generator's ~2 ms of CPU on this thread would delay the append's completion while
      // it waits for its fsync, a cost of the harness's producer, not of the store.
      await Promise.race([p, sleep(interval / 2)]);
      next = batches.next();
    }
    await Promise.all(inflight);
  } finally {
    clearInterval(sampler);
  }
  const elapsed = (performance.now() - start) / 1000;
  await stopAlongside?.();
  await store.close();
  const warmupSeconds = Math.min(60, a.seconds * 0.2);
  const steady = rss.filter((s) => s.t >= warmupSeconds).map((s) => s.mb);
  const sorted = [...steady].sort((x, y) => x - y);
  const median = sorted[Math.floor(sorted.length / 2)] ?? NaN;
  const drift = steady.reduce((m, v) => Math.max(m, (Math.abs(v - median) / median) * 100), 0);
  return {
    append: summarise(lat),
    service: summarise(service),
    rssSamples: rss,
    rssDriftPct: steady.length ? drift : NaN,
    rssMedianMB: median,
    warmupSeconds,
    achievedRate: issued / elapsed,
    maxLagMs: maxLag,
    events: issued,
  };
}
