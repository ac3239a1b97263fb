import type { StoredEvent } from '../../../shared/event';
import { matchesFilter, type EventFilter, type QueryPlanInfo } from '../../../shared/query';
import { ObjectRows, type EventRows, type LineBytes, type RowKey, type RowKeyKind } from './eventRows';
import { IdTable } from './idTable';
import { dropThrough, lowerBound, unionSorted, upperBound } from './sortedSeqs';

export { estimateEventBytes } from './eventRows';

const HOUR = 3_600_000;
type Multi = Map<RowKey, number[]>;

function add(m: Multi, key: RowKey, seq: number): void {
  const l = m.get(key);
  if (l) l.push(seq);
  else m.set(key, [seq]);
}

type LazyKind = Exclude<RowKeyKind, 'type'>;

/** One candidate access path for a query, with its exact size. */
interface Candidate {
  index: string;
  estimate: number;
  seqs: () => ArrayLike<number>;
}

/**
 * The classic multi-level in-memory event index: by seq, id, stream, type, stream+type, hour
 * bucket, tenant, actor, correlation, causation and tag. It is the memory backend on its own and
 * the file backend's hot tier. Every list is ascending by seq, because events arrive in seq order.
 */
export class MemoryIndex {
  readonly #rows: EventRows;
  #seqs: number[] = [];
  /** Estimated bytes of each held event (typed: 4 bytes an event instead of a tagged array slot). */
  #sizes = new Uint32Array(1024);
  readonly #byId = new IdTable((pos) => this.#rows.id(pos));
  readonly #byType: Multi = new Map();
  /**
   * Secondary indexes built on first use and caught up on each use (appends pay only for id and
   * type; the file backend's appends never ask for a hot stream, so even that index waits).
   */
  readonly #lazy = new Map<LazyKind, { map: Multi; upTo: number }>();
  #bytes = 0;
  /** Counts of index use, for metrics. */
  readonly indexUse = new Map<string, number>();

  /** `rows`: how the events are held (default: the objects themselves). */
  constructor(rows: EventRows = new ObjectRows()) {
    this.#rows = rows;
  }

  get size(): number {
    return this.#rows.length;
  }

  /** Gives back the rows' pooled buffers: the index is dropped and never used again. */
  release(): void {
    this.#rows.release?.();
  }
  get bytes(): number {
    return this.#bytes;
  }
  get firstSeq(): number {
    return this.#seqs[0] ?? 0;
  }
  get lastSeq(): number {
    return this.#seqs[this.#seqs.length - 1] ?? 0;
  }

  /**
   * Adds an event; its seq must be greater than every seq already held. `idHash`: keyHash32 of its
   * id, when the caller has it already (the append path hashes it once); `line`: its stored line,
   * for rows that keep lines.
   */
  add(e: StoredEvent, idHash?: number, line?: LineBytes): void {
    const seq = e.seq;
    const size = this.#rows.push(e, line);
    const at = this.#rows.length - 1;
    this.#seqs.push(seq);
    this.#byId.add(e.id, at, idHash);
    add(this.#byType, e.type, seq);
    if (at === this.#sizes.length) {
      const bigger = new Uint32Array(Math.max(1024, at * 2));
      bigger.set(this.#sizes);
      this.#sizes = bigger;
    }
    this.#sizes[at] = size;
    this.#bytes += size;
  }

  /** The lazy index of one kind, brought up to date with every held event. */
  #index(kind: LazyKind): Multi {
    let l = this.#lazy.get(kind);
    if (!l) this.#lazy.set(kind, (l = { map: new Map(), upTo: 0 }));
    const rows = this.#rows;
    const map = l.map;
    const seqs = this.#seqs;
    for (let i = l.upTo; i < rows.length; i++) {
      const k = rows.key(kind, i);
      if (k === undefined) continue;
      if (typeof k === 'object') for (const x of k) add(map, x, seqs[i]!);
      else add(map, k, seqs[i]!);
    }
    l.upTo = rows.length;
    return map;
  }

  /** The list of one key in a lazy index (a filter value looked up the way the rows file it). */
  #list(kind: LazyKind, value: string): number[] | undefined {
    return this.#index(kind).get(this.#rows.lookup(kind, value));
  }

  /** Row position of a seq, or -1. */
  #pos(seq: number): number {
    const first = this.#seqs[0];
    if (first === undefined) return -1;
    const guess = seq - first;
    if (this.#seqs[guess] === seq) return guess;
    const i = lowerBound(this.#seqs, seq);
    return this.#seqs[i] === seq ? i : -1;
  }

  getById(id: string): StoredEvent | undefined {
    const pos = this.#byId.get(id);
    return pos < 0 ? undefined : this.#rows.event(pos);
  }

  getBySeq(seq: number): StoredEvent | undefined {
    const pos = this.#pos(seq);
    return pos < 0 ? undefined : this.#rows.event(pos);
  }

  /** All held events of a stream, in version order. */
  stream(stream: string): readonly StoredEvent[] {
    const l = this.#list('stream', stream);
    if (!l) return [];
    // Rows filed by key hash may share a list with another stream: keep only this one's.
    const out: StoredEvent[] = [];
    for (const seq of l) {
      const e = this.getBySeq(seq)!;
      if (e.stream === stream) out.push(e);
    }
    return out;
  }

  streamVersion(stream: string): number {
    const l = this.#list('stream', stream) ?? [];
    // From the newest back: the first event of this stream (not a hash neighbour's) is its version.
    for (let i = l.length - 1; i >= 0; i--) {
      const e = this.getBySeq(l[i]!)!;
      if (e.stream === stream) return e.version;
    }
    return 0;
  }

  /** Names of the streams held. */
  streamNames(): Iterable<string> {
    return this.#index('stream').keys() as Iterable<string>;
  }

  streamCount(): number {
    return this.#index('stream').size;
  }

  /** Events with seq ≥ fromSeq, up to limit, in seq order. */
  readFrom(fromSeq: number, limit: number): StoredEvent[] {
    const out: StoredEvent[] = [];
    const from = lowerBound(this.#seqs, fromSeq);
    const end = Math.min(this.#rows.length, from + limit);
    for (let i = from; i < end; i++) out.push(this.#rows.event(i));
    return out;
  }

  /** Per-type and per-tenant counts, for stats. */
  counts(): { types: Record<string, number>; tenants: Record<string, number> } {
    const types: Record<string, number> = {};
    const tenants: Record<string, number> = {};
    for (const [k, v] of this.#byType) types[k as string] = v.length;
    for (const [k, v] of this.#index('tenant')) tenants[k as string] = v.length;
    return { types, tenants };
  }

  firstEvent(): StoredEvent | undefined {
    return this.#rows.length ? this.#rows.event(0) : undefined;
  }
  lastEvent(): StoredEvent | undefined {
    return this.#rows.length ? this.#rows.event(this.#rows.length - 1) : undefined;
  }

  /**
   * Picks the smallest exact candidate list among the filter's indexed fields, then walks it in
   * order from the cursor, applying the full predicate. `after` is an exclusive seq bound in the
   * direction of travel.
   */
  query(
    f: EventFilter,
    order: 'asc' | 'desc',
    limit: number,
    after?: number,
  ): { events: StoredEvent[]; plan: QueryPlanInfo } {
    const c = this.#plan(f);
    this.indexUse.set(c.index, (this.indexUse.get(c.index) ?? 0) + 1);
    const seqs = c.seqs();
    const out: StoredEvent[] = [];
    let scanned = 0;
    if (order === 'asc') {
      const lo = Math.max(f.fromSeq ?? 0, after === undefined ? 0 : after + 1);
      for (let i = lowerBound(seqs, lo); i < seqs.length && out.length < limit; i++) {
        const seq = seqs[i]!;
        if (f.toSeq !== undefined && seq > f.toSeq) break;
        scanned++;
        const e = this.getBySeq(seq);
        if (e && matchesFilter(e, f)) out.push(e);
      }
    } else {
      const hi = Math.min(
        f.toSeq ?? Number.MAX_SAFE_INTEGER,
        after === undefined ? Number.MAX_SAFE_INTEGER : after - 1,
      );
      for (let i = upperBound(seqs, hi) - 1; i >= 0 && out.length < limit; i--) {
        const seq = seqs[i]!;
        if (f.fromSeq !== undefined && seq < f.fromSeq) break;
        scanned++;
        const e = this.getBySeq(seq);
        if (e && matchesFilter(e, f)) out.push(e);
      }
    }
    return { events: out, plan: { index: c.index, estimate: c.estimate, scanned } };
  }

  /** Candidate access paths for a filter; every path is a superset of the matching events. */
  #candidates(f: EventFilter): Candidate[] {
    const list = (index: string, l: number[] | undefined): Candidate => ({
      index,
      estimate: l?.length ?? 0,
      seqs: () => l ?? [],
    });
    const out: Candidate[] = [];
    const seqRange = this.#seqRange(f);
    out.push({ index: f.fromSeq !== undefined || f.toSeq !== undefined ? 'seq-range' : 'scan', ...seqRange });
    if (f.stream !== undefined) {
      if (f.types?.length === 1)
        out.push(list('stream+type', this.#list('streamType', `${f.stream}\u0000${f.types[0]}`)));
      out.push(list('stream', this.#list('stream', f.stream)));
    }
    if (f.types && f.types.length > 0) {
      const lists = f.types.map((t) => this.#byType.get(t) ?? []);
      out.push({
        index: 'type',
        estimate: lists.reduce((n, l) => n + l.length, 0),
        seqs: () => unionSorted(lists),
      });
    }
    if (f.tenant !== undefined) out.push(list('tenant', this.#list('tenant', f.tenant)));
    if (f.actor !== undefined) out.push(list('actor', this.#list('actor', f.actor)));
    if (f.correlationId !== undefined)
      out.push(list('correlation', this.#list('correlation', f.correlationId)));
    if (f.causationId !== undefined) out.push(list('causation', this.#list('causation', f.causationId)));
    if (f.tags) for (const t of f.tags) out.push(list('tag', this.#list('tag', t)));
    if (f.since !== undefined || f.until !== undefined) out.push(this.#timeCandidate(f));
    return out;
  }

  #plan(f: EventFilter): Candidate {
    let best: Candidate | undefined;
    for (const c of this.#candidates(f)) if (!best || c.estimate < best.estimate) best = c;
    return best!;
  }

  #seqRange(f: EventFilter): { estimate: number; seqs: () => ArrayLike<number> } {
    const lo = f.fromSeq === undefined ? 0 : lowerBound(this.#seqs, f.fromSeq);
    const hi = f.toSeq === undefined ? this.#seqs.length : upperBound(this.#seqs, f.toSeq);
    const all = this.#seqs;
    return { estimate: Math.max(0, hi - lo), seqs: () => all };
  }

  #timeCandidate(f: EventFilter): Candidate {
    const lo = f.since === undefined ? -Infinity : Math.floor(Date.parse(f.since) / HOUR);
    const hi = f.until === undefined ? Infinity : Math.floor(Date.parse(f.until) / HOUR);
    const lists: number[][] = [];
    let estimate = 0;
    for (const [hour, l] of this.#index('hour') as Map<number, number[]>) {
      if (hour >= lo && hour <= hi) {
        lists.push(l);
        estimate += l.length;
      }
    }
    return { index: 'time', estimate, seqs: () => unionSorted(lists) };
  }

  /** Earliest and latest event time held (events may arrive out of time order). */
  timeBounds(): { min: number; max: number } | undefined {
    const rows = this.#rows;
    if (!rows.length) return undefined;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < rows.length; i++) {
      const t = rows.timeMs(i);
      if (t < min) min = t;
      if (t > max) max = t;
    }
    return { min, max };
  }

  /** Adds the held events matching `f` to time buckets starting at `from`. */
  histogram(f: EventFilter, from: number, bucketMs: number, counts: number[]): void {
    const to = from + bucketMs * counts.length;
    for (const e of this.query(f, 'asc', Number.MAX_SAFE_INTEGER).events) {
      const t = Date.parse(e.time);
      if (t >= from && t < to) counts[Math.floor((t - from) / bucketMs)]!++;
    }
  }

  /**
   * Forgets every event with seq ≤ maxSeq (they now live in sealed segments).
   */
  evictThrough(maxSeq: number): void {
    const n = upperBound(this.#seqs, maxSeq);
    if (n === 0) return;
    const rows = this.#rows;
    // Only the keys of evicted events are visited (read before the rows go): the hot tier may hold
    // far more keys than a segment touches, and a seal must not freeze the host thread walking them.
    const keysOf = (kind: RowKeyKind, upTo: number) => {
      const keys = new Set<RowKey>();
      for (let i = 0; i < upTo; i++) {
        const k = rows.key(kind, i);
        if (k === undefined) continue;
        if (typeof k === 'object') for (const x of k) keys.add(x);
        else keys.add(k);
      }
      return keys;
    };
    const drop = (m: Multi, k: RowKey) => {
      const l = m.get(k);
      if (!l) return;
      dropThrough(l, maxSeq);
      if (l.length === 0) m.delete(k);
    };
    for (const t of keysOf('type', n)) drop(this.#byType, t);
    for (const [kind, l] of this.#lazy) {
      // Only events the lazy index had caught up with are in it.
      for (const k of keysOf(kind, Math.min(n, l.upTo))) drop(l.map, k);
      l.upTo = Math.max(0, l.upTo - n);
    }
    rows.dropFirst(n);
    this.#seqs = this.#seqs.slice(n);
    for (let i = 0; i < n; i++) this.#bytes -= this.#sizes[i]!;
    this.#sizes = this.#sizes.slice(n);
    this.#byId.rebuild(rows.length);
  }
}
