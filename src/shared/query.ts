import { z } from 'zod';
import type { JsonValue, StoredEvent } from './event';
import { ChronoscopeError } from './errors';

/** Operators of a JSON predicate on `data` or `meta`. */
export const JSON_OPS = [
  'eq',
  'ne',
  'gt',
  'gte',
  'lt',
  'lte',
  'exists',
  'missing',
  'contains',
  'prefix',
  'in',
] as const;
export type JsonOp = (typeof JSON_OPS)[number];

export const jsonPredicateSchema = z
  .object({
    on: z.enum(['data', 'meta']).default('data'),
    path: z.string().max(1024),
    op: z.enum(JSON_OPS),
    value: z.unknown().optional(),
  })
  .strict();
export type JsonPredicate = z.input<typeof jsonPredicateSchema>;

const seqSchema = z.number().int().min(0);
const timeSchema = z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: 'must be a date-time' });

/** A filter: every given field must match (AND); list fields match any of their values unless noted. */
export const eventFilterSchema = z
  .object({
    types: z.array(z.string().min(1)).max(1000).optional(),
    stream: z.string().min(1).optional(),
    streamPrefix: z.string().min(1).optional(),
    tenant: z.string().min(1).optional(),
    actor: z.string().min(1).optional(),
    correlationId: z.string().min(1).optional(),
    causationId: z.string().min(1).optional(),
    /** The event must carry every one of these tags. */
    tags: z.array(z.string().min(1)).max(64).optional(),
    /** Inclusive lower bound on `time`. */
    since: timeSchema.optional(),
    /** Exclusive upper bound on `time`. */
    until: timeSchema.optional(),
    /** Inclusive seq bounds. */
    fromSeq: seqSchema.optional(),
    toSeq: seqSchema.optional(),
    where: z.array(jsonPredicateSchema).max(32).optional(),
    /** Case-insensitive text, matched against every string and number inside `data`. */
    search: z.string().min(1).max(1000).optional(),
  })
  .strict();
export type EventFilter = z.input<typeof eventFilterSchema>;

export const queryOptionsSchema = z
  .object({
    order: z.enum(['asc', 'desc']).default('asc'),
    limit: z.number().int().min(1).max(10_000).default(100),
    cursor: z.string().max(100).optional(),
  })
  .strict();
export type QueryOptions = z.input<typeof queryOptionsSchema>;

/** Which index answered a query and how many candidates it visited: shown to users and in metrics. */
export interface QueryPlanInfo {
  index: string;
  estimate: number;
  scanned: number;
}

export interface QueryPage {
  events: StoredEvent[];
  /** Present when more results may follow; pass it back as `cursor`. */
  nextCursor?: string;
  plan: QueryPlanInfo;
}

/** Validates a filter, turning zod's complaint into INVALID_ARGUMENT naming the field. */
export function parseFilter(f: unknown): EventFilter {
  return parseOrThrow(eventFilterSchema, f ?? {}, 'filter');
}
export function parseQueryOptions(o: unknown): z.output<typeof queryOptionsSchema> {
  return parseOrThrow(queryOptionsSchema, o ?? {}, 'options');
}

export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = [what, ...issue.path].join('.');
  throw new ChronoscopeError('INVALID_ARGUMENT', `${field}: ${issue.message}`, { field });
}

/** Cursors are opaque to callers; inside they are the last seq returned and the order. */
export function encodeCursor(seq: number, order: 'asc' | 'desc'): string {
  return `${order === 'asc' ? 'a' : 'd'}${seq.toString(36)}`;
}
export function decodeCursor(cursor: string, order: 'asc' | 'desc'): number {
  const dir = cursor[0];
  const seq = parseInt(cursor.slice(1), 36);
  if (
    (dir !== 'a' && dir !== 'd') ||
    !Number.isSafeInteger(seq) ||
    seq < 0 ||
    !/^[0-9a-z]+$/.test(cursor.slice(1))
  ) {
    throw new ChronoscopeError('INVALID_ARGUMENT', 'options.cursor: not a cursor returned by query', {
      field: 'options.cursor',
    });
  }
  if ((dir === 'a') !== (order === 'asc')) {
    throw new ChronoscopeError('INVALID_ARGUMENT', 'options.cursor: cursor was made for the other order', {
      field: 'options.cursor',
    });
  }
  return seq;
}

/** Reads a dotted path (`items.0.price`) with own properties only, so `__proto__` is just a key. */
export function getPath(root: unknown, path: string): { found: boolean; value?: unknown } {
  if (path === '' || path === '$') return { found: true, value: root };
  let cur: unknown = root;
  for (const part of path.replace(/^\$\./, '').split('.')) {
    if (cur === null || typeof cur !== 'object') return { found: false };
    if (!Object.prototype.hasOwnProperty.call(cur, part)) return { found: false };
    cur = (cur as Record<string, unknown>)[part];
  }
  return { found: true, value: cur };
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every(
    (k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual((a as never)[k], (b as never)[k]),
  );
}

function compare(a: unknown, b: unknown): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

/** The meaning of one JSON predicate. Ordering operators compare only numbers with numbers and strings with strings. */
export function matchesPredicate(e: StoredEvent, p: JsonPredicate): boolean {
  const root = (p.on ?? 'data') === 'meta' ? e.meta : e.data;
  const { found, value } = getPath(root, p.path);
  switch (p.op) {
    case 'exists':
      return found;
    case 'missing':
      return !found;
    case 'eq':
      return found && jsonEqual(value, p.value);
    case 'ne':
      return !found || !jsonEqual(value, p.value);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      if (!found) return false;
      const c = compare(value, p.value);
      if (c === undefined) return false;
      return p.op === 'gt' ? c > 0 : p.op === 'gte' ? c >= 0 : p.op === 'lt' ? c < 0 : c <= 0;
    }
    case 'contains':
      if (!found) return false;
      if (typeof value === 'string' && typeof p.value === 'string') return value.includes(p.value);
      if (Array.isArray(value)) return value.some((x) => jsonEqual(x, p.value));
      return false;
    case 'prefix':
      return found && typeof value === 'string' && typeof p.value === 'string' && value.startsWith(p.value);
    case 'in':
      return found && Array.isArray(p.value) && p.value.some((x) => jsonEqual(x, value));
  }
}

/** True if any string or number inside `v` contains `needle` (already lower-cased). */
export function containsText(v: JsonValue | undefined, needle: string): boolean {
  if (v === null || v === undefined || typeof v === 'boolean') return false;
  if (typeof v === 'string') return v.toLowerCase().includes(needle);
  if (typeof v === 'number') return String(v).includes(needle);
  if (Array.isArray(v)) return v.some((x) => containsText(x, needle));
  for (const k in v)
    if (Object.prototype.hasOwnProperty.call(v, k) && containsText(v[k], needle)) return true;
  return false;
}

/**
 * THE definition of what a filter means. Every backend's index path must return exactly the
 * events for which this returns true (the oracle property tests check it).
 */
export function matchesFilter(e: StoredEvent, f: EventFilter): boolean {
  if (f.types && f.types.length > 0 && !f.types.includes(e.type)) return false;
  if (f.stream !== undefined && e.stream !== f.stream) return false;
  if (f.streamPrefix !== undefined && !e.stream.startsWith(f.streamPrefix)) return false;
  if (f.tenant !== undefined && e.tenant !== f.tenant) return false;
  if (f.actor !== undefined && e.actor !== f.actor) return false;
  if (f.correlationId !== undefined && e.correlationId !== f.correlationId) return false;
  if (f.causationId !== undefined && e.causationId !== f.causationId) return false;
  if (f.tags && f.tags.length > 0 && !f.tags.every((t) => e.tags?.includes(t))) return false;
  if (f.since !== undefined && Date.parse(e.time) < Date.parse(f.since)) return false;
  if (f.until !== undefined && Date.parse(e.time) >= Date.parse(f.until)) return false;
  if (f.fromSeq !== undefined && e.seq < f.fromSeq) return false;
  if (f.toSeq !== undefined && e.seq > f.toSeq) return false;
  if (f.where) for (const p of f.where) if (!matchesPredicate(e, p)) return false;
  if (f.search !== undefined && !containsText(e.data, f.search.toLowerCase())) return false;
  return true;
}
