import type Database from 'better-sqlite3';
import { openDatabase } from '../sqlite';
import { closeSync, existsSync, openSync } from 'node:fs';
import { keyHash } from './keyHash';
import { createSchema, INDEX_FORMAT, KEY_KIND } from './sqliteSchema';

export interface SegmentRecord {
  id: number;
  name: string;
  firstSeq: number;
  lastSeq: number;
  count: number;
  bytes: number;
  rawBytes: number;
  blocks: number;
  sha256: string;
  minTime: number | null;
  maxTime: number | null;
  sealedAt: string;
}

/**
 * Key text is stored as UTF-16LE blobs: lossless for any JS string (even lone surrogates, which
 * UTF-8 text would mangle), and every string with a given prefix sorts into one blob range.
 */
const toKey = (s: string): Buffer => Buffer.from(s, 'utf16le');
const fromKey = (b: Buffer): string => b.toString('utf16le');
/** The smallest blob greater than every blob starting with `b` (or an all-0xFF sentinel). */
function successor(b: Buffer): Buffer {
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      const out = Buffer.from(b.subarray(0, i + 1));
      out[i] = b[i]! + 1;
      return out;
    }
  }
  return Buffer.alloc(b.length + 1, 0xff);
}

/** Per-segment counts of streams, types and tenants, merged into `keys` at seal. */
export type KeyCounts = { kind: number; value: string; n: number }[];

/**
 * Whether a seal may name only the streams that begin in its segment (version 1): true while no
 * seq was ever lost, because then every stream's first event was sealed, and named, in order.
 * A repair that lost events may have lost a stream's first one; from then on seals name them all.
 */
export function newStreamsOnly(ix: SqliteIndex): boolean {
  return ix.lastLostSeq() === 0;
}

/**
 * The SQLite side of the file backend: segment catalogue, event locations keyed by hashed
 * envelope fields, key counts and checkpoints. Writes happen once per sealed segment, in one
 * transaction, so the index only ever moves from one consistent state to the next.
 */
export class SqliteIndex {
  readonly db: Database.Database;
  readonly #typeCounts = new Map<number, { value: string; count: number }>();
  readonly #tenantCounts = new Map<number, { value: string; count: number }>();
  #total = 0;
  #lastIndexed = 0;
  readonly #stmt: Record<string, Database.Statement>;

  constructor(path: string, readOnly: boolean) {
    // Created 0600 up front: SQLite gives its -wal/-shm files the database file's permissions.
    if (!readOnly && !existsSync(path)) closeSync(openSync(path, 'a', 0o600));
    this.db = openDatabase(path, { readonly: readOnly, fileMustExist: readOnly });
    if (!readOnly) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      createSchema(this.db);
      const fmt = this.db.prepare(`SELECT value FROM meta WHERE key = 'format'`).get() as
        { value: string } | undefined;
      if (!fmt)
        this.db.prepare(`INSERT INTO meta(key, value) VALUES ('format', ?)`).run(String(INDEX_FORMAT));
    }
    this.db.pragma('cache_size = -65536');
    this.db.pragma('temp_store = MEMORY');
    this.#stmt = {
      getCp: this.db.prepare(`SELECT seq FROM checkpoints WHERE name = ?`),
      hasKey: this.db.prepare(`SELECT 1 FROM keys WHERE kind = ? AND hash = ?`),
      setCp: this.db.prepare(
        `INSERT INTO checkpoints(name, seq, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at`,
      ),
    };
    this.#loadCounts();
  }

  /**
   * Caps SQLite's page cache of this connection. The store's own connection reads index blobs
   * into an LRU of its own (IndexCache), so a large page cache would only keep second copies of
   * them, growing the process by up to its size as segments are sealed.
   */
  limitPageCache(kib: number): void {
    this.db.pragma(`cache_size = -${Math.max(0, Math.floor(kib))}`);
  }

  /** The stored format version, or undefined for an empty or foreign database. */
  format(): number | undefined {
    try {
      const r = this.db.prepare(`SELECT value FROM meta WHERE key = 'format'`).get() as
        { value: string } | undefined;
      return r ? Number(r.value) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Runs SQLite's own consistency check (cheap variant). */
  quickCheck(): string {
    const r = this.db.pragma('quick_check', { simple: true });
    return String(r);
  }

  /** Re-reads cached counts after another connection (the seal worker) committed. */
  reload(): void {
    this.#loadCounts();
  }

  #loadCounts(): void {
    this.#typeCounts.clear();
    this.#tenantCounts.clear();
    const rows = this.db
      .prepare(`SELECT kind, hash, value, count FROM keys WHERE kind IN (?, ?)`)
      .all(KEY_KIND.type, KEY_KIND.tenant) as {
      kind: number;
      hash: number;
      value: Buffer;
      count: number;
    }[];
    for (const r of rows)
      (r.kind === KEY_KIND.type ? this.#typeCounts : this.#tenantCounts).set(r.hash, {
        value: fromKey(r.value),
        count: r.count,
      });
    const r = this.db
      .prepare(`SELECT coalesce(sum(count), 0) AS n, coalesce(max(last_seq), 0) AS last FROM segments`)
      .get() as { n: number; last: number };
    this.#total = r.n;
    this.#lastIndexed = r.last;
  }

  get total(): number {
    return this.#total;
  }

  segments(): SegmentRecord[] {
    return this.db
      .prepare(
        `SELECT id, name, first_seq AS firstSeq, last_seq AS lastSeq, count, bytes, raw_bytes AS rawBytes, blocks, sha256,
                min_time AS minTime, max_time AS maxTime, sealed_at AS sealedAt FROM segments ORDER BY first_seq`,
      )
      .all() as SegmentRecord[];
  }

  /** Adds a sealed segment, its index blob and its key counts atomically; returns the segment id. */
  addSegment(seg: Omit<SegmentRecord, 'id'>, blob: Buffer, counts: KeyCounts): number {
    const insSeg = this.db.prepare(
      `INSERT INTO segments(name, first_seq, last_seq, count, bytes, raw_bytes, blocks, sha256, min_time, max_time, sealed_at)
       VALUES (@name, @firstSeq, @lastSeq, @count, @bytes, @rawBytes, @blocks, @sha256, @minTime, @maxTime, @sealedAt)`,
    );
    const insBlob = this.db.prepare(`INSERT INTO seg_index(seg, blob) VALUES (?, ?)`);
    const tx = this.db.transaction(() => {
      const id = Number(insSeg.run(seg).lastInsertRowid);
      insBlob.run(id, blob);
      this.#upsertKeys(counts);
      return id;
    });
    const id = tx.immediate();
    this.#shrinkWal();
    this.#loadCounts();
    return id;
  }

  /**
   * Adds key counts in one statement per kind: a segment brings tens of thousands of stream keys,
   * and one native call per key cost more than the inserts. The rows travel as JSON ([hash, value
   * as UTF-16LE hex, count]) and are unpacked by json_each inside SQLite. Stream rows only record
   * that the name exists (count 0; nothing reads a per-stream count), so a stream seen before costs
   * one lookup instead of an update of two B-trees.
   */
  #upsertKeys(counts: KeyCounts): void {
    const byKind = new Map<number, [number, string, number][]>();
    for (const c of counts) {
      let rows = byKind.get(c.kind);
      if (!rows) byKind.set(c.kind, (rows = []));
      rows.push([keyHash(c.value), toKey(c.value).toString('hex'), c.kind === KEY_KIND.stream ? 0 : c.n]);
    }
    const sql = (onConflict: string) =>
      `INSERT INTO keys(kind, hash, value, count)
         SELECT ?, j.value ->> 0, unhex(j.value ->> 1), j.value ->> 2 FROM json_each(?) AS j WHERE true
       ON CONFLICT(kind, hash) DO ${onConflict}`;
    const add = this.db.prepare(sql('UPDATE SET count = count + excluded.count'));
    const exists = this.db.prepare(sql('NOTHING'));
    for (const [kind, rows] of byKind)
      (kind === KEY_KIND.stream ? exists : add).run(kind, JSON.stringify(rows));
  }

  /**
   * Replaces the whole catalogue in one transaction (rebuild): a crash leaves the old index or the
   * new one. Counts are summed by the caller, so each key is one plain insert instead of one upsert
   * per segment.
   */
  replaceAll(segs: { segment: Omit<SegmentRecord, 'id'>; blob: Buffer }[], counts: KeyCounts): void {
    const insSeg = this.db.prepare(
      `INSERT INTO segments(name, first_seq, last_seq, count, bytes, raw_bytes, blocks, sha256, min_time, max_time, sealed_at)
       VALUES (@name, @firstSeq, @lastSeq, @count, @bytes, @rawBytes, @blocks, @sha256, @minTime, @maxTime, @sealedAt)`,
    );
    const insBlob = this.db.prepare(`INSERT INTO seg_index(seg, blob) VALUES (?, ?)`);
    this.db
      .transaction(() => {
        this.db.exec('DELETE FROM seg_index; DELETE FROM keys; DELETE FROM segments;');
        for (const s of segs) insBlob.run(Number(insSeg.run(s.segment).lastInsertRowid), s.blob);
        this.#upsertKeys(counts);
      })
      .immediate();
    this.#shrinkWal();
    this.#loadCounts();
  }

  /**
   * Copies the WAL into the database and truncates it. A seal writes MBs of blobs and keys; left to
   * autocheckpoint, the WAL keeps ~8 bytes per event on disk for nothing. If a reader holds an old
   * snapshot, the checkpoint is simply partial and the next seal tries again.
   */
  #shrinkWal(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /** The index blob of one segment. */
  segmentBlob(seg: number): Buffer | undefined {
    return (
      this.db.prepare(`SELECT blob FROM seg_index WHERE seg = ?`).get(seg) as { blob: Buffer } | undefined
    )?.blob;
  }

  /** Forgets every segment, blob and key count (before a rebuild). */
  clear(): void {
    this.db.exec('DELETE FROM seg_index; DELETE FROM keys; DELETE FROM segments;');
    this.#loadCounts();
  }

  /** Highest seq held by a sealed segment (cached; refreshed by reload()). */
  lastIndexedSeq(): number {
    return this.#lastIndexed;
  }

  typeCount(type: string): number {
    return this.#typeCounts.get(keyHash(type))?.count ?? 0;
  }
  tenantCount(tenant: string): number {
    return this.#tenantCounts.get(keyHash(tenant))?.count ?? 0;
  }
  typeCounts(): Record<string, number> {
    return Object.fromEntries([...this.#typeCounts.values()].map((v) => [v.value, v.count]));
  }
  tenantCounts(): Record<string, number> {
    return Object.fromEntries([...this.#tenantCounts.values()].map((v) => [v.value, v.count]));
  }
  /** Stream names known to the index (for stats and prefix queries). */
  streamNames(prefix?: string, limit = 1_000_000): string[] {
    if (prefix === undefined) {
      return (
        this.db.prepare(`SELECT value FROM keys WHERE kind = ? LIMIT ?`).all(KEY_KIND.stream, limit) as {
          value: Buffer;
        }[]
      ).map((r) => fromKey(r.value));
    }
    const rows = this.db
      .prepare(
        `SELECT value FROM keys INDEXED BY keys_value WHERE kind = ? AND value >= ? AND value < ? LIMIT ?`,
      )
      .all(KEY_KIND.stream, toKey(prefix), successor(toKey(prefix)), limit) as { value: Buffer }[];
    return rows.map((r) => fromKey(r.value)).filter((v) => v.startsWith(prefix));
  }
  /**
   * False when no sealed segment holds this stream: no keys row has its hash. True may also mean
   * another name with the same hash (a collision keeps the first row), so callers then look.
   */
  mayHaveStream(stream: string): boolean {
    return this.#stmt.hasKey!.get(KEY_KIND.stream, keyHash(stream)) !== undefined;
  }

  streamCount(): number {
    return (
      this.db.prepare(`SELECT count(*) AS n FROM keys WHERE kind = ?`).get(KEY_KIND.stream) as { n: number }
    ).n;
  }

  getCheckpoint(name: string): number | undefined {
    return (this.#stmt.getCp!.get(name) as { seq: number } | undefined)?.seq;
  }
  setCheckpoint(name: string, seq: number): void {
    this.#stmt.setCp!.run(name, seq, new Date().toISOString());
  }

  // --- Lost seqs (repair.ts) -------------------------------------------------------------------

  /** Whether the catalogue has the lost_seqs table (a read-only open of an older index may not). */
  #hasLostTable(): boolean {
    return !!this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'lost_seqs'`).get();
  }

  /** Seqs recorded as lost by repair, ascending. */
  lostSeqs(): LostSeq[] {
    if (!this.#hasLostTable()) return [];
    return this.db
      .prepare(`SELECT seq, file, reason, repaired_at AS repairedAt FROM lost_seqs ORDER BY seq`)
      .all() as LostSeq[];
  }

  /** The highest lost seq (0 if none): the sequencer must never hand it out again. */
  lastLostSeq(): number {
    if (!this.#hasLostTable()) return 0;
    return (this.db.prepare(`SELECT coalesce(max(seq), 0) AS m FROM lost_seqs`).get() as { m: number }).m;
  }

  /** Records lost seqs (already-recorded ones keep their first reason). */
  recordLost(rows: LostSeq[]): void {
    const ins = this.db.prepare(
      `INSERT OR IGNORE INTO lost_seqs(seq, file, reason, repaired_at) VALUES (@seq, @file, @reason, @repairedAt)`,
    );
    this.db.transaction(() => rows.forEach((r) => ins.run(r))).immediate();
  }

  /** Forgets lost-seq records for seqs that a segment does hold after all. */
  forgetLost(seqs: number[]): void {
    const del = this.db.prepare(`DELETE FROM lost_seqs WHERE seq = ?`);
    this.db.transaction(() => seqs.forEach((s) => del.run(s))).immediate();
  }

  /**
   * Repair of one sealed segment, in one transaction: drops the damaged segment's row and index
   * blob, adds the segments rewritten from what survived, adjusts key counts and records the lost
   * seqs. `counts` are applied as given (positive for new rows, negative for lost events, keyed by
   * the exact hash of the keys row); a type or tenant row whose count reaches 0 is removed, a stream
   * row when its n is negative (the stream has no sealed events left).
   */
  replaceSegment(
    removeId: number | undefined,
    add: { segment: Omit<SegmentRecord, 'id'>; blob: Buffer }[],
    counts: { kind: number; hash: number; value?: string; n: number }[],
    lost: LostSeq[],
  ): void {
    const insSeg = this.db.prepare(
      `INSERT INTO segments(name, first_seq, last_seq, count, bytes, raw_bytes, blocks, sha256, min_time, max_time, sealed_at)
       VALUES (@name, @firstSeq, @lastSeq, @count, @bytes, @rawBytes, @blocks, @sha256, @minTime, @maxTime, @sealedAt)`,
    );
    const insBlob = this.db.prepare(`INSERT INTO seg_index(seg, blob) VALUES (?, ?)`);
    const upKey = this.db.prepare(
      `INSERT INTO keys(kind, hash, value, count) VALUES (?, ?, ?, ?) ON CONFLICT(kind, hash) DO UPDATE SET count = count + excluded.count`,
    );
    const decKey = this.db.prepare(`UPDATE keys SET count = count + ? WHERE kind = ? AND hash = ?`);
    const dropKey = this.db.prepare(`DELETE FROM keys WHERE kind = ? AND hash = ?`);
    const insLost = this.db.prepare(
      `INSERT OR IGNORE INTO lost_seqs(seq, file, reason, repaired_at) VALUES (@seq, @file, @reason, @repairedAt)`,
    );
    this.db
      .transaction(() => {
        if (removeId !== undefined) {
          this.db.prepare(`DELETE FROM seg_index WHERE seg = ?`).run(removeId);
          this.db.prepare(`DELETE FROM segments WHERE id = ?`).run(removeId);
        }
        // By name too: a rerun after a crash may find its own output already catalogued.
        for (const s of add) {
          const old = this.db.prepare(`SELECT id FROM segments WHERE name = ?`).get(s.segment.name) as
            { id: number } | undefined;
          if (old) {
            this.db.prepare(`DELETE FROM seg_index WHERE seg = ?`).run(old.id);
            this.db.prepare(`DELETE FROM segments WHERE id = ?`).run(old.id);
          }
          insBlob.run(Number(insSeg.run(s.segment).lastInsertRowid), s.blob);
        }
        for (const c of counts) {
          // Stream rows only record that the name exists (count 0, see #upsertKeys): n < 0 removes one.
          if (c.kind === KEY_KIND.stream) {
            if (c.n < 0) dropKey.run(c.kind, c.hash);
            else if (c.value !== undefined) upKey.run(c.kind, c.hash, toKey(c.value), 0);
          } else if (c.value !== undefined && c.n > 0) upKey.run(c.kind, c.hash, toKey(c.value), c.n);
          else decKey.run(c.n, c.kind, c.hash);
        }
        this.db.prepare(`DELETE FROM keys WHERE count <= 0 AND kind <> ?`).run(KEY_KIND.stream);
        for (const l of lost) insLost.run(l);
      })
      .immediate();
    this.#shrinkWal();
    this.#loadCounts();
  }

  /** Every stream, type and tenant key row (repair maps a damaged segment's postings onto them). */
  keyRows(): { kind: number; hash: number; value: string }[] {
    return (
      this.db.prepare(`SELECT kind, hash, value FROM keys`).all() as {
        kind: number;
        hash: number;
        value: Buffer;
      }[]
    ).map((r) => ({ kind: r.kind, hash: r.hash, value: fromKey(r.value) }));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** One seq that repair could not recover, and why. */
export interface LostSeq {
  seq: number;
  file: string;
  reason: string;
  repairedAt: string;
}
