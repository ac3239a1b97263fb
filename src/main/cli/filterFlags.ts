import type { JsonPredicate, EventFilter } from '../../shared/query';
import { ChronoscopeError } from '../../shared/errors';

const OPS: [string, JsonPredicate['op']][] = [
  ['>=', 'gte'],
  ['<=', 'lte'],
  ['!=', 'ne'],
  ['^=', 'prefix'],
  ['~', 'contains'],
  ['=', 'eq'],
  ['>', 'gt'],
  ['<', 'lt'],
];

function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/**
 * Parses `--where` expressions: `path=value`, `!=`, `>`, `>=`, `<`, `<=`, `~` (contains), `^=`
 * (prefix), `path?` (exists), `!path?` (missing), `path in [a,b]`. Paths start at `data` unless they
 * begin with `meta.`; values are JSON when they parse as JSON, else strings.
 */
export function parseWhere(expr: string): JsonPredicate {
  const target = (path: string): { on: 'data' | 'meta'; path: string } => {
    const p = path.trim();
    if (p.startsWith('meta.')) return { on: 'meta', path: p.slice(5) };
    return { on: 'data', path: p.startsWith('data.') ? p.slice(5) : p };
  };
  const t = expr.trim();
  if (t.startsWith('!') && t.endsWith('?')) return { ...target(t.slice(1, -1)), op: 'missing' };
  if (t.endsWith('?')) return { ...target(t.slice(0, -1)), op: 'exists' };
  const inMatch = /^(.+?)\s+in\s+(\[.*\])$/.exec(t);
  if (inMatch) return { ...target(inMatch[1]!), op: 'in', value: parseValue(inMatch[2]!) };
  let best: { at: number; sym: string; op: JsonPredicate['op'] } | undefined;
  for (const [sym, op] of OPS) {
    const at = t.indexOf(sym);
    if (at > 0 && (!best || at < best.at || (at === best.at && sym.length > best.sym.length)))
      best = { at, sym, op };
  }
  if (!best)
    throw new ChronoscopeError(
      'INVALID_ARGUMENT',
      `--where "${expr}": expected path=value (or != > >= < <= ~ ^= ?)`,
      { field: 'where' },
    );
  return {
    ...target(t.slice(0, best.at)),
    op: best.op,
    value: parseValue(t.slice(best.at + best.sym.length).trim()),
  };
}

/** Accepts ISO times and relative ones (`90s`, `15m`, `2h`, `3d`, `1w` ago), so `--since 2h` reads naturally. */
export function parseTimeFlag(v: string, flag: string, now = Date.now()): string {
  const rel = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/.exec(v.trim());
  if (rel) {
    const unit = { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 }[rel[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return new Date(now - Number(rel[1]) * unit).toISOString();
  }
  const t = Date.parse(v);
  if (Number.isNaN(t))
    throw new ChronoscopeError(
      'INVALID_ARGUMENT',
      `${flag} "${v}": expected an ISO time or a duration like 2h, 3d`,
      { field: flag },
    );
  return new Date(t).toISOString();
}

export interface FilterFlags {
  type?: string[];
  stream?: string;
  streamPrefix?: string;
  tenant?: string;
  actor?: string;
  correlation?: string;
  causation?: string;
  tag?: string[];
  since?: string;
  until?: string;
  fromSeq?: string;
  toSeq?: string;
  where?: string[];
  search?: string;
}

function seqFlag(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new ChronoscopeError('INVALID_ARGUMENT', `${flag} "${v}": expected a seq (integer ≥ 0)`);
  return n;
}

/** Turns the CLI's filter flags into an EventFilter (the engine validates it again). */
export function filterFromFlags(o: FilterFlags): EventFilter {
  const f: EventFilter = {};
  if (o.type?.length) f.types = o.type.flatMap((t) => t.split(',')).filter(Boolean);
  if (o.stream !== undefined) {
    if (o.stream.endsWith('*')) f.streamPrefix = o.stream.slice(0, -1);
    else f.stream = o.stream;
  }
  if (o.streamPrefix !== undefined) f.streamPrefix = o.streamPrefix;
  if (o.tenant !== undefined) f.tenant = o.tenant;
  if (o.actor !== undefined) f.actor = o.actor;
  if (o.correlation !== undefined) f.correlationId = o.correlation;
  if (o.causation !== undefined) f.causationId = o.causation;
  if (o.tag?.length) f.tags = o.tag;
  if (o.since !== undefined) f.since = parseTimeFlag(o.since, '--since');
  if (o.until !== undefined) f.until = parseTimeFlag(o.until, '--until');
  const from = seqFlag(o.fromSeq, '--from-seq');
  const to = seqFlag(o.toSeq, '--to-seq');
  if (from !== undefined) f.fromSeq = from;
  if (to !== undefined) f.toSeq = to;
  if (o.where?.length) f.where = o.where.map(parseWhere);
  if (o.search !== undefined) f.search = o.search;
  return f;
}
