import { ChronoscopeError } from '../../../shared/errors';
import { makeVirtualOffset } from './bgzf';
import { keyHash32 } from './keyHash';

import { KINDS, type Kind, type SegmentColumns } from './segmentColumns';

export { KINDS, type Kind };

const FORMAT = 3;
/** Coarse times are whole seconds in a Uint32 from the segment's first time. */
const MAX_COARSE_SPAN = (0xffffffff - 1) * 1000;
type Ords = Uint16Array | Uint32Array;

/** Sorted (hash → ordinals) of one kind in one segment; grouped for few keys, pairs for many. */
interface Postings {
  keys: Uint32Array;
  /** Grouped: ordinals of keys[i] are ords[starts[i]..starts[i+1]). Pairs: undefined, keys and ords run in parallel. */
  starts?: Uint32Array;
  ords: Ords;
}

function lowerBound(a: ArrayLike<number>, x: number, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (a[m]! < x) lo = m + 1;
    else hi = m;
  }
  return lo;
}

/** One gzip member: where it starts on disk and in the uncompressed stream. */
export interface BlockEntry {
  coff: number;
  ustart: number;
}

/**
 * The index of one sealed segment, built once at seal time (bulk, sorted) and kept in SQLite as
 * one blob: per-event locations, checksums and coarse times, plus per-kind postings of 32-bit key
 * hashes. About 33 bytes per event on disk, loaded into memory as typed arrays, so every sealed lookup
 * is a binary search without SQL.
 */
export class SegmentIndex {
  readonly n: number;
  readonly firstSeq: number;
  readonly minTime: number;
  readonly maxTime: number;
  readonly #uoff: Uint32Array;
  readonly #crc: Uint32Array;
  readonly #secs: Uint32Array;
  readonly #blockC: Float64Array;
  readonly #blockU: Uint32Array;
  readonly #postings: Record<Kind, Postings>;
  /** Coarse seconds never decrease with ord (the usual case): a time range is a binary search. */
  readonly #timeSorted: boolean;

  private constructor(h: Header, parts: Record<string, ArrayBufferView>) {
    this.n = h.n;
    this.firstSeq = h.firstSeq;
    this.minTime = h.minTime;
    this.maxTime = h.maxTime;
    this.#uoff = parts.ustep ? prefixSums(parts.ustep as Uint16Array) : (parts.uoff as Uint32Array);
    this.#crc = parts.crc as Uint32Array;
    this.#secs = parts.sstep
      ? undoDeltas(h.s0 ?? 0, parts.sstep as Uint16Array)
      : (parts.secs as Uint32Array);
    this.#blockC = parts.blockC as Float64Array;
    this.#blockU = parts.blockU as Uint32Array;
    const p = {} as Record<Kind, Postings>;
    for (const k of KINDS)
      p[k] = {
        keys: parts[`${k}.keys`] as Uint32Array,
        starts: parts[`${k}.starts`] as Uint32Array | undefined,
        ords: parts[`${k}.ords`] as Ords,
      };
    this.#postings = p;
    let sorted = this.maxTime - this.minTime <= MAX_COARSE_SPAN;
    for (let i = 1; sorted && i < this.n; i++) if (this.#secs[i]! < this.#secs[i - 1]!) sorted = false;
    this.#timeSorted = sorted;
  }

  /**
   * The ords [first, last] whose coarse second may lie in [lo, hi) (as mayBeInTime), found by
   * binary search; undefined when times are not in ord order (then every ord must be tested).
   */
  timeOrdRange(lo: number, hi: number): [number, number] | undefined {
    if (!this.#timeSorted) return undefined;
    const base = Math.floor(this.minTime / 1000) * 1000;
    // mayBeInTime: base + s*1000 + 1000 > lo and base + s*1000 < hi, s a whole number.
    const sMin = lo === -Infinity ? 0 : Math.floor((lo - base - 1000) / 1000) + 1;
    const sEnd = hi === Infinity ? Infinity : Math.ceil((hi - base) / 1000);
    const first = sMin <= 0 ? 0 : lowerBound(this.#secs, sMin);
    const last = (sEnd === Infinity ? this.n : lowerBound(this.#secs, Math.max(0, sEnd))) - 1;
    return [first, last];
  }

  get lastSeq(): number {
    return this.firstSeq + this.n - 1;
  }

  /** The sorted 32-bit key hashes of one kind (with repeats for the pairs encoding). */
  keyHashes(kind: Kind): Uint32Array {
    return this.#postings[kind].keys;
  }

  /** The ordinal of each entry of keyHashes(kind), when stored one pair per event (else undefined). */
  keyOrdinals(kind: Kind): ArrayLike<number> | undefined {
    const p = this.#postings[kind];
    return p.starts ? undefined : p.ords;
  }

  /** Sorted ordinals of events whose `kind` hashes like `value` (a superset: collisions are possible). */
  lookup(kind: Kind, value: string): ArrayLike<number> {
    const p = this.#postings[kind];
    const h = keyHash32(value);
    const i = lowerBound(p.keys, h);
    if (p.starts) return p.keys[i] === h ? p.ords.subarray(p.starts[i]!, p.starts[i + 1]!) : EMPTY;
    let j = i;
    while (j < p.keys.length && p.keys[j] === h) j++;
    return p.ords.subarray(i, j);
  }

  /** Coarse time test: never false for an event inside [lo, hi); may be true for one just outside. */
  mayBeInTime(ord: number, lo: number, hi: number): boolean {
    const t = this.coarseSecond(ord);
    return t === undefined || (t + 1000 > lo && t < hi);
  }

  /**
   * The whole UTC second (ms since epoch, a multiple of 1000) that event `ord` lies in, or undefined
   * when the segment spans more than ~136 years (a placeholder time) and keeps no coarse times.
   */
  coarseSecond(ord: number): number | undefined {
    if (this.maxTime - this.minTime > MAX_COARSE_SPAN) return undefined;
    return Math.floor(this.minTime / 1000) * 1000 + this.#secs[ord]! * 1000;
  }

  /** Where event `ord` sits: virtual offset of its first byte, length, CRC-32. */
  location(ord: number): { voff: number; len: number; crc: number } {
    const u = this.#uoff[ord]!;
    const len = this.#uoff[ord + 1]! - u - 1;
    const b = upperBoundBlock(this.#blockU, u);
    return { voff: makeVirtualOffset(this.#blockC[b]!, u - this.#blockU[b]!), len, crc: this.#crc[ord]! };
  }

  /** CRC-32 of event `ord`'s bytes. */
  crcOf(ord: number): number {
    return this.#crc[ord]!;
  }

  /** Gzip members (data blocks) of the segment. */
  get blockCount(): number {
    return this.#blockU.length;
  }

  /** Offset of event `ord` in the uncompressed stream, and its length without the newline. */
  recordSpan(ord: number): { u: number; len: number } {
    const u = this.#uoff[ord]!;
    return { u, len: this.#uoff[ord + 1]! - u - 1 };
  }

  /** The block holding uncompressed offset `u`. */
  blockAt(u: number): number {
    return upperBoundBlock(this.#blockU, u);
  }

  /** File offset of block `b`'s member. */
  blockOffset(b: number): number {
    return this.#blockC[b]!;
  }

  /** Where block `b` starts in the uncompressed stream. */
  blockStart(b: number): number {
    return this.#blockU[b]!;
  }

  /** Inflated size of block `b`. */
  blockSize(b: number): number {
    const end = b + 1 < this.#blockU.length ? this.#blockU[b + 1]! : this.#uoff[this.n]!;
    return end - this.#blockU[b]!;
  }

  /** Builds the blob for a segment from its columns (closed by finish) and its gzip members. */
  static build(cols: SegmentColumns, blocks: BlockEntry[]): Buffer {
    const n = cols.n;
    if (n === 0) throw new ChronoscopeError('INTERNAL', 'cannot index an empty segment');
    const { minTime, maxTime, times } = cols;
    const parts: [string, ArrayBufferView][] = [];
    const uoff = cols.uoff.subarray(0, n + 1);
    const crc = cols.crc.subarray(0, n);
    const secs = new Uint32Array(n);
    const coarse = maxTime - minTime <= MAX_COARSE_SPAN;
    const minSec = Math.floor(minTime / 1000);
    // Whole seconds from the segment's first whole second: exact second boundaries, for histograms.
    if (coarse) for (let i = 0; i < n; i++) secs[i] = Math.floor(times[i]! / 1000) - minSec;
    // On disk, the usual shapes take 2 bytes an event instead of 4: line steps (lines are contiguous
    // from 0 and shorter than 64 KiB) and zigzag second deltas (neighbours < 9 hours apart).
    const ustep = new Uint16Array(n);
    let stepsFit = uoff[0] === 0;
    for (let i = 0; i < n && stepsFit; i++) {
      const d = uoff[i + 1]! - uoff[i]!;
      stepsFit = d > 0 && d <= 0xffff;
      ustep[i] = d;
    }
    const sstep = new Uint16Array(Math.max(0, n - 1));
    let deltasFit = true;
    for (let i = 1; i < n && deltasFit; i++) {
      const d = secs[i]! - secs[i - 1]!;
      const z = d >= 0 ? 2 * d : -2 * d - 1;
      deltasFit = z <= 0xffff;
      sstep[i - 1] = z;
    }
    parts.push(stepsFit ? ['ustep', ustep] : ['uoff', uoff], ['crc', crc]);
    parts.push(deltasFit ? ['sstep', sstep] : ['secs', secs]);
    parts.push(
      ['blockC', Float64Array.from(blocks.map((b) => b.coff))],
      ['blockU', Uint32Array.from(blocks.map((b) => b.ustart))],
    );
    for (const kind of KINDS) {
      const c = cols.keys[kind];
      for (const [name, arr] of encodePostings(c.h, c.o, c.m, n)) parts.push([`${kind}.${name}`, arr]);
    }
    return pack({ v: FORMAT, n, firstSeq: cols.firstSeq, minTime, maxTime, s0: secs[0]! }, parts);
  }

  /** Reads a blob written by build(). */
  static parse(blob: Buffer): SegmentIndex {
    const { header, parts } = unpack(blob);
    if (header.v !== FORMAT)
      throw new ChronoscopeError('CORRUPT', `segment index format ${header.v} is not ${FORMAT}`);
    return new SegmentIndex(header, parts);
  }
}

const EMPTY = new Uint32Array(0);

function upperBoundBlock(ustart: Uint32Array, u: number): number {
  let lo = 0;
  let hi = ustart.length;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (ustart[m]! <= u) lo = m + 1;
    else hi = m;
  }
  return lo - 1;
}

const RADIX_COUNTS = new Uint32Array(0x10000);

/** One stable counting pass: orders pairs by the 16 bits of the hash at `shift`. */
function radixPass(
  fromH: Uint32Array,
  fromO: Uint32Array,
  toH: Uint32Array,
  toO: Uint32Array,
  m: number,
  shift: number,
): void {
  const c = RADIX_COUNTS;
  c.fill(0);
  for (let i = 0; i < m; i++) c[(fromH[i]! >>> shift) & 0xffff]!++;
  for (let k = 0, sum = 0; k < 0x10000; k++) {
    const v = c[k]!;
    c[k] = sum;
    sum += v;
  }
  for (let i = 0; i < m; i++) {
    const h = fromH[i]!;
    const at = c[(h >>> shift) & 0xffff]!++;
    toH[at] = h;
    toO[at] = fromO[i]!;
  }
}

/**
 * Sorts (hash, ordinal) pairs by hash, then ordinal: a two-pass LSD radix sort on the hash, stable,
 * so pairs pushed in ordinal order stay in it (a comparison sort was a tenth of a seal).
 */
function sortPairs(hashes: Uint32Array, ords: Uint32Array, m: number): { h: Uint32Array; o: Uint32Array } {
  for (let i = 1; i < m; i++)
    if (ords[i]! < ords[i - 1]!)
      throw new ChronoscopeError('INTERNAL', 'postings must be pushed in ordinal order');
  const tmpH = new Uint32Array(m);
  const tmpO = new Uint32Array(m);
  const h = new Uint32Array(m);
  const o = new Uint32Array(m);
  radixPass(hashes, ords, tmpH, tmpO, m, 0);
  radixPass(tmpH, tmpO, h, o, m, 16);
  return { h, o };
}

function encodePostings(
  hashes: Uint32Array,
  ords: Uint32Array,
  m: number,
  n: number,
): [string, ArrayBufferView][] {
  const sorted = sortPairs(hashes, ords, m);
  const Ord = n <= 0x10000 ? Uint16Array : Uint32Array;
  let distinct = 0;
  for (let i = 0; i < m; i++) if (i === 0 || sorted.h[i] !== sorted.h[i - 1]) distinct++;
  if (distinct * 2 < m) {
    const keys = new Uint32Array(distinct);
    const starts = new Uint32Array(distinct + 1);
    let k = -1;
    for (let i = 0; i < m; i++) {
      const h = sorted.h[i]!;
      if (k < 0 || keys[k] !== h) {
        keys[++k] = h;
        starts[k] = i;
      }
    }
    starts[distinct] = m;
    return [
      ['keys', keys],
      ['starts', starts],
      ['ords', Ord === Uint32Array ? sorted.o : Ord.from(sorted.o)],
    ];
  }
  return [
    ['keys', sorted.h],
    ['ords', Ord === Uint32Array ? sorted.o : Ord.from(sorted.o)],
  ];
}

interface Header {
  v: number;
  n: number;
  firstSeq: number;
  minTime: number;
  maxTime: number;
  /** The first event's coarse second, where the others are stored as deltas. */
  s0?: number;
}

/** Offsets from steps: out[0] = 0, out[i + 1] = out[i] + steps[i]. */
function prefixSums(steps: Uint16Array): Uint32Array {
  const out = new Uint32Array(steps.length + 1);
  for (let i = 0; i < steps.length; i++) out[i + 1] = out[i]! + steps[i]!;
  return out;
}

/** Seconds from the first one and zigzag-encoded deltas. */
function undoDeltas(first: number, zz: Uint16Array): Uint32Array {
  const out = new Uint32Array(zz.length + 1);
  out[0] = first;
  for (let i = 0; i < zz.length; i++) {
    const z = zz[i]!;
    out[i + 1] = out[i]! + (z & 1 ? -(z + 1) / 2 : z / 2);
  }
  return out;
}

const CTORS = { u16: Uint16Array, u32: Uint32Array, f64: Float64Array } as const;
type CtorName = keyof typeof CTORS;
const ctorName = (a: ArrayBufferView): CtorName =>
  a instanceof Uint16Array ? 'u16' : a instanceof Uint32Array ? 'u32' : 'f64';

/** Container: u32 header length, JSON header (with the table of parts), then 8-aligned raw arrays. */
function pack(header: Header, parts: [string, ArrayBufferView][]): Buffer {
  const table: [string, CtorName, number, number][] = [];
  let off = 0;
  for (const [name, a] of parts) {
    table.push([name, ctorName(a), off, a.byteLength]);
    off += Math.ceil(a.byteLength / 8) * 8;
  }
  const head = Buffer.from(JSON.stringify({ ...header, parts: table }));
  const headLen = Math.ceil((4 + head.length) / 8) * 8;
  const out = Buffer.alloc(headLen + off);
  out.writeUInt32LE(head.length, 0);
  head.copy(out, 4);
  for (let i = 0; i < parts.length; i++) {
    const a = parts[i]![1];
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(out, headLen + table[i]![2]);
  }
  return out;
}

/** Bytes of a blob's buffer outside the blob that parsing may keep alive by viewing it in place. */
const IN_PLACE_SLACK = 4096;

function unpack(blob: Buffer): { header: Header; parts: Record<string, ArrayBufferView> } {
  const len = blob.readUInt32LE(0);
  const header = JSON.parse(blob.toString('utf8', 4, 4 + len)) as Header & {
    parts: [string, CtorName, number, number][];
  };
  const headLen = Math.ceil((4 + len) / 8) * 8;
  // Typed arrays must be aligned views. A blob that is (nearly) all of its own buffer and starts
  // 8-aligned (a seal's transferred blob, a blob read from the catalogue) is viewed in place: no
  // copy of megabytes per index loaded. Any other (a slice of something larger, or misaligned) is
  // copied once first, so the views never keep a larger buffer alive.
  const inPlace = blob.byteOffset % 8 === 0 && blob.buffer.byteLength - blob.length <= IN_PLACE_SLACK;
  let body: ArrayBuffer;
  let base: number;
  if (inPlace) {
    body = blob.buffer as ArrayBuffer;
    base = blob.byteOffset + headLen;
  } else {
    const copy = Buffer.allocUnsafeSlow(blob.length - headLen);
    blob.copy(copy, 0, headLen);
    body = copy.buffer as ArrayBuffer;
    base = copy.byteOffset;
  }
  const parts: Record<string, ArrayBufferView> = {};
  for (const [name, ctor, off, bytes] of header.parts) {
    const C = CTORS[ctor];
    parts[name] = new C(body, base + off, bytes / C.BYTES_PER_ELEMENT);
  }
  return { header, parts };
}
