import type { StoredEvent } from '../../../shared/event';
import type { EventFilter, QueryPlanInfo } from '../../../shared/query';
import type { LineBytes } from '../memory/eventRows';
import { MemoryIndex } from '../memory/MemoryIndex';
import { keyHash32 } from './keyHash';
import { ChunkPool, LineRows } from './lineRows';

/** Bits of each generation's id filter (128 KiB): ~4 % false hits at a 16 MiB segment's ~45k ids. */
const ID_BITS = 1 << 20;

/**
 * The file backend's hot tier: the events of the plain (unsealed) segments, one MemoryIndex per
 * segment, oldest first. Sealing a segment drops its whole generation at once, so eviction costs
 * nothing per event (walking hundreds of thousands of scattered events froze the host thread for
 * 50–200 ms per seal). Each generation holds its events as stored lines (LineRows), so what the
 * tier returns is freshly parsed: callers hand it out without a copy.
 */
export class HotTier {
  /** Line chunks, reused from one generation to the next. */
  readonly #pool = new ChunkPool();
  /** The rows of the newest generation, the only one added to (declared before #gens, which sets it). */
  #rows!: LineRows;
  #gens: MemoryIndex[] = [this.#newGeneration()];
  /**
   * One bit filter of id hashes per generation: appends look up every new id (duplicate check),
   * and nearly all are absent, so a miss should not cost a hash-table probe in every generation.
   */
  #idBits: Uint32Array[] = [new Uint32Array(ID_BITS / 32)];

  #newGeneration(): MemoryIndex {
    this.#rows = new LineRows(this.#pool);
    return new MemoryIndex(this.#rows);
  }

  /** Starts a new generation: events added from now on belong to the next segment. */
  startGeneration(): void {
    if (this.#current.size > 0) {
      this.#rows.flush();
      this.#gens.push(this.#newGeneration());
      this.#idBits.push(new Uint32Array(ID_BITS / 32));
    }
  }

  get #current(): MemoryIndex {
    return this.#gens[this.#gens.length - 1]!;
  }

  /**
   * `line`: the event's stored line, as written (else it is serialised here), whose bytes are
   * copied by the next flush(): the caller flushes before it reuses that buffer. `idHash`:
   * keyHash32 of its id, when the caller has it already.
   */
  add(e: StoredEvent, line?: LineBytes, idHash = keyHash32(e.id)): void {
    this.#current.add(e, idHash, line);
    const b = idHash & (ID_BITS - 1);
    this.#idBits[this.#idBits.length - 1]![b >>> 5]! |= 1 << (b & 31);
  }

  /** Copies the lines added since the last flush into the tier's own chunks (see add). */
  flush(): void {
    this.#rows.flush();
  }

  get size(): number {
    let n = 0;
    for (const g of this.#gens) n += g.size;
    return n;
  }
  get bytes(): number {
    let n = 0;
    for (const g of this.#gens) n += g.bytes;
    return n;
  }
  get firstSeq(): number {
    for (const g of this.#gens) if (g.size) return g.firstSeq;
    return 0;
  }
  get lastSeq(): number {
    for (let i = this.#gens.length - 1; i >= 0; i--) if (this.#gens[i]!.size) return this.#gens[i]!.lastSeq;
    return 0;
  }
  /** Uses of each index, summed over generations (metrics). */
  get indexUse(): Map<string, number> {
    const out = new Map<string, number>();
    for (const g of this.#gens) for (const [k, v] of g.indexUse) out.set(k, (out.get(k) ?? 0) + v);
    return out;
  }

  /** `idHash`: keyHash32(id), when the caller has it already. */
  getById(id: string, idHash = keyHash32(id)): StoredEvent | undefined {
    const b = idHash & (ID_BITS - 1);
    const word = b >>> 5;
    const bit = 1 << (b & 31);
    for (let i = this.#gens.length - 1; i >= 0; i--) {
      if ((this.#idBits[i]![word]! & bit) === 0) continue;
      const e = this.#gens[i]!.getById(id);
      if (e) return e;
    }
    return undefined;
  }

  getBySeq(seq: number): StoredEvent | undefined {
    for (const g of this.#gens) if (g.size && seq >= g.firstSeq && seq <= g.lastSeq) return g.getBySeq(seq);
    return undefined;
  }

  /** All held events of a stream, in version order. */
  stream(stream: string): readonly StoredEvent[] {
    let out: readonly StoredEvent[] = [];
    for (const g of this.#gens) {
      const s = g.stream(stream);
      if (s.length) out = out.length ? out.concat(s) : s;
    }
    return out;
  }

  streamVersion(stream: string): number {
    for (let i = this.#gens.length - 1; i >= 0; i--) {
      const v = this.#gens[i]!.streamVersion(stream);
      if (v) return v;
    }
    return 0;
  }

  /** Names of the streams with events in the hot tier. */
  streams(): Set<string> {
    const out = new Set<string>();
    for (const g of this.#gens) for (const s of g.streamNames()) out.add(s);
    return out;
  }

  readFrom(fromSeq: number, limit: number): StoredEvent[] {
    const out: StoredEvent[] = [];
    for (const g of this.#gens) {
      if (out.length >= limit) break;
      if (!g.size || g.lastSeq < fromSeq) continue;
      for (const e of g.readFrom(fromSeq, limit - out.length)) out.push(e);
    }
    return out;
  }

  /** A page across generations: oldest first for asc, newest first for desc (see MemoryIndex.query). */
  query(
    f: EventFilter,
    order: 'asc' | 'desc',
    limit: number,
    after?: number,
  ): { events: StoredEvent[]; plan: QueryPlanInfo } {
    const gens = order === 'asc' ? this.#gens : [...this.#gens].reverse();
    const events: StoredEvent[] = [];
    let plan: QueryPlanInfo | undefined;
    for (const g of gens) {
      if (events.length >= limit) break;
      if (!g.size) continue;
      // A generation wholly on the far side of the cursor has nothing to give.
      if (after !== undefined && (order === 'asc' ? g.lastSeq <= after : g.firstSeq >= after)) continue;
      const r = g.query(f, order, limit - events.length, after);
      for (const e of r.events) events.push(e);
      plan = plan
        ? { ...plan, estimate: plan.estimate + r.plan.estimate, scanned: plan.scanned + r.plan.scanned }
        : r.plan;
    }
    return { events, plan: plan ?? { index: 'scan', estimate: 0, scanned: 0 } };
  }

  counts(): { types: Record<string, number>; tenants: Record<string, number> } {
    const types: Record<string, number> = {};
    const tenants: Record<string, number> = {};
    for (const g of this.#gens) {
      const c = g.counts();
      for (const [k, v] of Object.entries(c.types)) types[k] = (types[k] ?? 0) + v;
      for (const [k, v] of Object.entries(c.tenants)) tenants[k] = (tenants[k] ?? 0) + v;
    }
    return { types, tenants };
  }

  firstEvent(): StoredEvent | undefined {
    for (const g of this.#gens) if (g.size) return g.firstEvent();
    return undefined;
  }
  lastEvent(): StoredEvent | undefined {
    for (let i = this.#gens.length - 1; i >= 0; i--)
      if (this.#gens[i]!.size) return this.#gens[i]!.lastEvent();
    return undefined;
  }

  timeBounds(): { min: number; max: number } | undefined {
    let out: { min: number; max: number } | undefined;
    for (const g of this.#gens) {
      const b = g.timeBounds();
      if (b) out = out ? { min: Math.min(out.min, b.min), max: Math.max(out.max, b.max) } : b;
    }
    return out;
  }

  histogram(f: EventFilter, from: number, bucketMs: number, counts: number[]): void {
    for (const g of this.#gens) g.histogram(f, from, bucketMs, counts);
  }

  /**
   * Forgets every event with seq ≤ maxSeq: whole generations are dropped, a generation cut in the
   * middle (a read-only store catching up with its writer) is trimmed.
   */
  evictThrough(maxSeq: number): void {
    let drop = 0;
    while (drop < this.#gens.length && this.#gens[drop]!.size && this.#gens[drop]!.lastSeq <= maxSeq) drop++;
    for (let i = 0; i < drop; i++) this.#gens[i]!.release();
    this.#gens = this.#gens.slice(drop);
    this.#idBits = this.#idBits.slice(drop);
    if (this.#gens.length === 0) {
      this.#gens.push(this.#newGeneration());
      this.#idBits.push(new Uint32Array(ID_BITS / 32));
    }
    const first = this.#gens[0]!;
    if (first.size && first.firstSeq <= maxSeq) first.evictThrough(maxSeq);
  }
}
