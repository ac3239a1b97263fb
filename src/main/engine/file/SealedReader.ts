import { readSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { BgzfError, BGZF_EOF, MAX_BLOCK_SIZE } from './bgzf';
import { inflateRawInto } from './rawInflate';
import type { SegmentIndex } from './segmentIndex';

/** What the reader needs to know about one sealed file. */
export interface SealedFile {
  /** Catalogue id: the cache key's high part. */
  id: number;
  fd: number;
  /** File size: gives the last data member's size (the EOF member follows it). */
  bytes: number;
  ix: SegmentIndex;
}

/** How many blocks read in part are remembered: a block asked for again soon after is inflated whole. */
const RECENT_PARTIAL = 64;

const ENTRY_OVERHEAD = 96;
/** Keys are id * 2^26 + block: exact below 2^53 for ids < 2^27 and ≤ 2^26 blocks per file. */
const BLOCK_SPAN = 2 ** 26;
const MAX_CACHED_ID = 2 ** 27;

/**
 * Reads records out of sealed blocked-gzip segments using the segment index's block table: one
 * pread per member (its size comes from the table, not from a header read first), one reused
 * inflate handle, and, for a point read, inflation only up to the record's end into a scratch
 * buffer (no allocation). A block asked for again soon after is inflated whole and kept in an
 * LRU within a byte budget, so postings-driven pages inflate a block at most twice, and scans
 * (the caller says so) once; random point reads, which rarely return to a block, keep nothing.
 */
export class SealedReader {
  readonly #budget: number;
  readonly #lru = new Map<number, Buffer>();
  /** Keys of blocks recently inflated only in part (insertion-ordered, bounded). */
  readonly #recent = new Set<number>();
  #bytes = 0;
  readonly #cbuf = Buffer.allocUnsafe(MAX_BLOCK_SIZE);
  readonly #ubuf = Buffer.allocUnsafe(MAX_BLOCK_SIZE);

  constructor(budgetBytes: number) {
    this.#budget = budgetBytes;
  }

  /** Bytes held by cached blocks. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * The bytes of record `ord` (no newline). The result may be a view of a cached block: use it
   * before the next call. `scan` inflates whole blocks straight away (neighbours will follow).
   */
  record(f: SealedFile, ord: number, scan = false): Buffer {
    const { u, len } = f.ix.recordSpan(ord);
    const b = f.ix.blockAt(u);
    const at = u - f.ix.blockStart(b);
    if (at + len <= f.ix.blockSize(b)) {
      const data = this.#block(f, b, scan ? Infinity : at + len);
      return data.subarray(at, at + len);
    }
    // A record longer than a block runs on through the next ones (rare: only oversized lines).
    const out = Buffer.allocUnsafe(len);
    let got = 0;
    for (let k = b, from = at; got < len; k++, from = 0) {
      if (k >= f.ix.blockCount) throw new BgzfError(f.bytes, 'record continues past the last data block');
      const data = this.#block(f, k, Infinity);
      got += data.copy(out, got, from, Math.min(data.length, from + len - got));
    }
    return out;
  }

  /** Drops the cached blocks of one file (its fd is being closed or the file replaced). */
  evictFile(id: number): void {
    for (const key of [...this.#lru.keys()]) if (Math.floor(key / BLOCK_SPAN) === id) this.#remove(key);
    for (const key of [...this.#recent]) if (Math.floor(key / BLOCK_SPAN) === id) this.#recent.delete(key);
  }

  /**
   * Block `b` inflated at least to `need` bytes (Infinity: whole, and checked against its CRC).
   * May be a view of the scratch buffer, valid until the next call.
   */
  #block(f: SealedFile, b: number, need: number): Buffer {
    const cacheable = f.id < MAX_CACHED_ID && b < BLOCK_SPAN;
    const key = f.id * BLOCK_SPAN + b;
    const hit = cacheable ? this.#lru.get(key) : undefined;
    if (hit) {
      this.#lru.delete(key);
      this.#lru.set(key, hit);
      return hit;
    }
    const usize = f.ix.blockSize(b);
    const again = cacheable && this.#recent.delete(key);
    if (!again && need < usize) {
      if (cacheable) {
        this.#recent.add(key);
        if (this.#recent.size > RECENT_PARTIAL) this.#recent.delete(this.#recent.values().next().value!);
      }
      return this.#inflate(f, b, need, usize, this.#ubuf);
    }
    const data = this.#inflate(f, b, usize, usize, Buffer.allocUnsafe(usize));
    if (cacheable) this.#put(key, data);
    return data;
  }

  /** Inflates block `b`'s first `need` bytes into `out` and returns that view of it. */
  #inflate(f: SealedFile, b: number, need: number, usize: number, out: Buffer): Buffer {
    const coff = f.ix.blockOffset(b);
    const next = b + 1 < f.ix.blockCount ? f.ix.blockOffset(b + 1) : f.bytes - BGZF_EOF.length;
    const csize = next - coff;
    if (csize < 26 || csize > MAX_BLOCK_SIZE)
      throw new BgzfError(coff, `index gives this member ${csize} bytes, impossible for blocked gzip`);
    const c = this.#cbuf;
    let got = 0;
    while (got < csize) {
      const n = readSync(f.fd, c, got, csize - got, coff + got);
      if (n === 0) break;
      got += n;
    }
    if (got < csize) throw new BgzfError(coff, `truncated member: ${got} of ${csize} bytes present`);
    if (c[0] !== 0x1f || c[1] !== 0x8b || c[2] !== 8 || c[3] !== 4)
      throw new BgzfError(coff, 'bad member header');
    const hlen = 12 + c.readUInt16LE(10);
    if (hlen + 8 > csize || c.readUInt16LE(16) + 1 !== csize || c[12] !== 66 || c[13] !== 67)
      throw new BgzfError(coff, `member size does not match the index (${csize} bytes expected)`);
    const isize = c.readUInt32LE(csize - 4);
    if (isize !== usize) throw new BgzfError(coff, `ISIZE ${isize} but the index expects ${usize}`);
    let produced: number;
    try {
      produced = inflateRawInto(c.subarray(hlen, csize - 8), out, need);
    } catch (e) {
      throw new BgzfError(coff, `inflate failed: ${(e as Error).message}`);
    }
    if (produced !== need) throw new BgzfError(coff, `block inflates to ${produced} bytes, ${need} expected`);
    const data = out.length === need ? out : out.subarray(0, need);
    // A whole block is checked against its member CRC; a prefix relies on the record CRCs.
    if (need === usize && crc32(data) !== c.readUInt32LE(csize - 8))
      throw new BgzfError(coff, 'CRC32 mismatch');
    return data;
  }

  #put(key: number, data: Buffer): void {
    const cost = data.length + ENTRY_OVERHEAD;
    if (cost > this.#budget) return;
    this.#lru.set(key, data);
    this.#bytes += cost;
    if (this.#bytes <= this.#budget) return;
    for (const oldest of this.#lru.keys()) {
      if (this.#bytes <= this.#budget) break;
      this.#remove(oldest);
    }
  }

  #remove(key: number): void {
    const data = this.#lru.get(key);
    if (!data) return;
    this.#lru.delete(key);
    this.#bytes -= data.length + ENTRY_OVERHEAD;
  }
}
