import type Database from 'better-sqlite3';

/** Bumped whenever the index layout or a key hash changes; an index of another version is rebuilt. */
export const INDEX_FORMAT = 5;

/**
 * The catalogue (DESIGN §3): sealed segments with their checksums and per-segment index blobs
 * (segmentIndex.ts), the text and counts of streams, types and tenants for stats and prefix
 * lookups, and subscription checkpoints. The active segment lives in the in-memory hot tier and is
 * re-read on open, so the index changes only when a segment is sealed: one transaction each.
 */
export function createSchema(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS segments (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      first_seq INTEGER NOT NULL,
      last_seq INTEGER NOT NULL,
      count INTEGER NOT NULL,
      bytes INTEGER NOT NULL,
      raw_bytes INTEGER NOT NULL,
      blocks INTEGER NOT NULL,
      sha256 TEXT NOT NULL,
      min_time INTEGER,
      max_time INTEGER,
      sealed_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS seg_index (seg INTEGER PRIMARY KEY, blob BLOB NOT NULL);
    CREATE TABLE IF NOT EXISTS keys (
      kind INTEGER NOT NULL,
      hash INTEGER NOT NULL,
      value BLOB NOT NULL,
      count INTEGER NOT NULL,
      PRIMARY KEY (kind, hash)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS keys_value ON keys(kind, value);
    CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, seq INTEGER NOT NULL, updated_at TEXT NOT NULL);
    -- Seqs that repair found damaged beyond recovery: gaps at exactly these seqs are known, not damage.
    -- A new table, not a layout change: older indexes gain it on their next read-write open.
    CREATE TABLE IF NOT EXISTS lost_seqs (
      seq INTEGER PRIMARY KEY,
      file TEXT NOT NULL,
      reason TEXT NOT NULL,
      repaired_at TEXT NOT NULL
    );
  `);
}

/** Kinds of the `keys` table. */
export const KEY_KIND = { stream: 0, type: 1, tenant: 2 } as const;
