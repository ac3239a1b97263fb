/**
 * Snapshots persisted in SQLite (DESIGN §3–§4): one row per (projection, code hash, stream, seq),
 * in the store's own chronoscope.db for a file store. Snapshots are derived data, so this store is
 * a cache in every respect: a row that is damaged (bad checksum or JSON) or no longer matches the
 * log (the event it stands after has another id) is dropped and never used; a failed write is
 * counted, not thrown; a read-only store answers from existing rows and never writes.
 *
 * The index (SqliteIndex, recovery.ts) only ever touches its own tables; when it finds the database
 * damaged it moves the whole file aside, and the snapshots go with it — they are rebuilt by folding.
 */
import Database from 'better-sqlite3';
import { ChronoscopeError, fromIoError } from '../../../shared/errors';
import { crc32 } from '../file/checksum';
import { openDatabase } from '../sqlite';
import {
  emptyCounters,
  exactJson,
  SnapshotPolicy,
  validateBudget,
  type FoldPoint,
  type Snapshot,
  type SnapshotKey,
  type SnapshotReason,
  type SnapshotStats,
  type SnapshotStore,
  type SnapshotStoreOptions,
  type SnapshotStrategy,
} from './snapshots';

export interface SqliteSnapshotOptions extends SnapshotStoreOptions {
  readOnly?: boolean;
  /** The id of the log's event at a seq: a snapshot whose event id differs is not trusted. */
  eventIdAt?: (seq: number) => Promise<string | undefined>;
  /** Drop rows of other code hashes the first time this store stores a projection's code (default true). */
  autoInvalidate?: boolean;
  /** How long a write waits for another connection's lock before it is counted as failed (default 5,000). */
  busyTimeoutMs?: number;
}

/** Versioned name: a later layout gets a new table instead of misreading this one. */
const TABLE = 'snapshots_v1';
/** Code without a hash cannot be told apart from its next edit, so it is never persisted. */
const UNVERSIONED = 'unversioned';
/** Eviction stops at this fraction of the budget, so a full table does not evict on every put. */
const EVICT_TO = 0.9;
/** A hit rewrites its row's last-use time at most this often (LRU needs no finer grain). */
const TOUCH_MS = 1000;

/** Key text as UTF-16LE blobs: lossless for any JS string, even lone surrogates (UTF-8 text would merge them). */
const blob = (s: string): Buffer => Buffer.from(s, 'utf16le');
const clamp = (n: number) => Math.min(n, Number.MAX_SAFE_INTEGER);

interface RowOut {
  id: number;
  seq: number;
  version: number | null;
  pos: string;
  state: string;
  crc: number;
  used: number;
}

export class SqliteSnapshotStore implements SnapshotStore {
  readonly strategy: SnapshotStrategy;
  readonly readOnly: boolean;
  readonly #db: Database.Database;
  readonly #policy: SnapshotPolicy;
  readonly #maxBytes: number;
  readonly #maxStateBytes: number;
  readonly #eventIdAt?: (seq: number) => Promise<string | undefined>;
  readonly #autoInvalidate: boolean;
  readonly #n: ReturnType<typeof emptyCounters> & { lastError?: string } = emptyCounters();
  readonly #seenCode = new Set<string>();
  #stmt?: Record<'nearest' | 'touch' | 'del' | 'upsert' | 'total' | 'lru' | 'count', Database.Statement>;
  /** Bytes stored, as of the last exact count plus puts since (re-counted before evicting). */
  #bytes = 0;

  private constructor(db: Database.Database, options: SqliteSnapshotOptions) {
    this.#db = db;
    this.readOnly = options.readOnly ?? false;
    this.strategy = options.strategy ?? { kind: 'adaptive' };
    this.#policy = new SnapshotPolicy(this.strategy, options.globalStrategy);
    [this.#maxBytes, this.#maxStateBytes] = validateBudget(options, 64 << 20);
    this.#eventIdAt = options.eventIdAt;
    this.#autoInvalidate = options.autoInvalidate ?? true;
  }

  /** Opens (read-write: creating the table if missing) the snapshot table of the database at `path`. */
  static open(path: string, options: SqliteSnapshotOptions = {}): SqliteSnapshotStore {
    let db: Database.Database | undefined;
    try {
      db = openDatabase(path, {
        readonly: options.readOnly ?? false,
        fileMustExist: options.readOnly ?? false,
        timeout: options.busyTimeoutMs ?? 5000,
      });
      const store = new SqliteSnapshotStore(db, options);
      if (!store.readOnly) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL'); // a lost snapshot after a power cut is refolded, not wrong
        db.exec(`
          CREATE TABLE IF NOT EXISTS ${TABLE} (
            id INTEGER PRIMARY KEY,
            projection BLOB NOT NULL,
            code_hash BLOB NOT NULL,
            stream BLOB NOT NULL,
            seq INTEGER NOT NULL,
            version INTEGER,
            pos TEXT NOT NULL,
            state TEXT NOT NULL,
            crc INTEGER NOT NULL,
            bytes INTEGER NOT NULL,
            used INTEGER NOT NULL
          );
          CREATE UNIQUE INDEX IF NOT EXISTS ${TABLE}_key ON ${TABLE}(projection, code_hash, stream, seq);
          CREATE INDEX IF NOT EXISTS ${TABLE}_lru ON ${TABLE}(used, id, bytes);
        `);
      }
      if (store.#ready()) store.#bytes = store.#exactBytes();
      return store;
    } catch (err) {
      db?.close();
      if (err instanceof ChronoscopeError) throw err;
      throw fromIoError(err, `opening snapshots in ${path}`);
    }
  }

  /** Prepares statements once the table exists (a read-only store may open before any writer made it). */
  #ready(): boolean {
    if (this.#stmt) return true;
    const exists = this.#db
      .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`)
      .get(TABLE);
    if (!exists) return false;
    const p = (sql: string) => this.#db.prepare(sql);
    this.#stmt = {
      nearest: p(
        `SELECT id, seq, version, pos, state, crc, used FROM ${TABLE}
         WHERE projection = ? AND code_hash = ? AND stream = ? AND seq <= ? AND (version IS NULL OR version <= ?)
         ORDER BY seq DESC LIMIT 1`,
      ),
      touch: p(`UPDATE ${TABLE} SET used = ? WHERE id = ?`),
      del: p(`DELETE FROM ${TABLE} WHERE id = ?`),
      upsert: p(
        `INSERT INTO ${TABLE}(projection, code_hash, stream, seq, version, pos, state, crc, bytes, used)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(projection, code_hash, stream, seq) DO UPDATE SET version = excluded.version,
           pos = excluded.pos, state = excluded.state, crc = excluded.crc, bytes = excluded.bytes, used = excluded.used`,
      ),
      total: p(`SELECT coalesce(sum(bytes), 0) AS b FROM ${TABLE} INDEXED BY ${TABLE}_lru`),
      lru: p(`SELECT id, bytes FROM ${TABLE} ORDER BY used, id LIMIT 256`),
      count: p(`SELECT count(*) AS n FROM ${TABLE}`),
    };
    return true;
  }

  #exactBytes(): number {
    return (this.#stmt!.total.get() as { b: number }).b;
  }

  wants(reason: SnapshotReason, sinceLast: number, at?: FoldPoint): boolean {
    return !this.readOnly && this.#policy.wants(reason, sinceLast, at);
  }

  async nearest<S>(key: SnapshotKey, maxSeq: number, maxVersion?: number): Promise<Snapshot<S> | undefined> {
    if (key.codeHash === UNVERSIONED || !this.#ready()) {
      this.#n.misses++;
      return undefined;
    }
    const k = [blob(key.projection), blob(key.codeHash), blob(key.stream)];
    let bound = clamp(maxSeq);
    for (;;) {
      const r = this.#stmt!.nearest.get(...k, bound, clamp(maxVersion ?? Infinity)) as RowOut | undefined;
      if (!r) {
        this.#n.misses++;
        return undefined;
      }
      const snap = decode<S>(r);
      if (snap && (await this.#matchesLog(snap))) {
        const now = Date.now();
        if (!this.readOnly && now - r.used > TOUCH_MS) this.#write(() => this.#stmt!.touch.run(now, r.id));
        this.#n.hits++;
        return snap;
      }
      // Damaged, or the log changed under it: never trusted; dropped when we may write.
      this.#n.damaged++;
      if (!this.readOnly) this.#write(() => this.#stmt!.del.run(r.id));
      bound = r.seq - 1;
    }
  }

  async #matchesLog(snap: Snapshot<unknown>): Promise<boolean> {
    if (!this.#eventIdAt || snap.eventId === undefined) return true;
    return (await this.#eventIdAt(snap.seq)) === snap.eventId;
  }

  async put<S>(key: SnapshotKey, snap: Snapshot<S>): Promise<void> {
    const json = this.readOnly || key.codeHash === UNVERSIONED ? undefined : exactJson(snap.state);
    const pos = JSON.stringify({ time: snap.time, eventId: snap.eventId });
    const k = [blob(key.projection), blob(key.codeHash), blob(key.stream)];
    const bytes =
      json === undefined
        ? Infinity
        : Buffer.byteLength(json) + pos.length + k[0]!.length + k[1]!.length + k[2]!.length + 48;
    if (json === undefined || bytes > this.#maxStateBytes || !this.#ready()) {
      this.#n.skipped++;
      return;
    }
    const code = JSON.stringify([key.projection, key.codeHash]);
    if (this.#autoInvalidate && !this.#seenCode.has(code)) {
      if (!this.#write(() => this.#dropOtherCode(key.projection, key.codeHash))) return;
      this.#seenCode.add(code);
    }
    const ok = this.#write(() =>
      this.#stmt!.upsert.run(...k, snap.seq, snap.version ?? null, pos, json, crc32(json), bytes, Date.now()),
    );
    if (!ok) return;
    this.#n.puts++;
    this.#bytes += bytes;
    if (this.#bytes > this.#maxBytes) this.#write(() => this.#evict());
  }

  /** Re-counts, and when really over budget deletes least recently used rows down to EVICT_TO of it. */
  #evict(): void {
    let total = this.#exactBytes();
    const target = this.#maxBytes * EVICT_TO;
    if (total > this.#maxBytes)
      this.#db.transaction(() => {
        while (total > target) {
          const rows = this.#stmt!.lru.all() as { id: number; bytes: number }[];
          if (!rows.length) break;
          for (const r of rows) {
            this.#stmt!.del.run(r.id);
            total -= r.bytes;
            this.#n.evicted++;
            if (total <= target) break;
          }
        }
      })();
    this.#bytes = total;
  }

  /** Runs a write; a failure (disk full, busy) is counted and reported by stats(), never thrown. */
  #write(fn: () => unknown): boolean {
    try {
      fn();
      return true;
    } catch (err) {
      this.#n.writeErrors++;
      this.#n.lastError = (err as Error).message;
      return false;
    }
  }

  async invalidate(projection: string, currentHash?: string): Promise<number> {
    if (this.readOnly || !this.#ready()) return 0; // rows of other code never match a key anyway
    return this.#dropOtherCode(projection, currentHash);
  }

  #dropOtherCode(projection: string, currentHash?: string): number {
    const r = this.#db
      .prepare(`DELETE FROM ${TABLE} WHERE projection = ? AND code_hash IS NOT ?`)
      .run(blob(projection), currentHash === undefined ? null : blob(currentHash));
    if (r.changes) this.#bytes = this.#exactBytes();
    return r.changes;
  }

  async dropFrom(seq: number): Promise<number> {
    if (this.readOnly || !this.#ready()) return 0;
    const r = this.#db.prepare(`DELETE FROM ${TABLE} WHERE seq >= ?`).run(clamp(seq));
    if (r.changes) this.#bytes = this.#exactBytes();
    return r.changes;
  }

  size(): number {
    return this.#ready() ? (this.#stmt!.count.get() as { n: number }).n : 0;
  }

  async stats(): Promise<SnapshotStats> {
    const perProjection: SnapshotStats['perProjection'] = Object.create(null); // any name is a plain key
    let rows = 0;
    let bytes = 0;
    if (this.#ready()) {
      const groups = this.#db
        .prepare(
          `SELECT projection, count(*) AS rows, sum(bytes) AS bytes, count(DISTINCT code_hash) AS hashes
           FROM ${TABLE} GROUP BY projection`,
        )
        .all() as { projection: Buffer; rows: number; bytes: number; hashes: number }[];
      for (const g of groups) {
        perProjection[g.projection.toString('utf16le')] = {
          rows: g.rows,
          bytes: g.bytes,
          codeHashes: g.hashes,
        };
        rows += g.rows;
        bytes += g.bytes;
      }
    }
    return {
      backend: 'sqlite',
      readOnly: this.readOnly,
      rows,
      bytes,
      maxBytes: this.#maxBytes,
      perProjection,
      ...this.#n,
    };
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}

/** A row as a snapshot, or undefined when its checksum, JSON or position does not hold up. */
function decode<S>(r: RowOut): Snapshot<S> | undefined {
  if (typeof r.state !== 'string' || crc32(r.state) !== r.crc) return undefined;
  try {
    const pos = JSON.parse(r.pos) as { time?: unknown; eventId?: unknown };
    const snap: Snapshot<S> = { seq: r.seq, state: JSON.parse(r.state) as S };
    if (r.version !== null) snap.version = r.version;
    if (typeof pos.time === 'string') snap.time = pos.time;
    if (typeof pos.eventId === 'string') snap.eventId = pos.eventId;
    return snap;
  } catch {
    return undefined;
  }
}
