/**
 * Snapshots of projection states (DESIGN §4): state at N = nearest snapshot ≤ N + fold of the
 * rest. Two implementations of one SnapshotStore contract: MemorySnapshotStore (here; memory
 * stores, and bisect's scratch store) and SqliteSnapshotStore (sqliteSnapshots.ts; file stores).
 * States are held as JSON text, so a snapshot can never alias (or be changed through) a live
 * state, and a state JSON cannot give back exactly is never stored: a snapshot never changes an answer.
 */
import { ChronoscopeError } from '../../../shared/errors';
import type { Projection } from '../../../shared/projection';

/** Which fold a snapshot belongs to: projection, its code, and a stream id or '*' (global; '*?filter' when filtered). */
export interface SnapshotKey {
  projection: string;
  codeHash: string;
  stream: string;
}

/** A state after the event at `seq` (and stream `version`, for stream folds). */
export interface Snapshot<S> {
  seq: number;
  version?: number;
  time?: string;
  eventId?: string;
  state: S;
}

/**
 * When to take snapshots while folding:
 * - count: every `every` events folded since the fold's base;
 * - time: at the first event whose time is in a later `intervalMs` bucket than the event before it
 *   (event time, not wall time, so the same log always gets the same snapshots);
 * - adaptive: a sparse count (`every`, default 1000) plus every bisect probe that folded at least
 *   `minFold` events (default 1) — re-folding fewer events than that is cheaper than storing them.
 */
export type SnapshotStrategy =
  | { kind: 'count'; every: number }
  | { kind: 'time'; intervalMs: number }
  | { kind: 'adaptive'; every?: number; minFold?: number };

/** Why a fold offers a snapshot: it passed a strategy boundary, or bisect probed this position. */
export type SnapshotReason = 'fold' | 'probe';

/** What the fold knows when it offers a snapshot: its key, the event just applied and the one before. */
export interface FoldPoint {
  key?: SnapshotKey;
  time?: string;
  prevTime?: string;
}

/** Budget and strategies shared by both implementations. */
export interface SnapshotStoreOptions {
  /** Strategy for stream folds (and for global folds unless `globalStrategy` is given). */
  strategy?: SnapshotStrategy;
  /** Strategy for global folds ('*' keys): a log has far more events than a stream. */
  globalStrategy?: SnapshotStrategy;
  /** Total bytes of snapshots kept (state JSON plus key); least recently used go first. */
  maxBytes?: number;
  /** A state bigger than this is not stored (default maxBytes / 16), so one state cannot flush all others. */
  maxStateBytes?: number;
}

export interface SnapshotStats {
  backend: 'memory' | 'sqlite';
  readOnly: boolean;
  rows: number;
  bytes: number;
  maxBytes: number;
  perProjection: Record<string, { rows: number; bytes: number; codeHashes: number }>;
  /** Since this store was opened. */
  hits: number;
  misses: number;
  puts: number;
  /** Offered but not stored: not JSON-exact, too big, unversioned code (SQLite), or read-only. */
  skipped: number;
  evicted: number;
  /** Rows found damaged or no longer matching the log, and dropped (or ignored when read-only). */
  damaged: number;
  writeErrors: number;
  lastError?: string;
}

/** The contract every snapshot store fulfils; stateAt and bisect use nothing else. */
export interface SnapshotStore {
  /** The strategy for stream folds. */
  readonly strategy: SnapshotStrategy;
  /** The newest snapshot with seq ≤ maxSeq (and version ≤ maxVersion when given). */
  nearest<S>(key: SnapshotKey, maxSeq: number, maxVersion?: number): Promise<Snapshot<S> | undefined>;
  /** Should a fold that has applied `sinceLast` events since its base take a snapshot here? */
  wants(reason: SnapshotReason, sinceLast: number, at?: FoldPoint): boolean;
  put<S>(key: SnapshotKey, snap: Snapshot<S>): Promise<void>;
  /** Drops snapshots of `projection` made by any code other than `currentHash`; returns how many. */
  invalidate(projection: string, currentHash?: string): Promise<number>;
  /** Drops every snapshot at or after `seq` (the log was rewritten from there); returns how many. */
  dropFrom(seq: number): Promise<number>;
  size(): number;
  stats(): Promise<SnapshotStats>;
  close(): Promise<void>;
}

/** The key for a projection's fold over one stream, or the global fold ('*'), optionally filtered. */
export function snapshotKey(p: Projection<unknown>, stream: string): SnapshotKey {
  return { projection: p.name, codeHash: p.codeHash ?? 'unversioned', stream };
}

/** Global folds use '*' or '*?<filter JSON>' as their stream part (stateAt's globalScope). */
export const isGlobalKey = (k: SnapshotKey): boolean => k.stream === '*' || k.stream.startsWith('*?');

const badOption = (field: string, why: string): never => {
  throw new ChronoscopeError('INVALID_ARGUMENT', `${field}: ${why}`, { field });
};
const positiveInt = (v: unknown, field: string) => {
  if (!Number.isSafeInteger(v) || (v as number) < 1)
    badOption(field, `must be an integer ≥ 1, got ${String(v)}`);
};

/** Checks a strategy, naming the offending field (e.g. snapshots.strategy.every). */
export function validateStrategy(s: SnapshotStrategy, field = 'snapshots.strategy'): SnapshotStrategy {
  if (typeof s !== 'object' || s === null) return badOption(field, 'must be an object with a kind');
  switch (s.kind) {
    case 'count':
      positiveInt(s.every, `${field}.every`);
      break;
    case 'time':
      positiveInt(s.intervalMs, `${field}.intervalMs`);
      break;
    case 'adaptive':
      if (s.every !== undefined) positiveInt(s.every, `${field}.every`);
      if (s.minFold !== undefined) positiveInt(s.minFold, `${field}.minFold`);
      break;
    default:
      badOption(
        `${field}.kind`,
        `must be count, time or adaptive, got ${String((s as { kind?: unknown }).kind)}`,
      );
  }
  return s;
}

/** Checks the budget options; returns [maxBytes, maxStateBytes]. */
export function validateBudget(o: SnapshotStoreOptions, defaultMaxBytes: number): [number, number] {
  const maxBytes = o.maxBytes ?? defaultMaxBytes;
  positiveInt(maxBytes, 'snapshots.maxBytes');
  const maxStateBytes = o.maxStateBytes ?? Math.max(1, Math.floor(maxBytes / 16));
  positiveInt(maxStateBytes, 'snapshots.maxStateBytes');
  return [maxBytes, maxStateBytes];
}

/** The wants() rule both stores share, with the strategy chosen per key scope. */
export class SnapshotPolicy {
  readonly stream: SnapshotStrategy;
  readonly global: SnapshotStrategy;
  // One parsed time remembered: the next call's prevTime is this call's time.
  #lastText = '';
  #lastMs = NaN;

  constructor(stream: SnapshotStrategy, global: SnapshotStrategy = stream) {
    this.stream = validateStrategy(stream, 'snapshots.strategy');
    this.global = validateStrategy(global, 'snapshots.globalStrategy');
  }

  #ms(t: string): number {
    if (t !== this.#lastText) [this.#lastText, this.#lastMs] = [t, Date.parse(t)];
    return this.#lastMs;
  }

  wants(reason: SnapshotReason, sinceLast: number, at?: FoldPoint): boolean {
    if (sinceLast <= 0) return false;
    const s = at?.key && isGlobalKey(at.key) ? this.global : this.stream;
    if (reason === 'probe') return s.kind === 'adaptive' && sinceLast >= (s.minFold ?? 1);
    switch (s.kind) {
      case 'count':
        return sinceLast % s.every === 0;
      case 'adaptive':
        return sinceLast % (s.every ?? 1000) === 0;
      case 'time': {
        if (at?.time === undefined || at.prevTime === undefined) return false;
        const prev = Math.floor(this.#ms(at.prevTime) / s.intervalMs);
        return Math.floor(this.#ms(at.time) / s.intervalMs) > prev;
      }
    }
  }
}

/** Deepest nesting checked; deeper states are not snapshotted (and JSON.stringify could overflow). */
const MAX_DEPTH = 1000;

function survivesJson(v: unknown, depth: number): boolean {
  if (v === null) return true;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0);
    case 'object': {
      if (depth > MAX_DEPTH) return false;
      const proto = Object.getPrototypeOf(v);
      if (Array.isArray(v)) {
        if (proto !== Array.prototype) return false;
        for (let i = 0; i < v.length; i++) if (!(i in v) || !survivesJson(v[i], depth + 1)) return false;
        return true;
      }
      if (proto !== Object.prototype && proto !== null) return false; // Date, Map, class instances
      if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return false;
      if (Object.getOwnPropertySymbols(v).length) return false;
      for (const k of Object.keys(v))
        if (!survivesJson((v as Record<string, unknown>)[k], depth + 1)) return false;
      return true;
    }
    default:
      return false; // undefined, functions, symbols, bigint
  }
}

/**
 * JSON text of a state, or undefined when JSON.parse would not give back an equal value
 * (undefined fields, NaN, -0, Dates, Maps, sparse arrays, cycles...): such a state is folded
 * every time rather than restored wrong.
 */
export function exactJson(state: unknown): string | undefined {
  return survivesJson(state, 0) ? JSON.stringify(state) : undefined;
}

/** Counters both stores keep for stats(). */
export function emptyCounters() {
  return { hits: 0, misses: 0, puts: 0, skipped: 0, evicted: 0, damaged: 0, writeErrors: 0 };
}

interface Row {
  seq: number;
  version?: number;
  time?: string;
  eventId?: string;
  json: string;
  bytes: number;
}

interface Entry {
  key: SnapshotKey;
  rows: Row[];
}

/** In-memory SnapshotStore, bounded by entries and bytes (least recently used keys go first). */
export class MemorySnapshotStore implements SnapshotStore {
  readonly strategy: SnapshotStrategy;
  readonly #policy: SnapshotPolicy;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #maxStateBytes: number;
  readonly #entries = new Map<string, Entry>();
  readonly #n = emptyCounters();
  #count = 0;
  #bytes = 0;

  constructor(
    strategy: SnapshotStrategy = { kind: 'adaptive' },
    options: Omit<SnapshotStoreOptions, 'strategy'> & { maxEntries?: number } = {},
  ) {
    this.#policy = new SnapshotPolicy(strategy, options.globalStrategy);
    this.strategy = strategy;
    this.#maxEntries = options.maxEntries ?? 10_000;
    positiveInt(this.#maxEntries, 'snapshots.maxEntries');
    [this.#maxBytes, this.#maxStateBytes] = validateBudget(options, 256 << 20);
  }

  #id(k: SnapshotKey): string {
    return JSON.stringify([k.projection, k.codeHash, k.stream]);
  }

  wants(reason: SnapshotReason, sinceLast: number, at?: FoldPoint): boolean {
    return this.#policy.wants(reason, sinceLast, at);
  }

  async nearest<S>(key: SnapshotKey, maxSeq: number, maxVersion?: number): Promise<Snapshot<S> | undefined> {
    const id = this.#id(key);
    const entry = this.#entries.get(id);
    if (!entry) {
      this.#n.misses++;
      return undefined;
    }
    this.#entries.delete(id); // re-insert: most recently used last
    this.#entries.set(id, entry);
    const rows = entry.rows;
    let lo = 0;
    let hi = rows.length; // first row with seq > maxSeq
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (rows[mid]!.seq <= maxSeq) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo - 1; i >= 0; i--) {
      const r = rows[i]!;
      if (maxVersion !== undefined && (r.version ?? 0) > maxVersion) continue;
      const snap: Snapshot<S> = { seq: r.seq, state: JSON.parse(r.json) as S };
      if (r.version !== undefined) snap.version = r.version;
      if (r.time !== undefined) snap.time = r.time;
      if (r.eventId !== undefined) snap.eventId = r.eventId;
      this.#n.hits++;
      return snap;
    }
    this.#n.misses++;
    return undefined;
  }

  async put<S>(key: SnapshotKey, snap: Snapshot<S>): Promise<void> {
    const json = exactJson(snap.state);
    const bytes = json === undefined ? Infinity : json.length * 2 + 64; // UTF-16 in memory
    if (json === undefined || bytes > this.#maxStateBytes) {
      this.#n.skipped++;
      return;
    }
    const id = this.#id(key);
    const entry = this.#entries.get(id) ?? { key, rows: [] };
    const rows = entry.rows;
    const row: Row = { seq: snap.seq, json, bytes };
    if (snap.version !== undefined) row.version = snap.version;
    if (snap.time !== undefined) row.time = snap.time;
    if (snap.eventId !== undefined) row.eventId = snap.eventId;
    let i = rows.length;
    while (i > 0 && rows[i - 1]!.seq > snap.seq) i--;
    if (i > 0 && rows[i - 1]!.seq === snap.seq) {
      this.#bytes -= rows[i - 1]!.bytes;
      rows[i - 1] = row;
    } else {
      rows.splice(i, 0, row);
      this.#count++;
    }
    this.#bytes += bytes;
    this.#n.puts++;
    this.#entries.delete(id);
    this.#entries.set(id, entry);
    this.#evict(id);
  }

  #evict(keep: string): void {
    for (const [id, entry] of this.#entries) {
      if (this.#count <= this.#maxEntries && this.#bytes <= this.#maxBytes) return;
      if (id !== keep) this.#n.evicted += this.#drop(id, entry);
    }
  }

  #drop(id: string, entry: Entry): number {
    this.#count -= entry.rows.length;
    for (const r of entry.rows) this.#bytes -= r.bytes;
    this.#entries.delete(id);
    return entry.rows.length;
  }

  async invalidate(projection: string, currentHash?: string): Promise<number> {
    let dropped = 0;
    for (const [id, entry] of this.#entries) {
      if (entry.key.projection === projection && entry.key.codeHash !== currentHash)
        dropped += this.#drop(id, entry);
    }
    return dropped;
  }

  async dropFrom(seq: number): Promise<number> {
    let dropped = 0;
    for (const [id, entry] of this.#entries) {
      const keep = entry.rows.filter((r) => r.seq < seq);
      const gone = entry.rows.filter((r) => r.seq >= seq);
      if (!gone.length) continue;
      dropped += gone.length;
      this.#count -= gone.length;
      for (const r of gone) this.#bytes -= r.bytes;
      if (keep.length) entry.rows = keep;
      else this.#entries.delete(id);
    }
    return dropped;
  }

  size(): number {
    return this.#count;
  }

  async stats(): Promise<SnapshotStats> {
    const perProjection: SnapshotStats['perProjection'] = Object.create(null); // any name is a plain key
    const hashes = new Map<string, Set<string>>();
    for (const { key, rows } of this.#entries.values()) {
      const p = (perProjection[key.projection] ??= { rows: 0, bytes: 0, codeHashes: 0 });
      p.rows += rows.length;
      for (const r of rows) p.bytes += r.bytes;
      const h = hashes.get(key.projection) ?? new Set<string>();
      h.add(key.codeHash);
      hashes.set(key.projection, h);
      p.codeHashes = h.size;
    }
    return {
      backend: 'memory',
      readOnly: false,
      rows: this.#count,
      bytes: this.#bytes,
      maxBytes: this.#maxBytes,
      perProjection,
      ...this.#n,
    };
  }

  async close(): Promise<void> {
    this.#entries.clear();
    this.#count = 0;
    this.#bytes = 0;
  }
}
