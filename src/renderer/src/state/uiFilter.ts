import { JSON_OPS, type EventFilter, type JsonOp, type JsonPredicate } from '@shared/query';

/** The filter bar's fields as the user typed them; also exactly what the URL query string holds. */
export interface UiFilter {
  type: string;
  stream: string;
  tenant: string;
  actor: string;
  correlation: string;
  tag: string;
  since: string;
  until: string;
  where: string;
  q: string;
}

export const UI_FILTER_KEYS: (keyof UiFilter)[] = [
  'type',
  'stream',
  'tenant',
  'actor',
  'correlation',
  'tag',
  'since',
  'until',
  'where',
  'q',
];

export const EMPTY_FILTER: UiFilter = {
  type: '',
  stream: '',
  tenant: '',
  actor: '',
  correlation: '',
  tag: '',
  since: '',
  until: '',
  where: '',
  q: '',
};

/** The filter lives in the URL (DESIGN §6): reload, back and a shared link all show the same view. */
export function filterFromSearch(search: string): UiFilter {
  const p = new URLSearchParams(search);
  const f = { ...EMPTY_FILTER };
  for (const k of UI_FILTER_KEYS) f[k] = p.get(k) ?? '';
  return f;
}

export function searchFromFilter(f: UiFilter): string {
  const p = new URLSearchParams();
  for (const k of UI_FILTER_KEYS) if (f[k].trim() !== '') p.set(k, f[k].trim());
  const s = p.toString();
  return s ? `?${s}` : '';
}

const SYMBOLS: Record<string, JsonOp> = {
  '=': 'eq',
  '==': 'eq',
  '!=': 'ne',
  '>': 'gt',
  '>=': 'gte',
  '<': 'lt',
  '<=': 'lte',
};

/** Parses `path op value` (e.g. `total gt 100`, `status = "paid"`, `coupon exists`); value is JSON or a bare word. */
export function parseWhere(text: string): JsonPredicate {
  const m = /^\s*(?:(data|meta):)?(\S+)\s+(\S+)(?:\s+([\s\S]+))?$/.exec(text);
  if (!m) throw new Error('JSON predicate: write it as "path op value", e.g. total gt 100');
  const [, on, path, rawOp, rawValue] = m;
  const op = (SYMBOLS[rawOp!] ?? rawOp!.toLowerCase()) as JsonOp;
  if (!JSON_OPS.includes(op))
    throw new Error(`JSON predicate: unknown operator "${rawOp}" (use ${JSON_OPS.join(', ')})`);
  const needsValue = op !== 'exists' && op !== 'missing';
  if (needsValue && rawValue === undefined) throw new Error(`JSON predicate: "${op}" needs a value`);
  const pred: JsonPredicate = { on: (on as 'data' | 'meta' | undefined) ?? 'data', path: path!, op };
  if (needsValue) {
    try {
      pred.value = JSON.parse(rawValue!);
    } catch {
      pred.value = rawValue!.trim();
    }
  }
  return pred;
}

/** `datetime-local` values carry no zone; the list shows UTC, so they are read as UTC too. */
function asUtc(s: string): string {
  const t = s.trim();
  return /(Z|[+-]\d\d:?\d\d)$/i.test(t) ? t : `${t}Z`;
}

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** The engine filter for the bar's fields; throws a readable Error for a field it cannot read. */
export function toEngineFilter(f: UiFilter): EventFilter {
  const out: EventFilter = {};
  if (f.type.trim()) out.types = list(f.type);
  const stream = f.stream.trim();
  if (stream.endsWith('*') && stream.length > 1) out.streamPrefix = stream.slice(0, -1);
  else if (stream) out.stream = stream;
  if (f.tenant.trim()) out.tenant = f.tenant.trim();
  if (f.actor.trim()) out.actor = f.actor.trim();
  if (f.correlation.trim()) out.correlationId = f.correlation.trim();
  if (f.tag.trim()) out.tags = list(f.tag);
  for (const k of ['since', 'until'] as const) {
    if (!f[k].trim()) continue;
    const v = asUtc(f[k]);
    if (Number.isNaN(Date.parse(v))) throw new Error(`${k}: "${f[k]}" is not a date-time`);
    out[k] = v;
  }
  if (f.where.trim()) out.where = [parseWhere(f.where)];
  if (f.q.trim()) out.search = f.q.trim();
  return out;
}

export function isEmptyFilter(f: EventFilter): boolean {
  return Object.keys(f).length === 0;
}
