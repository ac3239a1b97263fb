/**
 * Snapshots of projection states (DESIGN §4): state at N = nearest snapshot ≤ N + fold of the
 * rest. This slice keeps them in memory; the SQLite catalogue of a later slice implements the same
 * SnapshotStore interface (key → rows of (seq, version, state JSON)). States are held as JSON text,
 * exactly as SQLite will hold them, so a snapshot can never alias (or be changed through) a live
 * state, and a snapshot never changes an answer.
 */
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

/** When to take snapshots while folding: every N events, or sparse plus every bisect probe. */
export type SnapshotStrategy = { kind: 'count'; every: number } | { kind: 'adaptive'; every?: number };

/** Why a fold offers a snapshot: it passed a count boundary, or bisect probed this position. */
export type SnapshotReason = 'fold' | 'probe';

/** The contract a persistent (SQLite) snapshot store fulfils too; methods may be async there. */
export interface SnapshotStore {
  readonly strategy: SnapshotStrategy;
  /** The newest snapshot with seq ≤ maxSeq (and version ≤ maxVersion when given). */
  nearest<S>(key: SnapshotKey, maxSeq: number, maxVersion?: number): Promise<Snapshot<S> | undefined>;
  /** Should a fold that has applied `sinceLast` events since its base take a snapshot here? */
  wants(reason: SnapshotReason, sinceLast: number): boolean;
  put<S>(key: SnapshotKey, snap: Snapshot<S>): Promise<void>;
  /** Drops snapshots of `projection` made by any code other than `currentHash`; returns how many. */
  invalidate(projection: string, currentHash?: string): Promise<number>;
  size(): number;
}

/** The key for a projection's fold over one stream, or the global fold ('*'), optionally filtered. */
export function snapshotKey(p: Projection<unknown>, stream: string): SnapshotKey {
  return { projection: p.name, codeHash: p.codeHash ?? 'unversioned', stream };
}

interface Row {
  seq: number;
  version?: number;
  time?: string;
  eventId?: string;
  json: string;
}

/** In-memory SnapshotStore, bounded by `maxEntries` (least recently used keys go first). */
export class MemorySnapshotStore implements SnapshotStore {
  readonly strategy: SnapshotStrategy;
  readonly #maxEntries: number;
  readonly #rows = new Map<string, Row[]>();
  #count = 0;

  constructor(strategy: SnapshotStrategy = { kind: 'adaptive' }, options: { maxEntries?: number } = {}) {
    const every = strategy.every ?? 1000;
    if (!Number.isSafeInteger(every) || every < 1)
      throw new RangeError('snapshot strategy: every must be ≥ 1');
    this.strategy = strategy;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  #id(k: SnapshotKey): string {
    return JSON.stringify([k.projection, k.codeHash, k.stream]);
  }

  wants(reason: SnapshotReason, sinceLast: number): boolean {
    if (reason === 'probe') return this.strategy.kind === 'adaptive' && sinceLast > 0;
    return sinceLast > 0 && sinceLast % (this.strategy.every ?? 1000) === 0;
  }

  async nearest<S>(key: SnapshotKey, maxSeq: number, maxVersion?: number): Promise<Snapshot<S> | undefined> {
    const id = this.#id(key);
    const rows = this.#rows.get(id);
    if (!rows) return undefined;
    this.#rows.delete(id); // re-insert: most recently used last
    this.#rows.set(id, rows);
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
      return snap;
    }
    return undefined;
  }

  async put<S>(key: SnapshotKey, snap: Snapshot<S>): Promise<void> {
    const id = this.#id(key);
    const rows = this.#rows.get(id) ?? [];
    const row: Row = { seq: snap.seq, json: JSON.stringify(snap.state) };
    if (snap.version !== undefined) row.version = snap.version;
    if (snap.time !== undefined) row.time = snap.time;
    if (snap.eventId !== undefined) row.eventId = snap.eventId;
    let i = rows.length;
    while (i > 0 && rows[i - 1]!.seq > snap.seq) i--;
    if (i > 0 && rows[i - 1]!.seq === snap.seq) rows[i - 1] = row;
    else {
      rows.splice(i, 0, row);
      this.#count++;
    }
    this.#rows.delete(id);
    this.#rows.set(id, rows);
    this.#evict(id);
  }

  #evict(keep: string): void {
    for (const [id, rows] of this.#rows) {
      if (this.#count <= this.#maxEntries) return;
      if (id === keep) continue;
      this.#count -= rows.length;
      this.#rows.delete(id);
    }
  }

  async invalidate(projection: string, currentHash?: string): Promise<number> {
    let dropped = 0;
    for (const [id, rows] of this.#rows) {
      const [name, hash] = JSON.parse(id) as [string, string];
      if (name === projection && hash !== currentHash) {
        dropped += rows.length;
        this.#rows.delete(id);
      }
    }
    this.#count -= dropped;
    return dropped;
  }

  size(): number {
    return this.#count;
  }
}
