import type { StoredEvent } from '../../../shared/event';
import { matchesFilter, type EventFilter, type QueryPlanInfo } from '../../../shared/query';
import { isAscii } from 'node:buffer';
import type { Kind, SegmentIndex } from './segmentIndex';
import { lowerBound } from '../memory/sortedSeqs';
import { IdHashes, idCheck, TAG_SPAN } from './idHashes';
import { IndexCache, type SealedSegment } from './indexCache';
import { keyHash } from './keyHash';
import type { SegmentRecord, SqliteIndex } from './SqliteIndex';

export type { SealedSegment } from './indexCache';

/** What stays resident per sealed segment: enough to prune it by seq and time without its index. */
interface SegmentMeta {
  rec: SegmentRecord;
  firstSeq: number;
  lastSeq: number;
  n: number;
  minTime: number;
  maxTime: number;
}

/** From the index itself, so pruning compares exactly what the index holds. */
const metaOf = (s: SealedSegment): SegmentMeta => ({
  rec: s.rec,
  firstSeq: s.ix.firstSeq,
  lastSeq: s.ix.lastSeq,
  n: s.ix.n,
  minTime: s.ix.minTime,
  maxTime: s.ix.maxTime,
});

/** How the tier reads records; `scan` says neighbours will follow, so whole blocks are worth inflating. */
export interface RecordSource {
  /** The record's bytes, CRC-checked; possibly a view valid until the next read. */
  raw(seg: SealedSegment, ord: number, scan?: boolean): Buffer;
  /** The event in bytes `raw` returned for `ord`. */
  parse(seg: SealedSegment, ord: number, raw: Buffer): StoredEvent;
}

/**
 * For a text search, a test on a record's raw JSON that is false only when the event cannot match,
 * so most records are never parsed. Sound for a needle of printable ASCII without `"` or `\`: in
 * JSON.stringify output such a needle inside a string or number appears verbatim, and on an
 * all-ASCII line `toLowerCase` is ASCII lower-casing. Lines with other bytes are always parsed
 * (e.g. U+212A KELVIN SIGN lower-cases to "k").
 */
function rawTextTest(search: string | undefined): ((raw: Buffer) => boolean) | undefined {
  if (search === undefined) return undefined;
  const needle = search.toLowerCase();
  if (!/^[\x20-\x7e]+$/.test(needle) || needle.includes('"') || needle.includes('\\')) return undefined;
  return (raw) => !isAscii(raw) || raw.toString('latin1').toLowerCase().includes(needle);
}

/** A stream prefix matching more streams than this is filtered after loading instead of by postings. */
const MAX_PREFIX_STREAMS = 500;

/** Merges sorted arrays into one sorted array (4 bytes per sealed event for the id hashes). */
function unionSorted(lists: ArrayLike<number>[]): ArrayLike<number> {
  if (lists.length === 1) return lists[0]!;
  const all: number[] = [];
  for (const l of lists) for (let i = 0; i < l.length; i++) all.push(l[i]!);
  all.sort((a, b) => a - b);
  return all.filter((x, i) => i === 0 || all[i - 1] !== x);
}

function intersectSorted(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      out.push(x);
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return out;
}

/** The check bytes of a segment's id entries (in keyHashes order), or undefined when not known. */
function entryChecks(
  seg: SealedSegment,
  checks: ((firstSeq: number, n: number) => Uint8Array) | undefined,
): Uint8Array | undefined {
  const ords = seg.ix.keyOrdinals('id');
  if (!checks || !ords) return undefined;
  const byOrd = checks(seg.ix.firstSeq, seg.ix.n);
  const out = new Uint8Array(ords.length);
  for (let k = 0; k < ords.length; k++) out[k] = byOrd[ords[k]!]!;
  return out;
}

/** Default byte budget of resident segment indexes (a W1M segment's index is ~1.7 MB parsed). */
export const DEFAULT_INDEX_CACHE_BYTES = 64 << 20;
/**
 * Share of that budget the sealed id table holds in memory (8 MiB, 2M ids); the rest of its ids are
 * in its spill file. The resident part grows until it passes the share, then moves to the file at
 * once: a sawtooth. At a quarter it swung external memory by ~25 MB every ~200 s of a 20k ev/s soak.
 */
export const ID_TABLE_SHARE = 0.125;

/**
 * The sealed tier: answers lookups and filtered pages by intersecting per-segment postings,
 * pruning whole segments by seq and time range, and checking each candidate against the filter's
 * one definition (matchesFilter). Segment indexes are loaded from the catalogue on demand and kept
 * in a bounded LRU (IndexCache); only each segment's seq and time range and the id hash table
 * (4 bytes per sealed event, charged to the same budget as the cached indexes) stay resident.
 */
export class SealedTier {
  #segs: SegmentMeta[] = [];
  /** Every sealed id's 32-bit hash with its segment's tag: "may this id exist?" and where to look. */
  readonly #ids: IdHashes;
  readonly #cache: IndexCache;
  readonly #tagScratch = new Uint8Array(TAG_SPAN);
  /** Whether refresh has run once (the first run is the open). */
  #opened = false;

  /**
   * `spillDir`: where the id table keeps the ids beyond its share of the budget (a folder on the
   * store's disk; the file is unlinked as soon as it is created).
   */
  constructor(
    private readonly db: SqliteIndex,
    private readonly src: RecordSource,
    indexCacheBytes = DEFAULT_INDEX_CACHE_BYTES,
    spillDir?: string,
  ) {
    // The id table counts against the indexes' budget: a growing store trades cached indexes for
    // ids instead of growing both, and past a quarter of the budget the ids move to a file, so the
    // tier's memory stays bounded however large the store grows.
    this.#ids = new IdHashes({ residentBytes: indexCacheBytes * ID_TABLE_SHARE, spillDir });
    this.#cache = new IndexCache(db, indexCacheBytes, () => this.#ids.bytes);
  }

  /** Lets go of the id table's spill file. */
  close(): void {
    this.#ids.close();
  }

  private load(seg: SealedSegment, ord: number, scan = false): StoredEvent {
    return this.src.parse(seg, ord, this.src.raw(seg, ord, scan));
  }

  /** The segment's index: a caller holds it only while it works on that segment. */
  #open(m: SegmentMeta): SealedSegment {
    return this.#cache.get(m.rec);
  }

  /**
   * Takes in segments the catalogue has and this tier lacks (after a seal or rebuild). Their
   * indexes are read once here for their id hashes; the newest stay cached. `checks` gives the
   * idCheck bytes of a new segment's events by ordinal, when this process appended them; `fresh`
   * is the index blob of a segment just sealed, so it is not read back from the catalogue.
   */
  refresh(
    checks?: (firstSeq: number, n: number) => Uint8Array,
    fresh?: { segmentId: number; blob: Uint8Array },
  ): void {
    const have = new Map(this.#segs.map((s) => [s.rec.id, s]));
    // Opening: every index is read once, its ids copied out (4 bytes an id) and the index let go,
    // so an open holds the ids of all segments but only the cached indexes.
    const opening = !this.#opened;
    this.#opened = true;
    const next: SegmentMeta[] = [];
    const added: { seg?: SealedSegment; keys?: Uint32Array; tag: number }[] = [];
    let appendedOnly = !opening;
    // Only what the index's cached lastIndexedSeq covers: reads split sealed from hot there, and
    // beside a live writer the catalogue may already hold a later segment whose events the hot tier
    // still serves (they would be read twice).
    const through = this.db.lastIndexedSeq();
    for (const rec of this.db.segments()) {
      if (rec.lastSeq > through) break;
      const known = have.get(rec.id);
      if (known) {
        next.push(known);
        continue;
      }
      const seg = this.#cache.get(rec, rec.id === fresh?.segmentId ? fresh.blob : undefined);
      if (next.length < this.#segs.length) appendedOnly = false;
      next.push(metaOf(seg));
      const tag = next.length - 1;
      added.push(opening ? { keys: seg.ix.keyHashes('id').slice(), tag } : { seg, tag });
    }
    appendedOnly &&= next.length - added.length === this.#segs.length;
    this.#cache.retain(new Set(next.map((s) => s.rec.id)));
    // Usually one new segment at the end: its ids join in the background instead of re-sorting
    // all of them. Otherwise (open, or positions, which are the tags, moved) all are sorted at once.
    if (appendedOnly)
      for (const a of added) this.#ids.add(a.seg!.ix.keyHashes('id'), a.tag, entryChecks(a.seg!, checks));
    else {
      const copied = new Map(added.filter((a) => a.keys).map((a) => [a.tag, a.keys!]));
      this.#ids.reset(
        next.map((m, i) => ({ keys: copied.get(i) ?? this.#open(m).ix.keyHashes('id'), tag: i })),
      );
    }
    this.#segs = next;
    // The ids just added may leave less room for indexes; the newest (likeliest to be read) stays.
    this.#cache.trim(next[next.length - 1]?.rec.id);
  }

  /** One segment's index by catalogue id (verify), or undefined if this tier does not hold it. */
  index(id: number): SegmentIndex | undefined {
    const m = this.#segs.find((s) => s.rec.id === id);
    return m ? this.#open(m).ix : undefined;
  }

  /** Resident index bytes and indexes read so far (tests and diagnostics). */
  get cacheStats(): { bytes: number; size: number; loads: number; idBytes: number; idsSpilled: number } {
    const c = this.#cache;
    return {
      bytes: c.bytes,
      size: c.size,
      loads: c.loads,
      idBytes: this.#ids.bytes,
      idsSpilled: this.#ids.spilledSize,
    };
  }

  /** Resolves once the id hash table has merged every segment added so far (tests). */
  settled(): Promise<void> {
    return this.#ids.settled();
  }

  get lastSeq(): number {
    return this.#segs.length ? this.#segs[this.#segs.length - 1]!.lastSeq : 0;
  }

  #segmentFor(seq: number): SegmentMeta | undefined {
    let lo = 0;
    let hi = this.#segs.length - 1;
    while (lo <= hi) {
      const m = (lo + hi) >>> 1;
      const s = this.#segs[m]!;
      if (seq < s.firstSeq) hi = m - 1;
      else if (seq > s.lastSeq) lo = m + 1;
      else return s;
    }
    return undefined;
  }

  getBySeq(seq: number): StoredEvent | undefined {
    const m = this.#segmentFor(seq);
    return m ? this.load(this.#open(m), seq - m.firstSeq) : undefined;
  }

  /**
   * Only segments whose tag the id table names for this id's hash are searched, newest first.
   * `oneOff`: a look that should not keep the indexes it reads (IndexCache.peek).
   */
  getById(id: string, oneOff = false): StoredEvent | undefined {
    const tags = this.#tagScratch;
    const h = keyHash(id);
    if (this.#ids.tags(h >>> 0, tags, idCheck(h)) === 0) return undefined;
    for (let i = this.#segs.length - 1; i >= 0; i--) {
      if (!tags[i % TAG_SPAN]) continue;
      const m = this.#segs[i]!;
      const s = oneOff ? this.#cache.peek(m.rec) : this.#open(m);
      const ords = s.ix.lookup('id', id);
      for (let k = 0; k < ords.length; k++) {
        const e = this.load(s, ords[k]!);
        if (e.id === id) return e;
      }
    }
    return undefined;
  }

  /** Whether this id may be sealed (hash hit); lets the sequencer skip loads for new ids. `h`: keyHash(id). */
  mayHaveId(id: string, h = keyHash(id)): boolean {
    return this.#ids.has(h >>> 0, idCheck(h));
  }

  stream(stream: string, fromVersion: number, toVersion: number): StoredEvent[] {
    const out: StoredEvent[] = [];
    for (const m of this.#segs) {
      const s = this.#open(m);
      const ords = s.ix.lookup('stream', stream);
      for (let k = 0; k < ords.length; k++) {
        const e = this.load(s, ords[k]!);
        if (e.stream === stream && e.version >= fromVersion && e.version <= toVersion) out.push(e);
      }
    }
    return out;
  }

  /**
   * The stream's highest sealed version (0 if none), searching from the newest segment. A stream the
   * catalogue does not know is answered there: a new stream's first append must not load the index
   * of every segment.
   */
  lastVersion(stream: string): number {
    if (!this.db.mayHaveStream(stream)) return 0;
    for (let i = this.#segs.length - 1; i >= 0; i--) {
      const s = this.#open(this.#segs[i]!);
      const ords = s.ix.lookup('stream', stream);
      for (let k = ords.length - 1; k >= 0; k--) {
        const e = this.load(s, ords[k]!);
        if (e.stream === stream) return e.version;
      }
    }
    return 0;
  }

  readFrom(fromSeq: number, limit: number): StoredEvent[] {
    const out: StoredEvent[] = [];
    for (const m of this.#segs) {
      if (m.lastSeq < fromSeq) continue;
      const s = this.#open(m);
      for (let ord = Math.max(0, fromSeq - m.firstSeq); ord < m.n && out.length < limit; ord++)
        out.push(this.load(s, ord, true));
      if (out.length >= limit) break;
    }
    return out;
  }

  /**
   * Adds the sealed events matching `f` to time buckets (`from` a whole second, `bucketMs` a whole
   * number of seconds). Events are counted from the index's coarse seconds without being read,
   * except where that cannot decide: JSON predicates, text search, a stream prefix too wide to
   * index, or a since/until edge inside the event's second. Index keys are 32-bit hashes, so a key
   * filter may count a colliding event (odds ~1e-5 per key per segment); the event list never does.
   */
  histogram(f: EventFilter, from: number, bucketMs: number, counts: number[]): void {
    const to = from + bucketMs * counts.length;
    const tLo = Math.max(from, f.since === undefined ? -Infinity : Date.parse(f.since));
    const tHi = Math.min(to, f.until === undefined ? Infinity : Date.parse(f.until));
    let prefixStreams: string[] | undefined;
    let residual = f.where !== undefined || f.search !== undefined;
    if (f.streamPrefix !== undefined) {
      const names = this.db.streamNames(f.streamPrefix, MAX_PREFIX_STREAMS + 1);
      if (names.length <= MAX_PREFIX_STREAMS) prefixStreams = names;
      else residual = true;
    }
    const lo = f.fromSeq ?? 1;
    const hi = f.toSeq ?? Number.MAX_SAFE_INTEGER;
    for (const m of this.#segs) {
      if (m.lastSeq < lo || m.firstSeq > hi || m.maxTime < tLo || m.minTime >= tHi) continue;
      const s = this.#open(m);
      const ix = s.ix;
      const c = this.#candidates(s, f, prefixStreams);
      const oLo = Math.max(0, lo - ix.firstSeq);
      const oHi = Math.min(ix.n - 1, hi - ix.firstSeq);
      const visit = (ord: number) => {
        if (ord < oLo || ord > oHi) return;
        const sec = ix.coarseSecond(ord);
        if (sec !== undefined && (sec + 1000 <= tLo || sec >= tHi)) return;
        const wholeSecondInside = sec !== undefined && sec >= tLo && sec + 1000 <= tHi;
        if (!residual && wholeSecondInside) {
          counts[Math.floor((sec - from) / bucketMs)]!++;
          return;
        }
        const e = this.load(s, ord, !c.ords);
        const t = Date.parse(e.time);
        if (t >= tLo && t < tHi && matchesFilter(e, f)) counts[Math.floor((t - from) / bucketMs)]!++;
      };
      if (c.ords) for (let i = 0; i < c.ords.length; i++) visit(c.ords[i]!);
      else for (let o = oLo; o <= oHi; o++) visit(o);
    }
  }

  /** Earliest and latest event time over all sealed segments. */
  timeBounds(): { min: number; max: number } | undefined {
    if (!this.#segs.length) return undefined;
    let min = Infinity;
    let max = -Infinity;
    for (const s of this.#segs) {
      min = Math.min(min, s.minTime);
      max = Math.max(max, s.maxTime);
    }
    return { min, max };
  }

  /** Candidate ordinals of one segment for a filter, or undefined for "every ordinal". */
  #candidates(
    s: SealedSegment,
    f: EventFilter,
    prefixStreams: string[] | undefined,
  ): { ords?: ArrayLike<number>; index: string } {
    const lists: { kind: string; ords: ArrayLike<number> }[] = [];
    const one = (kind: Kind, v: string | undefined) =>
      v !== undefined && lists.push({ kind, ords: s.ix.lookup(kind, v) });
    if (f.types?.length)
      lists.push({ kind: 'type', ords: unionSorted(f.types.map((t) => s.ix.lookup('type', t))) });
    one('stream', f.stream);
    one('tenant', f.tenant);
    one('actor', f.actor);
    one('correlation', f.correlationId);
    one('causation', f.causationId);
    for (const t of f.tags ?? []) one('tag', t);
    if (prefixStreams)
      lists.push({
        kind: 'stream-prefix',
        ords: prefixStreams.length ? unionSorted(prefixStreams.map((p) => s.ix.lookup('stream', p))) : [],
      });
    if (!lists.length)
      return {
        index:
          f.since !== undefined || f.until !== undefined
            ? 'time'
            : f.fromSeq !== undefined || f.toSeq !== undefined
              ? 'seq-range'
              : 'scan',
      };
    lists.sort((a, b) => a.ords.length - b.ords.length);
    let ords: ArrayLike<number> = lists[0]!.ords;
    for (let i = 1; i < lists.length && ords.length; i++) ords = intersectSorted(ords, lists[i]!.ords);
    return { ords, index: lists.length > 1 ? `${lists[0]!.kind}+${lists.length - 1}` : lists[0]!.kind };
  }

  /** One page of matching sealed events after `after` (exclusive, in the direction of travel). */
  query(
    f: EventFilter,
    order: 'asc' | 'desc',
    limit: number,
    after: number | undefined,
  ): { events: StoredEvent[]; plan: QueryPlanInfo } {
    const lo = Math.max(f.fromSeq ?? 1, order === 'asc' && after !== undefined ? after + 1 : 1);
    const hi = Math.min(
      f.toSeq ?? Number.MAX_SAFE_INTEGER,
      order === 'desc' && after !== undefined ? after - 1 : Number.MAX_SAFE_INTEGER,
    );
    const tLo = f.since === undefined ? -Infinity : Date.parse(f.since);
    const tHi = f.until === undefined ? Infinity : Date.parse(f.until);
    let prefixStreams: string[] | undefined;
    if (f.streamPrefix !== undefined) {
      const names = this.db.streamNames(f.streamPrefix, MAX_PREFIX_STREAMS + 1);
      if (names.length <= MAX_PREFIX_STREAMS) prefixStreams = names;
    }
    const out: StoredEvent[] = [];
    const plan: QueryPlanInfo = { index: 'scan', estimate: 0, scanned: 0 };
    const textTest = rawTextTest(f.search);
    let planned = false;
    const segs = order === 'asc' ? this.#segs : [...this.#segs].reverse();
    for (const m of segs) {
      if (out.length >= limit) break;
      if (m.lastSeq < lo || m.firstSeq > hi) continue;
      if (m.maxTime < tLo || m.minTime >= tHi) continue;
      const s = this.#open(m);
      const ix = s.ix;
      const c = this.#candidates(s, f, prefixStreams);
      if (!planned) {
        plan.index = c.index;
        planned = true;
      }
      let oLo = Math.max(0, lo - ix.firstSeq);
      let oHi = Math.min(ix.n - 1, hi - ix.firstSeq);
      const timed = tLo !== -Infinity || tHi !== Infinity;
      const range = timed ? ix.timeOrdRange(tLo, tHi) : undefined;
      if (range) {
        oLo = Math.max(oLo, range[0]);
        oHi = Math.min(oHi, range[1]);
      }
      // Dense postings (a block's worth of candidates per block, e.g. a type) read like a scan.
      const scan = !c.ords || c.ords.length >= ix.blockCount;
      const visit = (ord: number) => {
        if (ord < oLo || ord > oHi) return;
        if (timed && !range && !ix.mayBeInTime(ord, tLo, tHi)) return;
        plan.scanned++;
        const raw = this.src.raw(s, ord, scan);
        if (textTest && !textTest(raw)) return;
        const e = this.src.parse(s, ord, raw);
        if (matchesFilter(e, f)) out.push(e);
      };
      if (c.ords) {
        plan.estimate += c.ords.length;
        // Start at the cursor by binary search: a page deep into a big posting list costs no scan.
        const ords = c.ords;
        if (order === 'asc')
          for (let i = lowerBound(ords, oLo); i < ords.length && ords[i]! <= oHi && out.length < limit; i++)
            visit(ords[i]!);
        else
          for (let i = lowerBound(ords, oHi + 1) - 1; i >= 0 && ords[i]! >= oLo && out.length < limit; i--)
            visit(ords[i]!);
      } else {
        plan.estimate += Math.max(0, oHi - oLo + 1);
        if (order === 'asc') for (let o = oLo; o <= oHi && out.length < limit; o++) visit(o);
        else for (let o = oHi; o >= oLo && out.length < limit; o--) visit(o);
      }
    }
    return { events: out, plan };
  }
}
