import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { lowerBound } from '../memory/sortedSeqs';

const BUCKETS = 1 << 16;
/**
 * Longest a slice of background work (a merge, a spill rewrite) holds the host thread, in ms:
 * appends that arrive meanwhile wait for it. Counted in entries, a spill slice took 10 ms (and up
 * to 65) where a merge slice took 0.6, and the soak's append p99 rose from ~16 to ~24 ms.
 */
const SLICE_MS = 1;
/** Buckets done between two looks at the clock. */
const CLOCK_EVERY = 64;
/** Tags are segment positions modulo this: one byte per id. */
export const TAG_SPAN = 256;

/** One segment's sorted 32-bit id hashes and its tag (its position in the catalogue, mod TAG_SPAN). */
export interface TaggedHashes {
  keys: Uint32Array;
  tag: number;
}

/**
 * 8 more bits of an id's hash (1–255; 0 means "not known"), from keyHash's bits above the 32 the
 * segment postings store: an append's id whose 32-bit hash collides with a sealed id's is told
 * apart without reading that segment's index (at 12 M sealed ids, ~3 collisions per 1,000 new ids).
 */
export function idCheck(fullHash: number): number {
  return (Math.floor(fullHash / 0x1_0000_0000) % 255) + 1;
}

/** A level is merged into the one above it once it holds more than 1/RATIO of that one's entries. */
const RATIO = 8;
/** Bytes a spill writes, and reads of the file it replaces, at a time. */
const SPILL_CHUNK = 1 << 20;

/** Resolves on the next turn of the event loop, after I/O callbacks. */
const nextTurn = (): Promise<void> => new Promise<void>((r) => setImmediate(r));

/** When background work walking the buckets has held the host thread for a slice (SLICE_MS). */
class TimeSlice {
  #start = performance.now();
  /** True at a bucket where the clock is looked at and the slice is used up. */
  over(bucket: number): boolean {
    return bucket % CLOCK_EVERY === 0 && performance.now() - this.#start >= SLICE_MS;
  }
  /** Hands the thread back for a turn of the event loop; the next slice starts after it. */
  async yield(): Promise<void> {
    await nextTurn();
    this.#start = performance.now();
  }
}

/**
 * Reads the entries of a spill file in order, SPILL_CHUNK bytes at a time (a read per bucket was
 * ~65,000 reads per rewrite).
 */
class SpillReader {
  readonly #buf = new Uint32Array(SPILL_CHUNK / 4);
  /** Entry index of #buf[0], and entries held. */
  #first = 0;
  #held = 0;
  constructor(
    readonly fd: number,
    readonly total: number,
  ) {}

  /** Copies entries [from, to) into out at 0 (calls come in increasing order). */
  read(from: number, to: number, out: Uint32Array): void {
    const n = to - from;
    if (n > this.#buf.length) return readEntries(this.fd, out, from, n);
    if (from < this.#first || to > this.#first + this.#held) {
      this.#first = from;
      this.#held = Math.min(this.#buf.length, this.total - from);
      readEntries(this.fd, this.#buf, from, this.#held);
    }
    out.set(this.#buf.subarray(from - this.#first, to - this.#first));
  }
}

function readEntries(fd: number, into: Uint32Array, from: number, n: number): void {
  let done = 0;
  while (done < 4 * n) {
    const got = readSync(fd, into, done, 4 * n - done, 4 * from + done);
    if (got === 0) throw new Error('id table spill file: short read');
    done += got;
  }
}

/** Where the table may keep entries beyond what it holds in memory. */
export interface IdHashesOptions {
  /**
   * Bytes of entries held in memory before they move to the spill file (default: no limit). The
   * file is rewritten with them once they exceed this and 1/RATIO of the file, so rewriting costs
   * a bounded number of passes over the data.
   */
  residentBytes?: number;
  /** Folder for the spill file (default: the OS temp folder); the file is unlinked once opened. */
  spillDir?: string;
}

/**
 * Entries on disk: one u32 per entry, (low << 16 | tag << 8 | check), sorted, bucket by bucket;
 * only the bucket starts are in memory. The file is the process's own scratch (unlinked at
 * creation, rebuilt from the catalogue at every open), so it needs no fsync and leaves nothing
 * behind after a crash.
 */
interface Spilled {
  fd: number;
  starts: Uint32Array;
  /** Read buffer for one bucket, grown as needed. */
  scratch: Uint32Array;
  /** A Bloom filter of the file's 32-bit hashes, so most probes of new ids read nothing. */
  bloom: Bloom;
}

/**
 * Bits of the spill file's Bloom filter per entry, and bits set per hash: ~3 % false positives,
 * so about 3 probes in 100 for an id not in the file cost a read (the append path's duplicate
 * check probes every new id), for 1 byte an id in memory instead of the table's 4.
 */
const BLOOM_BITS_PER_ENTRY = 8;
const BLOOM_K = 3;

class Bloom {
  readonly bits: Uint8Array;
  readonly #m: number;

  constructor(entries: number) {
    this.#m = Math.max(64, entries * BLOOM_BITS_PER_ENTRY);
    this.bits = new Uint8Array(Math.ceil(this.#m / 8));
  }

  add(h: number): void {
    const a = mix(h);
    const b = mix(h ^ 0x5bd1e995) | 1;
    for (let i = 0; i < BLOOM_K; i++) {
      const bit = Math.floor((((a + i * b) >>> 0) * this.#m) / 0x1_0000_0000);
      this.bits[bit >>> 3]! |= 1 << (bit & 7);
    }
  }

  mayHave(h: number): boolean {
    const a = mix(h);
    const b = mix(h ^ 0x5bd1e995) | 1;
    for (let i = 0; i < BLOOM_K; i++) {
      const bit = Math.floor((((a + i * b) >>> 0) * this.#m) / 0x1_0000_0000);
      if ((this.bits[bit >>> 3]! & (1 << (bit & 7))) === 0) return false;
    }
    return true;
  }
}

/** MurmurHash3's finaliser: spreads a 32-bit value over all 32 bits. */
function mix(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * One sorted table: the top 16 bits of each hash are implied by where its bucket starts, the low
 * 16 bits, the tag and the check byte are stored (4 bytes per entry), sorted by (low, tag) within
 * a bucket.
 */
interface Table {
  low: Uint16Array;
  tag: Uint8Array;
  /** idCheck of the entry's id, or 0 where it is not known (ids read back from the catalogue). */
  check: Uint8Array;
  /** Where each bucket starts (entry BUCKETS is the length). */
  starts: Uint32Array;
  /** Buffers only this table uses (a merge's output), freed at once when it is replaced. */
  owned?: ArrayBuffer[];
}

/**
 * The 32-bit hashes of every sealed id, for the append path's "may this id exist?" and for routing
 * get-by-id to the segments that may hold it, so no segment index has to be resident for either.
 * Per id 4 bytes: the low 16 bits of its hash, a 1-byte tag (its segment's position mod 256) and,
 * for ids sealed since open, a check byte with 8 more bits of the hash (idCheck).
 * Tables form levels, each at least RATIO times the next: a new segment is a small level of its
 * own at once, and levels merge in the background, in slices between which the host thread is
 * free. So a seal costs a merge of the whole table only once every several seals, not each time
 * (a whole merge was 48 ms at 12 M hashes), and a probe looks at a few levels.
 */
export class IdHashes {
  #levels: Table[] = [];
  #spilled: Spilled | undefined;
  #merging: Promise<void> | undefined;
  /** Bumped by reset: a merge of an older state stops and is thrown away. */
  #epoch = 0;
  readonly #residentBytes: number;
  readonly #spillDir: string;
  /** Why the last spill failed (the entries then stay in memory; tests and diagnostics). */
  spillError: Error | undefined;
  /** Bucket reads from the spill file so far (tests and diagnostics). */
  fileReads = 0;

  constructor(opts: IdHashesOptions = {}) {
    this.#residentBytes = opts.residentBytes ?? Infinity;
    this.#spillDir = opts.spillDir ?? tmpdir();
  }

  /** Replaces every hash at once (open, rebuild), synchronously; entries over the limit spill in the background. */
  reset(lists: TaggedHashes[]): void {
    this.#epoch++;
    this.#merging = undefined;
    this.#dropSpilled();
    this.#levels = [buildAll(lists)];
    if (this.#overResident()) this.#merging = this.#mergeLoop();
  }

  /** Lets go of the spill file (the table answers from memory only until the next reset). */
  close(): void {
    this.#epoch++;
    this.#merging = undefined;
    this.#dropSpilled();
    this.#levels = [];
  }

  #dropSpilled(): void {
    if (this.#spilled) closeSync(this.#spilled.fd);
    this.#spilled = undefined;
  }

  /**
   * Adds one segment's sorted hashes (with each one's idCheck, when known): answered from now on,
   * merged into larger levels in the background.
   */
  add(keys: Uint32Array, tag: number, checks?: Uint8Array): void {
    this.#levels = [...this.#levels, fromSorted(keys, tag % TAG_SPAN, checks)];
    // Only when there is work: the loop's first step then awaits, so its cleanup runs after this.
    if (!this.#merging && (this.#pairToMerge() > 0 || this.#overResident()))
      this.#merging = this.#mergeLoop();
  }

  /** Whether a sealed id may hash to `h` (32 bits) with check byte `check` (0: any). */
  has(h: number, check = 0): boolean {
    return this.#probe(h, check) > 0;
  }

  /**
   * Marks in `out` (TAG_SPAN entries) the tags of segments that may hold an id hashing to `h` with
   * check byte `check` (0: any); returns how many entries matched.
   */
  tags(h: number, out: Uint8Array, check = 0): number {
    out.fill(0);
    return this.#probe(h, check, out);
  }

  /** The entries matching (h, check): marks their tags in `out`, or without `out` stops at the first. */
  #probe(h: number, check: number, out?: Uint8Array): number {
    let found = 0;
    const top = h >>> 16;
    const low = h & 0xffff;
    const sp = this.#spilled;
    if (sp && sp.bloom.mayHave(h >>> 0)) {
      const from = sp.starts[top]!;
      const n = sp.starts[top + 1]! - from;
      if (n > 0) {
        if (sp.scratch.length < n) sp.scratch = new Uint32Array(Math.max(n, 2 * sp.scratch.length));
        this.fileReads++;
        readEntries(sp.fd, sp.scratch, from, n);
        const e = sp.scratch;
        for (let i = lowerBound(e, low * 0x10000, 0, n); i < n && e[i]! >>> 16 === low; i++) {
          const c = e[i]! & 0xff;
          if (c !== 0 && check !== 0 && c !== check) continue;
          if (!out) return 1;
          out[(e[i]! >>> 8) & 0xff] = 1;
          found++;
        }
      }
    }
    for (const t of this.#levels) {
      const end = t.starts[top + 1]!;
      for (let i = lowerBound(t.low, low, t.starts[top]!, end); i < end && t.low[i] === low; i++) {
        const c = t.check[i]!;
        if (c !== 0 && check !== 0 && c !== check) continue;
        if (!out) return 1;
        out[t.tag[i]!] = 1;
        found++;
      }
    }
    return found;
  }

  get size(): number {
    return this.#levels.reduce((n, t) => n + t.low.length, this.spilledSize);
  }

  /** Entries in the spill file. */
  get spilledSize(): number {
    return this.#spilled ? this.#spilled.starts[BUCKETS]! : 0;
  }

  /** Bytes held in memory (4 per resident id, plus a bucket table per level and for the spill file). */
  get bytes(): number {
    const sp = this.#spilled;
    return this.#levels.reduce(
      (n, t) => n + t.low.byteLength + t.tag.byteLength + t.check.byteLength + t.starts.byteLength,
      sp ? sp.starts.byteLength + sp.scratch.byteLength + sp.bloom.bits.byteLength : 0,
    );
  }

  #residentEntries(): number {
    return this.#levels.reduce((n, t) => n + t.low.length, 0);
  }

  /** Whether the entries in memory should move to the spill file. */
  #overResident(): boolean {
    if (this.spillError) return false;
    const resident = 4 * this.#residentEntries();
    return resident > this.#residentBytes && resident > (4 * this.spilledSize) / RATIO;
  }

  /** The buffers the levels own at the moment, i.e. merge outputs (tests: they are freed when replaced). */
  get ownedBuffers(): ArrayBuffer[] {
    return this.#levels.flatMap((t) => t.owned ?? []);
  }

  /** Levels at the moment (tests). */
  get levels(): number {
    return this.#levels.length;
  }

  /** Resolves once no merge is under way. */
  async settled(): Promise<void> {
    while (this.#merging) await this.#merging;
  }

  /** k > 0: levels k - 1 and k are out of proportion (the lowest such pair); 0: none. */
  #pairToMerge(): number {
    const l = this.#levels;
    let k = l.length - 1;
    while (k > 0 && l[k]!.low.length * RATIO <= l[k - 1]!.low.length) k--;
    return Math.max(0, k); // no levels at all after a spill took them
  }

  async #mergeLoop(): Promise<void> {
    const epoch = this.#epoch;
    const stale = () => epoch !== this.#epoch;
    try {
      for (;;) {
        if (this.#overResident()) {
          if (!(await this.#spill(stale))) return;
          continue;
        }
        const l = this.#levels;
        const k = this.#pairToMerge();
        if (k === 0) return;
        const merged = await mergeInSlices(l[k - 1]!, l[k]!, stale);
        if (!merged || stale()) return;
        const now = this.#levels;
        this.#levels = [...now.slice(0, k - 1), merged, ...now.slice(k + 1)];
        release(l[k - 1]!);
        release(l[k]!);
      }
    } finally {
      if (!stale()) this.#merging = undefined;
    }
  }

  /**
   * Rewrites the spill file with every level now in memory, bucket by bucket, in slices between
   * which the host thread is free; probes keep using the old file and the levels until the new
   * file replaces both. Levels added meanwhile stay in memory. False: stale, or failed (then the
   * entries stay in memory and spilling stops: spillError says why).
   */
  async #spill(stale: () => boolean): Promise<boolean> {
    await nextTurn();
    if (stale()) return false;
    const levels = this.#levels;
    const old = this.#spilled;
    let fd: number | undefined;
    try {
      const path = join(this.#spillDir, `.chronoscope-ids-${process.pid}-${randomUUID()}.tmp`);
      fd = openSync(path, 'wx+', 0o600);
      unlinkSync(path);
      const starts = emptyStarts();
      const bloom = new Bloom(levels.reduce((n, t) => n + t.low.length, old ? old.starts[BUCKETS]! : 0));
      const chunk = new Uint32Array(SPILL_CHUNK / 4);
      let inChunk = 0;
      let written = 0;
      let pos = 0;
      let bucketBuf = new Uint32Array(1024);
      const oldEntries = old ? new SpillReader(old.fd, old.starts[BUCKETS]!) : undefined;
      const slice = new TimeSlice();
      for (let bucket = 0; bucket < BUCKETS; bucket++) {
        starts[bucket] = written;
        let n = old ? old.starts[bucket + 1]! - old.starts[bucket]! : 0;
        for (const t of levels) n += t.starts[bucket + 1]! - t.starts[bucket]!;
        if (n === 0) continue;
        if (bucketBuf.length < n) bucketBuf = new Uint32Array(Math.max(n, 2 * bucketBuf.length));
        let k = 0;
        if (old && oldEntries) {
          const from = old.starts[bucket]!;
          k = old.starts[bucket + 1]! - from;
          if (k > 0) oldEntries.read(from, from + k, bucketBuf);
        }
        for (const t of levels)
          for (let i = t.starts[bucket]!, e = t.starts[bucket + 1]!; i < e; i++)
            bucketBuf[k++] = ((t.low[i]! << 16) | (t.tag[i]! << 8) | t.check[i]!) >>> 0;
        const entries = bucketBuf.subarray(0, n);
        entries.sort();
        const top = bucket << 16;
        for (let i = 0; i < n; i++) {
          bloom.add((top | (entries[i]! >>> 16)) >>> 0);
          chunk[inChunk++] = entries[i]!;
          if (inChunk === chunk.length) {
            writeAll(fd, chunk, 4 * inChunk, pos);
            pos += 4 * inChunk;
            inChunk = 0;
          }
        }
        written += n;
        if (slice.over(bucket)) {
          await slice.yield();
          if (stale()) {
            closeSync(fd);
            return false;
          }
        }
      }
      if (inChunk > 0) writeAll(fd, chunk, 4 * inChunk, pos);
      starts[BUCKETS] = written;
      // Only the levels taken above leave memory; any added since stay (they come after them).
      this.#levels = this.#levels.slice(levels.length);
      for (const t of levels) release(t);
      this.#spilled = { fd, starts, scratch: new Uint32Array(1024), bloom };
      if (old) closeSync(old.fd);
      return true;
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      this.spillError = err instanceof Error ? err : new Error(String(err));
      return false;
    }
  }
}

function writeAll(fd: number, data: Uint32Array, bytes: number, pos: number): void {
  let done = 0;
  while (done < bytes) done += writeSync(fd, data, done, bytes - done, pos + done);
}

function emptyStarts(): Uint32Array {
  return new Uint32Array(BUCKETS + 1);
}

/** One segment's sorted hashes as a table (already in order: one tag). */
function fromSorted(keys: Uint32Array, tag: number, checks?: Uint8Array): Table {
  const n = keys.length;
  const low = new Uint16Array(n);
  const starts = emptyStarts();
  let bucket = 0;
  for (let k = 0; k < n; k++) {
    const h = keys[k]!;
    const top = h >>> 16;
    while (bucket <= top) starts[bucket++] = k;
    low[k] = h & 0xffff;
  }
  while (bucket <= BUCKETS) starts[bucket++] = n;
  return { low, tag: new Uint8Array(n).fill(tag), check: checks ?? new Uint8Array(n), starts };
}

/** Every list at once by bucket (a counting sort on the top 16 bits), each bucket sorted by (low, tag). */
function buildAll(lists: TaggedHashes[]): Table {
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
  if (lists.length > 1)
    for (let b = 0; b < BUCKETS; b++)
      if (starts[b + 1]! - starts[b]! > 1) packed.subarray(starts[b], starts[b + 1]).sort();
  const low = new Uint16Array(n);
  const tag = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    low[i] = packed[i]! >>> 8;
    tag[i] = packed[i]! & 0xff;
  }
  return { low, tag, check: new Uint8Array(n), starts };
}

/** Merges two tables bucket by bucket, yielding to the event loop every SLICE_MS. */
async function mergeInSlices(a: Table, b: Table, stale: () => boolean): Promise<Table | undefined> {
  // Its first slice runs on a later turn: the caller (a seal's refresh) should not pay for it.
  await nextTurn();
  if (stale()) return undefined;
  const n = a.low.length + b.low.length;
  // Every entry is written below: arrays of millions of entries are not zero-filled first (that
  // alone held the thread ~5 ms for 12M ids).
  const bytes = Buffer.allocUnsafeSlow(4 * n);
  const low = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
  const tag = new Uint8Array(bytes.buffer, bytes.byteOffset + 2 * n, n);
  const check = new Uint8Array(bytes.buffer, bytes.byteOffset + 3 * n, n);
  const starts = emptyStarts();
  let k = 0;
  const slice = new TimeSlice();
  for (let bucket = 0; bucket < BUCKETS; bucket++) {
    starts[bucket] = k;
    let i = a.starts[bucket]!;
    const ie = a.starts[bucket + 1]!;
    let j = b.starts[bucket]!;
    const je = b.starts[bucket + 1]!;
    while (i < ie && j < je) {
      if (((a.low[i]! << 8) | a.tag[i]!) <= ((b.low[j]! << 8) | b.tag[j]!)) {
        low[k] = a.low[i]!;
        check[k] = a.check[i]!;
        tag[k++] = a.tag[i++]!;
      } else {
        low[k] = b.low[j]!;
        check[k] = b.check[j]!;
        tag[k++] = b.tag[j++]!;
      }
    }
    for (; i < ie; i++) {
      low[k] = a.low[i]!;
      check[k] = a.check[i]!;
      tag[k++] = a.tag[i]!;
    }
    for (; j < je; j++) {
      low[k] = b.low[j]!;
      check[k] = b.check[j]!;
      tag[k++] = b.tag[j]!;
    }
    if (k < n && slice.over(bucket)) {
      await slice.yield();
      if (stale()) return undefined;
    }
  }
  starts[BUCKETS] = n;
  return { low, tag, check, starts, owned: [bytes.buffer as ArrayBuffer, starts.buffer as ArrayBuffer] };
}

/**
 * Frees a replaced table's own buffers now. Left to the collector, they would stay allocated until
 * a full collection (the table is long-lived, so old-generation): at 12 M ids the largest merge
 * replaces ~48 MB, which the process held twice over for seconds. Transferring a buffer detaches it
 * here and hands its memory to a fresh, unreferenced buffer that the next young collection frees.
 * Nothing reads a table once the levels no longer hold it (probes are synchronous, and a merge
 * reads only the levels it is replacing).
 */
function release(t: Table): void {
  for (const b of t.owned ?? []) structuredClone(b, { transfer: [b] });
  t.owned = undefined;
}
