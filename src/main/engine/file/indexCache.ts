import { ChronoscopeError } from '../../../shared/errors';
import { SegmentIndex } from './segmentIndex';
import type { SegmentRecord, SqliteIndex } from './SqliteIndex';

/** A sealed segment with its index (loaded; valid for as long as the caller holds it). */
export interface SealedSegment {
  rec: SegmentRecord;
  ix: SegmentIndex;
}

/**
 * Parsed size of an index: its blob, plus the 2-byte line steps and second deltas that parse
 * widens to 4-byte offsets and seconds.
 */
const parsedBytes = (blobBytes: number, n: number) => blobBytes + 4 * n;

/** Indexes handed over by seals that no read has asked for yet, kept beyond which the oldest go. */
export const MAX_UNREAD_SEALED = 2;

/**
 * Sealed segment indexes, loaded from the catalogue's blobs on demand and kept within a byte budget,
 * least recently used first out. An evicted index stays valid for whoever still holds it (a
 * running query keeps the one it is reading), so eviction only drops the cache's reference. The
 * entry just loaded is never evicted, so a budget smaller than one index still works.
 *
 * Indexes that seals hand over are kept only while fewer than MAX_UNREAD_SEALED of them wait unread
 * (a read makes one an ordinary entry): a writer sealing every few seconds would otherwise fill the
 * whole budget with indexes no one reads, pushing out the ones readers use, and grow the process
 * by the budget during a write-only run — the way a database keeps bulk writes out of its cache.
 */
export class IndexCache {
  /** Insertion order is recency: a hit is moved to the end. */
  readonly #map = new Map<number, { seg: SealedSegment; bytes: number }>();
  #bytes = 0;
  #loads = 0;
  /** Ids of the seal-handed indexes not read yet, oldest first. */
  readonly #unread = new Set<number>();

  /**
   * `reserved`: bytes held outside the cache that count against the same budget (the sealed id
   * table). The cache gives way as they grow, so the sealed tier's memory stays within one bound
   * while a store grows, the way a database charges its filters to its block cache.
   */
  constructor(
    private readonly db: SqliteIndex,
    private readonly budget: number,
    private readonly reserved: () => number = () => 0,
  ) {}

  /** What the cache itself may hold now. */
  get #room(): number {
    return Math.max(0, this.budget - this.reserved());
  }

  /**
   * The segment's index, from the cache or loaded from the catalogue; `known` is its blob when the
   * caller has it already (a seal just wrote it), which spares reading it back.
   */
  get(rec: SegmentRecord, known?: Uint8Array): SealedSegment {
    const hit = this.#map.get(rec.id);
    if (hit && hit.seg.rec === rec) {
      this.#map.delete(rec.id);
      this.#map.set(rec.id, hit);
      this.#unread.delete(rec.id);
      return hit.seg;
    }
    const { seg, bytes } = this.#load(rec, known);
    this.put(seg, bytes);
    if (known) {
      this.#unread.add(rec.id);
      for (const id of this.#unread) {
        if (this.#unread.size <= MAX_UNREAD_SEALED) break;
        this.drop(id);
      }
    }
    return seg;
  }

  /**
   * The segment's index for a one-off look: from the cache when there (without making it more
   * recent), else read without keeping it. The append path's duplicate check uses it: a new id
   * whose hash matches a sealed one's (~1 in 170,000 at 6 M sealed ids) must look, but those rare
   * looks would otherwise fill the budget with indexes no reader asked for.
   */
  peek(rec: SegmentRecord): SealedSegment {
    const hit = this.#map.get(rec.id);
    if (hit && hit.seg.rec === rec) return hit.seg;
    return this.#load(rec).seg;
  }

  #load(rec: SegmentRecord, known?: Uint8Array): { seg: SealedSegment; bytes: number } {
    const blob = known
      ? Buffer.from(known.buffer, known.byteOffset, known.byteLength)
      : this.db.segmentBlob(rec.id);
    if (!blob)
      throw new ChronoscopeError('CORRUPT', `segment ${rec.name} has no index in the catalogue`, {
        file: rec.name,
      });
    const seg = { rec, ix: SegmentIndex.parse(blob) };
    this.#loads++;
    return { seg, bytes: parsedBytes(blob.length, seg.ix.n) };
  }

  /** Adds (or replaces) a loaded index, then evicts the least recently used others over the budget. */
  put(seg: SealedSegment, bytes: number): void {
    this.drop(seg.rec.id);
    this.#map.set(seg.rec.id, { seg, bytes });
    this.#bytes += bytes;
    this.trim(seg.rec.id);
  }

  /** Evicts the least recently used entries over the room left (never `keep`, the one in use). */
  trim(keep?: number): void {
    const room = this.#room;
    for (const [id] of this.#map) {
      if (this.#bytes <= room || id === keep) break;
      this.drop(id);
    }
  }

  drop(id: number): void {
    const e = this.#map.get(id);
    if (!e) return;
    this.#map.delete(id);
    this.#unread.delete(id);
    this.#bytes -= e.bytes;
  }

  /** Forgets entries whose segment is no longer in the catalogue. */
  retain(ids: Set<number>): void {
    for (const id of [...this.#map.keys()]) if (!ids.has(id)) this.drop(id);
  }

  get bytes(): number {
    return this.#bytes;
  }
  get size(): number {
    return this.#map.size;
  }
  /** Indexes read from the catalogue so far (tests: evictions and reloads). */
  get loads(): number {
    return this.#loads;
  }
}
