/**
 * Load (issue #9): the benchmark's soak loop (bench/soakLoop.ts, reused in-process) appends to a
 * file store on a fixed schedule while a live-tail subscription and concurrent queries run beside
 * it. The subscriber must see every event exactly once, in seq order; every query must see a
 * consistent prefix (contiguous seqs, nothing past the acknowledged head); memory must stay flat.
 * CI: 5,000 ev/s for 20 s. CHRONOSCOPE_LOAD_LONG=1: the 20,000 ev/s for 10 minutes.
 * CHRONOSCOPE_LOAD_RATE / CHRONOSCOPE_LOAD_SECONDS override either. No wall-clock assertions: the rate achieved on a shared machine is printed, not judged.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { runSoak } from '../../bench/soakLoop';
import type { FileStore } from '../../src/main/engine/file/FileStore';

const LONG = process.env.CHRONOSCOPE_LOAD_LONG === '1';
const RATE = Number(process.env.CHRONOSCOPE_LOAD_RATE ?? (LONG ? 20_000 : 5_000));
const SECONDS = Number(process.env.CHRONOSCOPE_LOAD_SECONDS ?? (LONG ? 600 : 20));
const SAMPLE_MS = 1000;
const dir = mkdtempSync(join(tmpdir(), 'chronoscope-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Sample {
  t: number;
  rssMB: number;
  heapMB: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const MB = 2 ** 20;
// A full GC before each heap sample, so the sample is the live heap, not whatever garbage is pending
// (without it a sample swings by ±25 MB with GC timing). The flag exposes gc() to new contexts only.
setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

/** The live tail, the queries and the memory sampler that run beside the ingest. */
function alongside(
  store: FileStore,
  state: { problems: string[]; tail: number; queries: number; samples: Sample[] },
) {
  let stopping = false;
  const start = performance.now();
  const sub = store.subscribe({ fromSeq: 1 });
  const tail = (async () => {
    let expected = 1;
    for await (const e of sub) {
      if (e.seq !== expected) state.problems.push(`live tail got seq ${e.seq}, expected ${expected}`);
      expected = e.seq + 1;
      state.tail++;
    }
  })();

  /** Every query result must be a contiguous run of seqs no later than what was acknowledged when it resolved. */
  const queries = (async () => {
    let k = 0;
    while (!stopping) {
      const head = store.lastSeq();
      if (head > 0) {
        const kind = k++ % 3;
        if (kind === 0) {
          const page = await store.query({}, { order: 'desc', limit: 200 });
          const seqs = page.events.map((e) => e.seq);
          if (seqs[0]! < head)
            state.problems.push(`desc query topped at ${seqs[0]} with ${head} acknowledged before it`);
          if (seqs[0]! > store.lastSeq()) state.problems.push(`desc query saw seq ${seqs[0]} past the head`);
          seqs.forEach(
            (s, i) =>
              i > 0 && s !== seqs[i - 1]! - 1 && state.problems.push(`desc query gap ${seqs[i - 1]} → ${s}`),
          );
        } else if (kind === 1) {
          const from = 1 + Math.floor(Math.random() * head);
          const page = await store.readAll(from, 500);
          const want = Math.min(500, head - from + 1);
          if (page.length < want)
            state.problems.push(`readAll(${from}) gave ${page.length} of ≥ ${want} acknowledged`);
          page.forEach(
            (e, i) =>
              e.seq !== from + i && state.problems.push(`readAll(${from}) position ${i} holds ${e.seq}`),
          );
        } else {
          const seq = 1 + Math.floor(Math.random() * head);
          const e = await store.getBySeq(seq);
          if (e?.seq !== seq) state.problems.push(`getBySeq(${seq}) gave ${e?.seq}`);
          const s = e && (await store.readStream(e.stream, e.version, e.version));
          if (e && s?.[0]?.id !== e.id)
            state.problems.push(`readStream(${e.stream}, ${e.version}) disagrees with getBySeq(${seq})`);
        }
        state.queries++;
      }
      await sleep(5);
    }
  })();

  const sampler = setInterval(() => {
    fullGc();
    const m = process.memoryUsage();
    state.samples.push({ t: (performance.now() - start) / 1000, rssMB: m.rss / MB, heapMB: m.heapUsed / MB });
  }, SAMPLE_MS);

  return async () => {
    stopping = true;
    clearInterval(sampler);
    await queries;
    // The tail must drain to the head before it is closed: every acknowledged event is delivered.
    const head = store.lastSeq();
    for (let i = 0; i < 600 && state.tail < head; i++) await sleep(100);
    await sub.close();
    await tail;
  };
}

describe(`sustained load (${RATE} ev/s for ${SECONDS} s${LONG ? '' : '; CHRONOSCOPE_LOAD_LONG=1 for 20,000 ev/s × 10 min'})`, () => {
  it(
    'a live tail sees every event exactly once in order, queries see consistent prefixes, memory stays flat',
    async () => {
      const state = { problems: [] as string[], tail: 0, queries: 0, samples: [] as Sample[] };
      const r = await runSoak({
        dir: join(dir, 'store'),
        rate: RATE,
        seconds: SECONDS,
        seed: 7,
        events: 1_000_000,
        // 4 MiB segments: a 20 s run seals many times, so memory is judged over several full cycles.
        storeOptions: LONG ? {} : { segmentMaxBytes: 4 << 20 },
        alongside: (store) => alongside(store, state),
      });

      // Warm-up (JIT, caches, the hot tier filling to its first seal): 25 %, at most 60 s as in the bench.
      const steady = state.samples.filter((s) => s.t >= Math.min(60, SECONDS * 0.25));
      const third = Math.max(1, Math.floor(steady.length / 3));
      const early = steady.slice(0, third);
      const late = steady.slice(-third);
      const figures = {
        events: r.events,
        achievedRate: Math.round(r.achievedRate),
        appendP99ms: Number(r.append.p99.toFixed(1)),
        liveTail: state.tail,
        queries: state.queries,
        rssEarlyMB: Math.round(median(early.map((s) => s.rssMB))),
        rssLateMB: Math.round(median(late.map((s) => s.rssMB))),
        heapEarlyMB: Math.round(median(early.map((s) => s.heapMB))),
        heapLateMB: Math.round(median(late.map((s) => s.heapMB))),
        heapMaxMB: Math.round(Math.max(...steady.map((s) => s.heapMB))),
      };
      console.info(`load figures: ${JSON.stringify(figures)}`);

      expect(state.problems.slice(0, 10), `${state.problems.length} problems`).toEqual([]);
      expect(r.events).toBeGreaterThan(0);
      expect(state.tail, 'events delivered to the live tail').toBe(r.events);
      expect(state.queries).toBeGreaterThan(0);
      expect(steady.length).toBeGreaterThanOrEqual(3);
      // Flat. The live heap (sampled after a full GC) is the leak detector: holding on to events
      // (≈1–2 KB of heap each) would add 50–100 MB between the early and late samples of a 20 s run at
      // 5,000 ev/s. The allowance covers the hot tier's sawtooth (one 4 MiB segment parsed ≈ 10–20 MB);
      // observed: +1…+3 MB. RSS also holds native memory that fills during the first minute (SQLite
      // page cache, the 32 MiB block cache, zlib, malloc arenas that are not returned; observed
      // +25…+60 MB in a 20 s run, then level), so a short run bounds it loosely, the long run tightly.
      expect(figures.heapLateMB - figures.heapEarlyMB, 'live heap growth, MB').toBeLessThan(24);
      const rssAllowance = LONG ? figures.rssEarlyMB * 0.25 : Math.max(120, figures.rssEarlyMB * 0.4);
      expect(figures.rssLateMB - figures.rssEarlyMB, 'RSS growth, MB').toBeLessThan(rssAllowance);
    },
    (SECONDS + 120) * 1000,
  );
});
