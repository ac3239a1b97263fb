import pg from 'pg';
import { type PageQuery, type Subject } from '../subject';
import type { BenchEvent } from '../workload';
import { PgServer } from './pgServer';

/**
 * The table of the issue, plus one expression index on metadata->>'streamId': the schema
 * has no stream column, and without it every stream read would be a sequential scan.
 */
const SCHEMA = `
  CREATE TABLE events (event_id UUID PRIMARY KEY, timestamp TIMESTAMPTZ NOT NULL, event_type TEXT NOT NULL,
    actor_id TEXT, correlation_id TEXT, payload JSONB NOT NULL, metadata JSONB NOT NULL);
  CREATE INDEX events_ts ON events (timestamp);
  CREATE INDEX events_corr ON events (correlation_id);
  CREATE INDEX events_actor ON events (actor_id);
  CREATE INDEX events_type ON events (event_type);
  CREATE INDEX events_type_ts ON events (event_type, timestamp);
  CREATE INDEX events_stream ON events ((metadata->>'streamId'));`;

const PAGE: Record<PageQuery['kind'], string> = {
  type: 'event_type = $1',
  actor: 'actor_id = $1',
  correlation: 'correlation_id = $1',
  time: 'timestamp >= $1 AND timestamp < $2',
  'type-tenant': "event_type = $1 AND metadata->>'tenantId' = $2",
};

/** Baseline `postgres`: a real server started for this run; multi-row INSERTs of one batch, each its own durable commit. */
export class PostgresSubject implements Subject {
  readonly name = 'postgres' as const;
  readonly #versions = new Map<string, number>();
  private constructor(
    readonly server: PgServer,
    readonly client: pg.Client,
  ) {}

  /** Starts a server, connects as `bench` and creates the table; stops the server again if any step fails. */
  static async start(): Promise<PostgresSubject> {
    const server = await PgServer.start();
    try {
      const client = new pg.Client({
        host: '127.0.0.1',
        port: server.port,
        user: 'bench',
        database: 'postgres',
      });
      await client.connect();
      await client.query(SCHEMA);
      return new PostgresSubject(server, client);
    } catch (err) {
      await server.stop();
      throw err;
    }
  }

  async append(batch: BenchEvent[]): Promise<void> {
    const values: unknown[] = [];
    const rows: string[] = [];
    for (const e of batch) {
      const v = (this.#versions.get(e.stream) ?? 0) + 1;
      this.#versions.set(e.stream, v);
      const meta = JSON.stringify({ streamId: e.stream, tenantId: e.tenant, streamVersion: v });
      const b = values.length;
      rows.push(`($${b + 1},$${b + 2},$${b + 3},$${b + 4},$${b + 5},$${b + 6},$${b + 7})`);
      values.push(e.id, e.time, e.type, e.actor, e.correlationId, JSON.stringify(e.data), meta);
    }
    await this.client.query(
      `INSERT INTO events (event_id, timestamp, event_type, actor_id, correlation_id, payload, metadata) VALUES ${rows.join(',')}`,
      values,
    );
  }
  async settle(): Promise<void> {
    // VACUUM now, as after any bulk load: otherwise autovacuum visits 1M fresh rows in the
    // background while the next measurements (ours included) run on a 2-core machine. Then write
    // the dirty buffers out, for the same reason.
    await this.client.query('VACUUM (ANALYZE) events');
    await this.client.query('CHECKPOINT');
  }

  async #count(name: string, text: string, values: unknown[]): Promise<number> {
    return (await this.client.query({ name, text, values })).rowCount ?? 0;
  }
  async getById(id: string): Promise<number> {
    return this.#count('get', 'SELECT * FROM events WHERE event_id = $1', [id]);
  }
  async readStream(stream: string): Promise<number> {
    const sql = "SELECT * FROM events WHERE metadata->>'streamId' = $1 ORDER BY timestamp";
    return this.#count('stream', sql, [stream]);
  }
  async page(q: PageQuery): Promise<number> {
    const sql = `SELECT * FROM events WHERE ${PAGE[q.kind]} ORDER BY timestamp LIMIT 100`;
    const args =
      q.kind === 'type'
        ? [q.type]
        : q.kind === 'actor'
          ? [q.actor]
          : q.kind === 'correlation'
            ? [q.correlationId]
            : q.kind === 'time'
              ? [q.since, q.until]
              : [q.type, q.tenant];
    return this.#count(`page-${q.kind}`, sql, args);
  }
  async search(word: string, limit?: number): Promise<number> {
    const base = 'SELECT * FROM events WHERE payload::text ILIKE $1 ORDER BY timestamp';
    if (limit === undefined) return this.#count('search-all', base, [`%${word}%`]);
    return this.#count('search', `${base} LIMIT $2`, [`%${word}%`, limit]);
  }
  async diskBytes(): Promise<number> {
    const r = await this.client.query("SELECT pg_total_relation_size('events') AS n");
    return Number((r.rows[0] as { n: string }).n);
  }
  async close(): Promise<void> {
    try {
      await this.client.end();
    } finally {
      await this.server.stop();
    }
  }
}
