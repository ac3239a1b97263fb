import Database from 'better-sqlite3';
import { join } from 'node:path';
import { duBytes, type PageQuery, type Subject } from '../subject';
import type { BenchEvent } from '../workload';

const SCHEMA = `
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, stream TEXT NOT NULL, version INTEGER NOT NULL,
    type TEXT NOT NULL, time TEXT NOT NULL, tenant TEXT NOT NULL, actor TEXT, correlation_id TEXT,
    data TEXT NOT NULL);
  CREATE UNIQUE INDEX ev_stream ON events(stream, version);
  CREATE INDEX ev_type ON events(type);
  CREATE INDEX ev_actor ON events(actor);
  CREATE INDEX ev_corr ON events(correlation_id);
  CREATE INDEX ev_time ON events(time);
  CREATE INDEX ev_tenant ON events(tenant);
  CREATE INDEX ev_type_time ON events(type, time);`;

interface Row {
  data: string;
}

/** Baseline `sqlite-rows`: one row per event, payload as JSON text, ordinary B-tree indexes; WAL + synchronous=FULL so a batch is durable on commit. */
export class SqliteRowsSubject implements Subject {
  readonly name = 'sqlite-rows' as const;
  readonly #db: Database.Database;
  readonly #versions = new Map<string, number>();
  readonly #insert: Database.Statement;
  readonly #q: Record<string, Database.Statement>;

  constructor(readonly dir: string) {
    this.#db = new Database(join(dir, 'events.db'));
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.exec(SCHEMA);
    this.#insert = this.#db.prepare(
      'INSERT INTO events (id, stream, version, type, time, tenant, actor, correlation_id, data) VALUES (?,?,?,?,?,?,?,?,?)',
    );
    const page = (where: string) =>
      this.#db.prepare(`SELECT * FROM events WHERE ${where} ORDER BY seq LIMIT 100`);
    this.#q = {
      id: this.#db.prepare('SELECT * FROM events WHERE id = ?'),
      stream: this.#db.prepare('SELECT * FROM events WHERE stream = ? ORDER BY version'),
      type: page('type = ?'),
      actor: page('actor = ?'),
      correlation: page('correlation_id = ?'),
      time: page('time >= ? AND time < ?'),
      'type-tenant': page('type = ? AND tenant = ?'),
      search: this.#db.prepare('SELECT * FROM events WHERE data LIKE ? ORDER BY seq LIMIT ?'),
    };
  }

  async append(batch: BenchEvent[]): Promise<void> {
    const tx = this.#db.transaction((events: BenchEvent[]) => {
      for (const e of events) {
        const v = (this.#versions.get(e.stream) ?? 0) + 1;
        this.#versions.set(e.stream, v);
        const data = JSON.stringify(e.data);
        this.#insert.run(e.id, e.stream, v, e.type, e.time, e.tenant, e.actor, e.correlationId, data);
      }
    });
    tx(batch);
  }
  async settle(): Promise<void> {
    this.#db.exec('ANALYZE');
  }

  /** Rows come back with their payload parsed, as ours returns parsed events. */
  #rows(stmt: Database.Statement, ...args: unknown[]): number {
    const rows = stmt.all(...args) as Row[];
    for (const r of rows) JSON.parse(r.data);
    return rows.length;
  }
  async getById(id: string): Promise<number> {
    return this.#rows(this.#q.id!, id);
  }
  async readStream(stream: string): Promise<number> {
    return this.#rows(this.#q.stream!, stream);
  }
  async page(q: PageQuery): Promise<number> {
    switch (q.kind) {
      case 'type':
        return this.#rows(this.#q.type!, q.type);
      case 'actor':
        return this.#rows(this.#q.actor!, q.actor);
      case 'correlation':
        return this.#rows(this.#q.correlation!, q.correlationId);
      case 'time':
        return this.#rows(this.#q.time!, q.since, q.until);
      case 'type-tenant':
        return this.#rows(this.#q['type-tenant']!, q.type, q.tenant);
    }
  }
  async search(word: string, limit?: number): Promise<number> {
    return this.#rows(this.#q.search!, `%${word}%`, limit ?? -1);
  }
  async diskBytes(): Promise<number> {
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
    return duBytes(this.dir);
  }
  async close(): Promise<void> {
    this.#db.close();
  }
}
