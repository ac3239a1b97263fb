import type { StoredEvent } from '../../../shared/event';
import { matchesFilter, type EventFilter, type QueryPlanInfo } from '../../../shared/query';
import { IdTable } from './idTable';
import { dropThrough, lowerBound, unionSorted, upperBound } from './sortedSeqs';

const HOUR = 3_600_000;
type Multi = Map<string, number[]>;

function add(m: Multi, key: string | undefined, seq: number): void {
  if (key === undefined) return;
  const l = m.get(key);
  if (l) l.push(seq);
  else m.set(key, [seq]);
}

type LazyKind = 'stream' | 'streamType' | 'tenant' | 'actor' | 'correlation' | 'causation' | 'tag' | 'hour';
const LAZY_KEYS: Record<LazyKind, (e: StoredEvent) => string | number | string[] | undefined> = {
  stream: (e) => e.stream,
  streamType: (e) => `${e.stream}\u0000${e.type}`,
  tenant: (e) => e.tenant,
  actor: (e) => e.actor,
  correlation: (e) => e.correlationId,
  causation: (e) => e.causationId,
  tag: (e) => (e.tags ? [...new Set(e.tags)] : undefined),
  hour: (e) => Math.floor(Date.parse(e.time) / HOUR),
};

/** Rough heap cost of one event, for the hot tier's memory budget. */
export function estimateEventBytes(e: StoredEvent, lineBytes?: number): number {
  return 400 + 2 * (lineBytes ?? JSON.stringify(e.data).length + 200);
}

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
  #events: StoredEvent[] = [];
  #seqs: number[] = [];
  /** Estimated bytes of each held event (typed: 4 bytes an event instead of a tagged array slot). */
  #sizes = new Uint32Array(1024);
  readonly #byId = new IdTable((pos) => this.#events[pos]!.id);
  readonly #byType: Multi = new Map();
  /**
   * Secondary indexes built on first use and caught up on each use (appends pay only for id and
   * type; the file backend's appends never ask for a hot stream, so even that index waits).
   */
  readonly #lazy = new Map<LazyKind, { map: Map<string | number, number[]>; upTo: number }>();
  #bytes = 0;
  /** Counts of index use, for metrics. */
  readonly indexUse = new Map<string, number>();

  get size(): number {
    return this.#events.length;
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

  /** Adds an event; its seq must be greater than every seq already held. */
  /** `idHash`: keyHash32 of its id, when the caller has it already (the append path hashes it once). */
  add(e: StoredEvent, lineBytes?: number, idHash?: number): void {
    const seq = e.seq;
    this.#events.push(e);
    this.#seqs.push(seq);
    this.#byId.add(e.id, this.#events.length - 1, idHash);
    add(this.#byType, e.type, seq);
    const size = estimateEventBytes(e, lineBytes);
    const at = this.#events.length - 1;
    if (at === this.#sizes.length) {
      const bigger = new Uint32Array(Math.max(1024, at * 2));
      bigger.set(this.#sizes);
      this.#sizes = bigger;
    }
    this.#sizes[at] = size;
    this.#bytes += size;
  }

  /** The lazy index of one kind, brought up to date with every held event. */
  #index(kind: LazyKind): Map<string | number, number[]> {
    let l = this.#lazy.get(kind);
    if (!l) this.#lazy.set(kind, (l = { map: new Map(), upTo: 0 }));
    const keyOf = LAZY_KEYS[kind];
    const map = l.map;
    for (let i = l.upTo; i < this.#events.length; i++) {
      const e = this.#events[i]!;
      const k = keyOf(e);
      if (k === undefined) continue;
      if (Array.isArray(k)) for (const x of k) add(map as Multi, x, e.seq);
      else {
        const list = map.get(k);
        if (list) list.push(e.seq);
        else map.set(k, [e.seq]);
      }
    }
    l.upTo = this.#events.length;
    return map;
  }

  getById(id: string): StoredEvent | undefined {
    const pos = this.#byId.get(id);
    return pos < 0 ? undefined : this.#events[pos];
  }

  getBySeq(seq: number): StoredEvent | undefined {
    const first = this.#seqs[0];
    if (first === undefined) return undefined;
    const direct = this.#events[seq - first];
    if (direct && direct.seq === seq) return direct;
    const i = lowerBound(this.#seqs, seq);
    return this.#seqs[i] === seq ? this.#events[i] : undefined;
  }

  /** All held events of a stream, in version order. */
  stream(stream: string): readonly StoredEvent[] {
    const l = this.#streams().get(stream);
    return l ? l.map((seq) => this.getBySeq(seq)!) : [];
  }

  streamVersion(stream: string): number {
    const l = this.#streams().get(stream);
    return l ? this.getBySeq(l[l.length - 1]!)!.version : 0;
  }

  #streams(): Map<string, number[]> {
    return this.#index('stream') as Map<string, number[]>;
  }

  /** Names of the streams held. */
  streamNames(): IterableIterator<string> {
    return this.#streams().keys();
  }

  streamCount(): number {
    return this.#streams().size;
  }

  /** Events with seq ≥ fromSeq, up to limit, in seq order. */
  readFrom(fromSeq: number, limit: number): StoredEvent[] {
    const i = lowerBound(this.#seqs, fromSeq);
    return this.#events.slice(i, i + limit);
  }

  /** Per-type and per-tenant counts, for stats. */
  counts(): { types: Record<string, number>; tenants: Record<string, number> } {
    const types: Record<string, number> = {};
    const tenants: Record<string, number> = {};
    for (const [k, v] of this.#byType) types[k] = v.length;
    for (const [k, v] of this.#index('tenant')) tenants[k as string] = v.length;
    return { types, tenants };
  }

  firstEvent(): StoredEvent | undefined {
    return this.#events[0];
  }
  lastEvent(): StoredEvent | undefined {
    return this.#events[this.#events.length - 1];
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
        out.push(list('stream+type', this.#index('streamType').get(`${f.stream}\u0000${f.types[0]}`)));
      out.push(list('stream', this.#streams().get(f.stream)));
    }
    if (f.types && f.types.length > 0) {
      const lists = f.types.map((t) => this.#byType.get(t) ?? []);
      out.push({
        index: 'type',
        estimate: lists.reduce((n, l) => n + l.length, 0),
        seqs: () => unionSorted(lists),
      });
    }
    if (f.tenant !== undefined) out.push(list('tenant', this.#index('tenant').get(f.tenant)));
    if (f.actor !== undefined) out.push(list('actor', this.#index('actor').get(f.actor)));
    if (f.correlationId !== undefined)
      out.push(list('correlation', this.#index('correlation').get(f.correlationId)));
    if (f.causationId !== undefined) out.push(list('causation', this.#index('causation').get(f.causationId)));
    if (f.tags) for (const t of f.tags) out.push(list('tag', this.#index('tag').get(t)));
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
    if (!this.#events.length) return undefined;
    let min = Infinity;
    let max = -Infinity;
    for (const e of this.#events) {
      const t = Date.parse(e.time);
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
    const gone = this.#events.slice(0, n);
    this.#events = this.#events.slice(n);
    this.#seqs = this.#seqs.slice(n);
    for (let i = 0; i < n; i++) this.#bytes -= this.#sizes[i]!;
    this.#sizes = this.#sizes.slice(n);
    this.#byId.rebuild(this.#events.length);
    // Only the keys of evicted events are visited: the hot tier may hold far more keys than a
    // segment touches, and a seal must not freeze the host thread walking all of them.
    const types = new Set<string>();
    for (const e of gone) {
      types.add(e.type);
    }
    const drop = (m: Map<string | number, number[]>, k: string | number) => {
      const l = m.get(k);
      if (!l) return;
      dropThrough(l, maxSeq);
      if (l.length === 0) m.delete(k);
    };
    for (const t of types) drop(this.#byType as Map<string | number, number[]>, t);
    for (const [kind, l] of this.#lazy) {
      // Only events the lazy index had caught up with are in it.
      const keyOf = LAZY_KEYS[kind];
      const keys = new Set<string | number>();
      for (let i = 0; i < Math.min(n, l.upTo); i++) {
        const k = keyOf(gone[i]!);
        if (k === undefined) continue;
        if (Array.isArray(k)) for (const x of k) keys.add(x);
        else keys.add(k);
      }
      for (const k of keys) drop(l.map, k);
      l.upTo = Math.max(0, l.upTo - n);
    }
  }
}
