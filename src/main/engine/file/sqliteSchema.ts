import type Database from 'better-sqlite3';

/** Bumped whenever the index layout or keyHash changes; an index of another version is rebuilt. */
export const INDEX_FORMAT = 1;

/**
 * The index and catalogue (DESIGN §3). Text keys are stored as 52-bit hashes (keyHash) so every
 * B-tree holds fixed-width integers; `keys` keeps the text and counts of streams, types and
 * tenants for stats, prefix lookups and the planner. Rows exist only for sealed segments: the
 * active segment lives in the in-memory hot tier and is re-read on open.
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
    CREATE TABLE IF NOT EXISTS events (
      seq INTEGER PRIMARY KEY,
      seg INTEGER NOT NULL,
      voff INTEGER NOT NULL,
      len INTEGER NOT NULL,
      crc INTEGER NOT NULL,
      time INTEGER NOT NULL,
      id_h INTEGER NOT NULL,
      stream_h INTEGER NOT NULL,
      version INTEGER NOT NULL,
      type_h INTEGER NOT NULL,
      tenant_h INTEGER NOT NULL,
      actor_h INTEGER,
      corr_h INTEGER,
      caus_h INTEGER
    );
    CREATE INDEX IF NOT EXISTS ev_id ON events(id_h);
    CREATE INDEX IF NOT EXISTS ev_stream ON events(stream_h);
    CREATE INDEX IF NOT EXISTS ev_type ON events(type_h);
    CREATE INDEX IF NOT EXISTS ev_tenant ON events(tenant_h);
    CREATE INDEX IF NOT EXISTS ev_actor ON events(actor_h) WHERE actor_h IS NOT NULL;
    CREATE INDEX IF NOT EXISTS ev_corr ON events(corr_h) WHERE corr_h IS NOT NULL;
    CREATE INDEX IF NOT EXISTS ev_caus ON events(caus_h) WHERE caus_h IS NOT NULL;
    CREATE INDEX IF NOT EXISTS ev_time ON events(time);
    CREATE TABLE IF NOT EXISTS tags (tag_h INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (tag_h, seq)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS keys (
      kind INTEGER NOT NULL,
      hash INTEGER NOT NULL,
      value TEXT NOT NULL,
      count INTEGER NOT NULL,
      PRIMARY KEY (kind, hash)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS keys_value ON keys(kind, value);
    CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, seq INTEGER NOT NULL, updated_at TEXT NOT NULL);
  `);
}

/** Kinds of the `keys` table. */
export const KEY_KIND = { stream: 0, type: 1, tenant: 2 } as const;
