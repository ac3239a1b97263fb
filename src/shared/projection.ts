import type { JsonValue, StoredEvent } from './event';
import { ChronoscopeError } from './errors';
import { matchesPredicate, type JsonPredicate } from './query';

/**
 * A projection is a reducer over events (DESIGN §4). `apply` must return the next state without
 * mutating the one it is given (snapshots may share it); states must be JSON so snapshots can be
 * stored as text. `codeHash` identifies the code: snapshots made by other code are never used.
 */
export interface Projection<S = JsonValue> {
  name: string;
  scope: 'stream' | 'global';
  codeHash?: string;
  init(): S;
  apply(state: S, e: StoredEvent): S;
}

type JsonObject = { [key: string]: JsonValue };
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
/** Sets a key as an own data property, so `__proto__` in event data stays a plain key. */
function setKey(o: JsonObject, k: string, v: JsonValue): void {
  if (k === '__proto__')
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

/** Deep merge without mutating either side: objects merge recursively; arrays, scalars and null replace. */
export function deepMerge(a: JsonValue | undefined, b: JsonValue): JsonValue {
  if (!isObject(a) || !isObject(b)) return b;
  const out: JsonObject = {};
  for (const k of Object.keys(a)) setKey(out, k, a[k]!);
  for (const k of Object.keys(b)) setKey(out, k, deepMerge(own(a, k) ? a[k] : undefined, b[k]!));
  return out;
}

/**
 * The generic per-stream state: every key of every event's `data` deep-merged at the top level
 * (so `total < 0` reads the running total), plus bookkeeping under `$` keys, which win over data
 * keys of the same name: `$counts` (events per type), `$version`, `$lastSeq`, `$lastType`,
 * `$lastTime`. Data that is not an object is kept whole under `$data`.
 */
export type StreamState = JsonObject & {
  $counts: Record<string, number>;
  $version: number;
  $lastSeq: number;
  $lastType: string | null;
  $lastTime: string | null;
};

/** Built-in per-stream reducer: what the state of an aggregate "looks like" without user code. */
export const streamReducer: Projection<StreamState> = {
  name: 'generic-stream',
  scope: 'stream',
  codeHash: 'builtin:generic-stream@1',
  init: () => ({ $counts: {}, $version: 0, $lastSeq: 0, $lastType: null, $lastTime: null }),
  apply(state, e) {
    const merged = (isObject(e.data) ? deepMerge(state, e.data) : { ...state, $data: e.data }) as JsonObject;
    const counts = { ...state.$counts };
    setKey(counts, e.type, (own(counts, e.type) ? counts[e.type]! : 0) + 1);
    return Object.assign(merged, {
      $counts: counts,
      $version: e.version,
      $lastSeq: e.seq,
      $lastType: e.type,
      $lastTime: e.time,
    });
  },
};

/**
 * The generic global state, bounded in size whatever the log's length (no per-stream entries):
 * event count, counts per type and per tenant, streams started (events with version 1), streams
 * live (started minus events whose type looks terminal — a heuristic: `…Cancelled`, `…Completed`,
 * `…Closed`, `…Deleted`, `…Archived`, `…Abandoned`, `…Ended`), first/last seq and time.
 */
export interface GlobalState {
  events: number;
  counts: Record<string, number>;
  tenants: Record<string, number>;
  streams: number;
  liveStreams: number;
  firstSeq: number | null;
  lastSeq: number | null;
  firstTime: string | null;
  lastTime: string | null;
}

const TERMINAL = /(Cancelled|Canceled|Completed|Closed|Deleted|Archived|Abandoned|Ended)$/;
const bump = (m: Record<string, number>, k: string) => {
  const out = { ...m };
  setKey(out, k, (own(m, k) ? m[k]! : 0) + 1);
  return out;
};

/** Built-in global reducer: the whole system's shape at a position, in constant space. */
export const globalReducer: Projection<GlobalState> = {
  name: 'generic-global',
  scope: 'global',
  codeHash: 'builtin:generic-global@1',
  init: () => ({
    events: 0,
    counts: {},
    tenants: {},
    streams: 0,
    liveStreams: 0,
    firstSeq: null,
    lastSeq: null,
    firstTime: null,
    lastTime: null,
  }),
  apply(s, e) {
    const started = e.version === 1 ? 1 : 0;
    const ended = TERMINAL.test(e.type) ? 1 : 0;
    return {
      events: s.events + 1,
      counts: bump(s.counts, e.type),
      tenants: bump(s.tenants, e.tenant),
      streams: s.streams + started,
      liveStreams: Math.max(0, s.liveStreams + started - ended),
      firstSeq: s.firstSeq ?? e.seq,
      lastSeq: e.seq,
      firstTime: s.firstTime ?? e.time,
      lastTime: e.time,
    };
  },
};

/** One difference between two JSON values, at a path of object keys and array indices. */
export interface DiffEntry {
  path: string[];
  kind: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

/** Structural diff: recurses into objects and arrays (index by index); other differences are `changed`. */
export function diffJson(a: unknown, b: unknown, path: string[] = [], out: DiffEntry[] = []): DiffEntry[] {
  if (a === b) return out;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const p = [...path, String(i)];
      if (i >= b.length) out.push({ path: p, kind: 'removed', before: a[i] });
      else if (i >= a.length) out.push({ path: p, kind: 'added', after: b[i] });
      else diffJson(a[i], b[i], p, out);
    }
  } else if (isObject(a) && isObject(b)) {
    for (const k of Object.keys(a)) {
      if (!own(b, k)) out.push({ path: [...path, k], kind: 'removed', before: a[k] });
      else diffJson(a[k], b[k], [...path, k], out);
    }
    for (const k of Object.keys(b))
      if (!own(a, k)) out.push({ path: [...path, k], kind: 'added', after: b[k] });
  } else if (!(typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b))) {
    out.push({ path, kind: 'changed', before: a, after: b });
  }
  return out;
}

const COLOUR = { added: '\x1b[32m', removed: '\x1b[31m', changed: '\x1b[33m', reset: '\x1b[0m' };
const SIGN = { added: '+', removed: '-', changed: '~' };
const show = (v: unknown) => {
  const s = JSON.stringify(v) ?? 'undefined';
  return s.length > 120 ? `${s.slice(0, 119)}…` : s;
};

/** Renders a diff as an indented tree (shared parents printed once); ANSI colours only when asked. */
export function renderDiff(entries: DiffEntry[], options: { color?: boolean } = {}): string {
  if (entries.length === 0) return '(no differences)';
  const lines: string[] = [];
  let printed: string[] = [];
  for (const d of entries) {
    const parents = d.path.slice(0, -1);
    let common = 0;
    while (common < parents.length && common < printed.length && parents[common] === printed[common])
      common++;
    for (let i = common; i < parents.length; i++) lines.push(`${'  '.repeat(i)}  ${parents[i]}:`);
    printed = parents;
    const key = d.path.length ? d.path[d.path.length - 1] : '(root)';
    const value =
      d.kind === 'changed'
        ? `${show(d.before)} → ${show(d.after)}`
        : show(d.kind === 'added' ? d.after : d.before);
    const text = `${'  '.repeat(parents.length)}${SIGN[d.kind]} ${key}: ${value}`;
    lines.push(options.color ? `${COLOUR[d.kind]}${text}${COLOUR.reset}` : text);
  }
  return lines.join('\n');
}

/** A parsed condition on a state; `test` is what bisect calls at each probe. */
export interface StatePredicate {
  source: string;
  clauses: JsonPredicate[];
  test(state: unknown): boolean;
}

const OPS: [string, JsonPredicate['op']][] = [
  ['==', 'eq'],
  ['!=', 'ne'],
  ['>=', 'gte'],
  ['<=', 'lte'],
  ['^=', 'prefix'],
  ['=', 'eq'],
  ['>', 'gt'],
  ['<', 'lt'],
  ['~', 'contains'],
];
const bad = (expr: string, why: string): never => {
  throw new ChronoscopeError('INVALID_ARGUMENT', `predicate "${expr}": ${why}`, { field: 'where' });
};
const PATH = /^\$?[\w-]+(\.[\w$-]+)*$/;

function parseValue(expr: string, raw: string): unknown {
  if (raw === '') return bad(expr, 'missing a value after the operator');
  try {
    return JSON.parse(raw);
  } catch {
    if (/^[A-Za-z_][\w.-]*$/.test(raw)) return raw; // a bare word is a string: status == paid
    return bad(expr, `value ${raw} is not JSON (quote strings: "${raw.replace(/"/g, '')}")`);
  }
}

function parseClause(expr: string, c: string): JsonPredicate {
  const fn = /^(!?)(exists|missing)\s*\(\s*([^)]*?)\s*\)$/.exec(c);
  if (fn) {
    if (!PATH.test(fn[3]!)) bad(expr, `"${fn[3]}" is not a path like total or items.0.qty`);
    const exists = (fn[2] === 'exists') !== (fn[1] === '!');
    return { path: fn[3]!, op: exists ? 'exists' : 'missing' };
  }
  const inMatch = /^([^\s=!<>^~]+)\s+in\s+(.*)$/.exec(c);
  let path: string;
  let op: JsonPredicate['op'];
  let raw: string;
  if (inMatch) {
    [path, op, raw] = [inMatch[1]!.trim(), 'in', inMatch[2]!.trim()];
  } else {
    const m = /^([^=!<>^~\s]+)\s*(==|!=|>=|<=|\^=|=|>|<|~)\s*(.*)$/.exec(c);
    if (!m) {
      const op = OPS.find(([sym]) => c.includes(sym));
      if (op && c.trim().startsWith(op[0])) return bad(expr, `missing a path before "${op[0]}"`);
      return bad(expr, `expected "path OP value" (OP: == != < <= > >= ^= ~ in) or exists(path)`);
    }
    [path, op, raw] = [m[1]!, OPS.find(([sym]) => sym === m[2])![1], m[3]!.trim()];
  }
  if (!PATH.test(path)) bad(expr, `"${path}" is not a path like total or items.0.qty`);
  const value = parseValue(expr, raw);
  if (op === 'in' && !Array.isArray(value)) bad(expr, `"in" needs a JSON array, e.g. ["paid","shipped"]`);
  return { path, op, value };
}

/**
 * Parses a JSON-path condition on a state: `total < 0`, `status == "paid"`, `items.0.qty >= 2`,
 * `$counts.RefundIssued > 1`, `exists(coupon)`, `!exists(coupon)`, `status in ["a","b"]`, joined
 * by `&&`. Semantics are matchesPredicate's (ordering compares numbers with numbers, strings with
 * strings). Arbitrary JS expressions need a sandbox and arrive with the worker-based slice.
 */
export function parseStatePredicate(expr: string): StatePredicate {
  const src = expr.trim();
  if (!src) bad(expr, 'empty');
  // Split on && outside double-quoted strings.
  const clauses = src.split(/&&(?=(?:[^"]*"[^"]*")*[^"]*$)/).map((c) => {
    if (!c.trim()) bad(expr, 'empty condition around "&&"');
    return parseClause(expr, c.trim());
  });
  return {
    source: src,
    clauses,
    // matchesPredicate reads only `data`, so the state stands in as an event's data.
    test: (state) =>
      clauses.every((p) =>
        matchesPredicate({ data: state as JsonValue } as StoredEvent, { ...p, on: 'data' }),
      ),
  };
}
