import { lowerBound } from '../memory/sortedSeqs';

const BUCKETS = 1 << 16;
/** Outputs merged per slice of a background merge (~4 ms here), between which the host thread is free. */
const SLICE = 1 << 20;

/**
 * The 32-bit hashes of every sealed id, for the append path's "may this id exist?" (one probe per
 * new id). A sorted array with a table of where each top-16-bit bucket starts (a probe touches one
 * or two cache lines), plus the sorted hashes of segments sealed since it was built. Those are
 * visible at once and merged into the array in slices, so a store of tens of millions of events
 * never stalls the host thread for a whole merge (48 ms at 12 M hashes, measured).
 */
export class IdHashes {
  #base: Uint32Array = new Uint32Array(0);
  #starts = bucketStarts(this.#base);
  #pending: Uint32Array[] = [];
  #merging: Promise<void> | undefined;
  /** Bumped by reset: a merge of an older state stops and is thrown away. */
  #epoch = 0;

  /** Replaces every hash at once (open, rebuild): sorted here, synchronously. */
  reset(sortedLists: Uint32Array[]): void {
    this.#epoch++;
    this.#merging = undefined;
    this.#pending = [];
    this.#base = sortAll(sortedLists);
    this.#starts = bucketStarts(this.#base);
  }

  /** Adds one segment's sorted hashes: answered from now on, merged into the base in the background. */
  add(sorted: Uint32Array): void {
    this.#pending.push(sorted);
    this.#merging ??= this.#mergeLoop();
  }

  has(h: number): boolean {
    const a = this.#base;
    const top = h >>> 16;
    const i = lowerBound(a, h, this.#starts[top]!, this.#starts[top + 1]!);
    if (i < a.length && a[i] === h) return true;
    for (const p of this.#pending) {
      const j = lowerBound(p, h);
      if (j < p.length && p[j] === h) return true;
    }
    return false;
  }

  get size(): number {
    return this.#pending.reduce((n, p) => n + p.length, this.#base.length);
  }

  /** Resolves once no merge is under way. */
  async settled(): Promise<void> {
    while (this.#merging) await this.#merging;
  }

  async #mergeLoop(): Promise<void> {
    const epoch = this.#epoch;
    const stale = () => epoch !== this.#epoch;
    try {
      while (this.#pending.length > 0 && !stale()) {
        const taken = this.#pending.length;
        const add = taken === 1 ? this.#pending[0]! : sortAll(this.#pending.slice(0, taken));
        const merged = await mergeInSlices(this.#base, add, stale);
        if (!merged || stale()) return;
        this.#base = merged.out;
        this.#starts = merged.starts;
        this.#pending = this.#pending.slice(taken);
      }
    } finally {
      if (!stale()) this.#merging = undefined;
    }
  }
}

function sortAll(lists: Uint32Array[]): Uint32Array {
  const out = new Uint32Array(lists.reduce((n, l) => n + l.length, 0));
  let at = 0;
  for (const l of lists) {
    out.set(l, at);
    at += l.length;
  }
  return out.sort();
}

/** Where each top-16-bit bucket starts in sorted hashes (entry BUCKETS is the length). */
function bucketStarts(a: Uint32Array): Uint32Array {
  const starts = new Uint32Array(BUCKETS + 1);
  let bucket = 0;
  for (let k = 0; k < a.length; k++) {
    const top = a[k]! >>> 16;
    while (bucket <= top) starts[bucket++] = k;
  }
  while (bucket <= BUCKETS) starts[bucket++] = a.length;
  return starts;
}

/** Merges two sorted arrays and their bucket table, yielding to the event loop every SLICE outputs. */
async function mergeInSlices(
  a: Uint32Array,
  b: Uint32Array,
  stale: () => boolean,
): Promise<{ out: Uint32Array; starts: Uint32Array } | undefined> {
  const out = new Uint32Array(a.length + b.length);
  const starts = new Uint32Array(BUCKETS + 1);
  let i = 0;
  let j = 0;
  let k = 0;
  let bucket = 0;
  while (k < out.length) {
    const end = Math.min(out.length, k + SLICE);
    while (k < end) {
      const v = i < a.length && (j >= b.length || a[i]! <= b[j]!) ? a[i++]! : b[j++]!;
      const top = v >>> 16;
      while (bucket <= top) starts[bucket++] = k;
      out[k++] = v;
    }
    if (k < out.length) {
      await new Promise<void>((r) => setImmediate(r));
      if (stale()) return undefined;
    }
  }
  while (bucket <= BUCKETS) starts[bucket++] = out.length;
  return { out, starts };
}
