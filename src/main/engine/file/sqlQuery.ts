import type { StoredEvent } from '../../../shared/event';
import { matchesFilter, type EventFilter, type QueryPlanInfo } from '../../../shared/query';
import { keyHash } from './keyHash';
import type { EventLocation, SqliteIndex } from './SqliteIndex';

/** A stream prefix matching more streams than this is filtered after loading instead of in SQL. */
const MAX_IN_LIST = 500;
/** Bounded probe for the planner's estimate on high-cardinality keys. */
const PROBE = 2000;

interface Driver {
  index: string;
  estimate: number;
  /** SQL source for the driving rows, ordered by seq. */
  from: string;
  /** Conditions (with their params) specific to this driver. */
  where: string[];
  params: unknown[];
}

interface Conditions {
  /** Residual conditions that apply whatever drives the query. */
  where: string[];
  params: unknown[];
  drivers: Driver[];
  empty: boolean;
}

function eq(index: string, col: string, value: number, estimate: number): Driver {
  return {
    index,
    estimate,
    from: `events INDEXED BY ${indexName(col)}`,
    where: [`${col} = ?`],
    params: [value],
  };
}

function indexName(col: string): string {
  return {
    id_h: 'ev_id',
    stream_h: 'ev_stream',
    type_h: 'ev_type',
    tenant_h: 'ev_tenant',
    actor_h: 'ev_actor',
    corr_h: 'ev_corr',
    caus_h: 'ev_caus',
    time: 'ev_time',
  }[col]!;
}

/**
 * Turns a filter into candidate access paths over the SQLite index. Every path returns a superset
 * of the matching events (hash keys may collide); the full predicate runs on each loaded event.
 */
export function buildConditions(ix: SqliteIndex, f: EventFilter): Conditions {
  const where: string[] = [];
  const params: unknown[] = [];
  const drivers: Driver[] = [];
  let empty = false;
  const probe = (col: string, h: number) =>
    (
      ix.db
        .prepare(
          `SELECT count(*) AS n FROM (SELECT 1 FROM events INDEXED BY ${indexName(col)} WHERE ${col} = ? LIMIT ${PROBE})`,
        )
        .get(h) as { n: number }
    ).n;

  if (f.types && f.types.length > 0) {
    const hs = [...new Set(f.types)].map(keyHash);
    where.push(`type_h IN (${hs.map(() => '?').join(',')})`);
    params.push(...hs);
    const est = f.types.reduce((n, t) => n + ix.typeCount(t), 0);
    if (est === 0) empty = true;
    if (hs.length === 1) drivers.push(eq('type', 'type_h', hs[0]!, est));
  }
  const single = (
    index: string,
    col: string,
    value: string | undefined,
    estimate?: (v: string) => number,
  ) => {
    if (value === undefined) return;
    const h = keyHash(value);
    where.push(`${col} = ?`);
    params.push(h);
    drivers.push(eq(index, col, h, estimate ? estimate(value) : probe(col, h)));
  };
  single('stream', 'stream_h', f.stream);
  single('tenant', 'tenant_h', f.tenant, (t) => ix.tenantCount(t));
  single('actor', 'actor_h', f.actor);
  single('correlation', 'corr_h', f.correlationId);
  single('causation', 'caus_h', f.causationId);
  if (f.streamPrefix !== undefined) {
    const names = ix.streamNames(f.streamPrefix, MAX_IN_LIST + 1);
    if (names.length === 0) empty = true;
    else if (names.length <= MAX_IN_LIST) {
      where.push(`stream_h IN (${names.map(() => '?').join(',')})`);
      params.push(...names.map(keyHash));
    }
  }
  if (f.tags) {
    for (const t of f.tags) {
      const h = keyHash(t);
      where.push(`seq IN (SELECT seq FROM tags WHERE tag_h = ?)`);
      params.push(h);
      const n = (
        ix.db
          .prepare(`SELECT count(*) AS n FROM (SELECT 1 FROM tags WHERE tag_h = ? LIMIT ${PROBE})`)
          .get(h) as { n: number }
      ).n;
      drivers.push({
        index: 'tag',
        estimate: n,
        from: `tags t JOIN events ON events.seq = t.seq`,
        where: [`t.tag_h = ?`],
        params: [h],
      });
    }
  }
  if (f.since !== undefined || f.until !== undefined) {
    const lo = f.since === undefined ? -8.64e15 : Date.parse(f.since);
    const hi = f.until === undefined ? 8.64e15 : Date.parse(f.until);
    where.push(`time >= ? AND time < ?`);
    params.push(lo, hi);
    const n = (
      ix.db
        .prepare(
          `SELECT count(*) AS n FROM (SELECT 1 FROM events INDEXED BY ev_time WHERE time >= ? AND time < ? LIMIT ${PROBE})`,
        )
        .get(lo, hi) as { n: number }
    ).n;
    drivers.push({
      index: 'time',
      estimate: n,
      from: `events INDEXED BY ev_time`,
      where: [`time >= ? AND time < ?`],
      params: [lo, hi],
    });
  }
  const seqRange = f.fromSeq !== undefined || f.toSeq !== undefined;
  const span = Math.max(0, Math.min(ix.lastIndexedSeq(), f.toSeq ?? Infinity) - (f.fromSeq ?? 1) + 1);
  drivers.push({
    index: seqRange ? 'seq-range' : 'scan',
    estimate: Math.min(span, ix.total),
    from: 'events',
    where: [],
    params: [],
  });
  return { where, params, drivers, empty };
}

/**
 * Answers a query from the sealed tier: picks the most selective driver, then reads chunks of
 * locations in seq order past the cursor, loading and checking each event until `limit` match.
 */
export function querySealed(
  ix: SqliteIndex,
  load: (loc: EventLocation) => StoredEvent,
  f: EventFilter,
  order: 'asc' | 'desc',
  limit: number,
  after: number | undefined,
): { events: StoredEvent[]; plan: QueryPlanInfo } {
  const c = buildConditions(ix, f);
  let best = c.drivers[0]!;
  for (const d of c.drivers) if (d.estimate < best.estimate) best = d;
  const out: StoredEvent[] = [];
  let scanned = 0;
  if (c.empty) return { events: out, plan: { index: best.index, estimate: 0, scanned } };
  const seqCol = best.from.startsWith('tags') ? 't.seq' : 'events.seq';
  const cmp = order === 'asc' ? '>' : '<';
  let cursor = after ?? (order === 'asc' ? 0 : Number.MAX_SAFE_INTEGER);
  const lo = f.fromSeq ?? 0;
  const hi = f.toSeq ?? Number.MAX_SAFE_INTEGER;
  const chunk = Math.min(Math.max(limit * 2, 64), 2000);
  const sql = `SELECT events.seq AS seq, seg, voff, len, crc FROM ${best.from}
    WHERE ${[...best.where, ...c.where.map((w) => w.replace(/\bseq IN/, 'events.seq IN')), `${seqCol} ${cmp} ?`, `${seqCol} >= ?`, `${seqCol} <= ?`].join(' AND ')}
    ORDER BY ${seqCol} ${order === 'asc' ? 'ASC' : 'DESC'} LIMIT ?`;
  const stmt = ix.db.prepare(sql);
  while (out.length < limit) {
    const rows = stmt.all(...best.params, ...c.params, cursor, lo, hi, chunk) as EventLocation[];
    for (const r of rows) {
      scanned++;
      cursor = r.seq;
      const e = load(r);
      if (matchesFilter(e, f)) {
        out.push(e);
        if (out.length === limit) break;
      }
    }
    if (rows.length < chunk) break;
  }
  return { events: out, plan: { index: best.index, estimate: best.estimate, scanned } };
}
