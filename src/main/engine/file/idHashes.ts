import { lowerBound } from '../memory/sortedSeqs';

const BUCKETS = 1 << 16;
/** Outputs merged per slice of a background merge (~4 ms here), between which the host thread is free. */
const SLICE = 1 << 20;
/** Tags are segment positions modulo this: one byte per id. */
export const TAG_SPAN = 256;

/** One segment's sorted 32-bit id hashes and its tag (its position in the catalogue, mod TAG_SPAN). */
export interface TaggedHashes {
  keys: Uint32Array;
  tag: number;
}

/**
 * The 32-bit hashes of every sealed id, for the append path's "may this id exist?" and for routing
 * get-by-id to the segments that may hold it, so no segment index has to be resident for either.
 * Per id 3 bytes: the top 16 bits are implied by a table of where each bucket starts, the low 16
 * bits and a 1-byte tag (the segment's position mod 256) are stored. Entries are sorted by (hash,
 * tag). A new segment's hashes are answered at once and merged in slices, so a store of tens of
 * millions of events never stalls the host thread for a whole merge.
 */
export class IdHashes {
  #low: Uint16Array = new Uint16Array(0);
  #tag: Uint8Array = new Uint8Array(0);
  #starts = emptyStarts();
  #pending: TaggedHashes[] = [];
  #merging: Promise<void> | undefined;
  /** Bumped by reset: a merge of an older state stops and is thrown away. */
  #epoch = 0;

  /** Replaces every hash at once (open, rebuild), synchronously. */
  reset(lists: TaggedHashes[]): void {
    this.#epoch++;
    this.#merging = undefined;
    this.#pending = [];
    const built = buildAll(lists);
    this.#low = built.low;
    this.#tag = built.tag;
    this.#starts = built.starts;
  }

  /** Adds one segment's sorted hashes: answered from now on, merged into the base in the background. */
  add(keys: Uint32Array, tag: number): void {
    this.#pending.push({ keys, tag: tag % TAG_SPAN });
    this.#merging ??= this.#mergeLoop();
  }

  has(h: number): boolean {
    const top = h >>> 16;
    const low = h & 0xffff;
    const end = this.#starts[top + 1]!;
    const i = lowerBound(this.#low, low, this.#starts[top]!, end);
    if (i < end && this.#low[i] === low) return true;
    for (const p of this.#pending) {
      const j = lowerBound(p.keys, h);
      if (j < p.keys.length && p.keys[j] === h) return true;
    }
    return false;
  }

  /** Marks in `out` (TAG_SPAN entries) the tags of segments holding hash `h`; returns how many entries matched. */
  tags(h: number, out: Uint8Array): number {
    out.fill(0);
    let found = 0;
    const top = h >>> 16;
    const low = h & 0xffff;
    const end = this.#starts[top + 1]!;
    for (let i = lowerBound(this.#low, low, this.#starts[top]!, end); i < end && this.#low[i] === low; i++) {
      out[this.#tag[i]!] = 1;
      found++;
    }
    for (const p of this.#pending) {
      const j = lowerBound(p.keys, h);
      if (j < p.keys.length && p.keys[j] === h) {
        out[p.tag] = 1;
        found++;
      }
    }
    return found;
  }

  get size(): number {
    return this.#pending.reduce((n, p) => n + p.keys.length, this.#low.length);
  }

  /** Bytes held by the merged table (what grows with the store). */
  get bytes(): number {
    return this.#low.byteLength + this.#tag.byteLength + this.#starts.byteLength;
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
        const add = packSorted(this.#pending.slice(0, taken));
        const merged = await mergeInSlices(this.#low, this.#tag, this.#starts, add, stale);
        if (!merged || stale()) return;
        this.#low = merged.low;
        this.#tag = merged.tag;
        this.#starts = merged.starts;
        this.#pending = this.#pending.slice(taken);
      }
    } finally {
      if (!stale()) this.#merging = undefined;
    }
  }
}

function emptyStarts(): Uint32Array {
  return new Uint32Array(BUCKETS + 1);
}

/** Every list at once by bucket (a counting sort on the top 16 bits), each bucket sorted by (low, tag). */
function buildAll(lists: TaggedHashes[]): { low: Uint16Array; tag: Uint8Array; starts: Uint32Array } {
  const starts = emptyStarts();
  for (const l of lists) for (let i = 0; i < l.keys.length; i++) starts[(l.keys[i]! >>> 16) + 1]!++;
  for (let b = 0; b < BUCKETS; b++) starts[b + 1]! += starts[b]!;
  const n = starts[BUCKETS]!;
  // (low << 8 | tag) per entry, so a plain numeric sort of a bucket orders by (low, tag).
  const packed = new Uint32Array(n);
  const fill = starts.slice(0, BUCKETS);
  for (const l of lists) {
    const tag = l.tag % TAG_SPAN;
    for (let i = 0; i < l.keys.length; i++) {
      const h = l.keys[i]!;
      packed[fill[h >>> 16]!++] = ((h & 0xffff) << 8) | tag;
    }
  }
  for (let b = 0; b < BUCKETS; b++)
    if (starts[b + 1]! - starts[b]! > 1) packed.subarray(starts[b], starts[b + 1]).sort();
  const low = new Uint16Array(n);
  const tag = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    low[i] = packed[i]! >>> 8;
    tag[i] = packed[i]! & 0xff;
  }
  return { low, tag, starts };
}

/** Pending lists as one ascending array of hash * TAG_SPAN + tag (exact in a double: < 2^40). */
function packSorted(lists: TaggedHashes[]): Float64Array {
  const out = new Float64Array(lists.reduce((n, l) => n + l.keys.length, 0));
  let at = 0;
  for (const l of lists) for (let i = 0; i < l.keys.length; i++) out[at++] = l.keys[i]! * TAG_SPAN + l.tag;
  // One list (the usual case) is already sorted: its tag is the same for every entry.
  return lists.length > 1 ? out.sort() : out;
}

/** Merges the base table with packed additions, yielding to the event loop every SLICE outputs. */
async function mergeInSlices(
  low: Uint16Array,
  tag: Uint8Array,
  starts: Uint32Array,
  add: Float64Array,
  stale: () => boolean,
): Promise<{ low: Uint16Array; tag: Uint8Array; starts: Uint32Array } | undefined> {
  const n = low.length + add.length;
  const outLow = new Uint16Array(n);
  const outTag = new Uint8Array(n);
  const outStarts = emptyStarts();
  let i = 0;
  let j = 0;
  let k = 0;
  /** The bucket of base entry i. */
  let bi = 0;
  let bucket = 0;
  while (k < n) {
    const end = Math.min(n, k + SLICE);
    while (k < end) {
      while (i < low.length && starts[bi + 1]! <= i) bi++;
      const a = i < low.length ? (bi * 65536 + low[i]!) * TAG_SPAN + tag[i]! : Infinity;
      const v = j < add.length && add[j]! < a ? add[j++]! : (i++, a);
      const h = Math.floor(v / TAG_SPAN);
      const top = h >>> 16;
      while (bucket <= top) outStarts[bucket++] = k;
      outLow[k] = h & 0xffff;
      outTag[k] = v - h * TAG_SPAN;
      k++;
    }
    if (k < n) {
      await new Promise<void>((r) => setImmediate(r));
      if (stale()) return undefined;
    }
  }
  while (bucket <= BUCKETS) outStarts[bucket++] = n;
  return { low: outLow, tag: outTag, starts: outStarts };
}
