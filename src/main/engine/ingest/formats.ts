import { z } from 'zod';
import { ChronoscopeError } from '../../../shared/errors';
import { digits, type EventInput } from '../../../shared/event';

/** The foreign shapes an import can read (DESIGN §2); 'mapping' needs a user field mapping. */
export const IMPORT_FORMATS = ['native', 'cloudevents', 'snake', 'camel', 'mapping'] as const;
/** One of IMPORT_FORMATS: what detection returns and what the user may force. */
export type ImportFormat = (typeof IMPORT_FORMATS)[number];
/** One parsed JSON object of a line. */
export type JsonRecord = Record<string, unknown>;
/** Turns one record into an envelope input; throws INVALID_EVENT naming the field it could not map. */
export type Mapper = (record: JsonRecord) => EventInput;

/** Throws the INVALID_EVENT every mapper uses, so a quarantine reason always names the field. */
export function mapFail(field: string, why: string): never {
  throw new ChronoscopeError('INVALID_EVENT', `field ${field}: ${why}`, { field });
}

/** A non-empty string, or a finite number / bigint as text (ids are often numeric); else undefined. */
export function asText(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length > 0 ? v : undefined;
  if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'bigint') return String(v);
  return undefined;
}

/** An optional text field: absent, null or "" mean absent; an object, array or boolean is refused, never dropped. */
function optText(rec: JsonRecord, key: string): string | undefined {
  const v = rec[key];
  if (v === undefined || v === null || v === '') return undefined;
  return (
    asText(v) ?? mapFail(key, `must be a non-empty string, not ${Array.isArray(v) ? 'an array' : typeof v}`)
  );
}

function need(rec: JsonRecord, key: string, target: string): string {
  const v = asText(rec[key]);
  if (v === undefined)
    mapFail(
      key === target ? key : `${key} (→ ${target})`,
      rec[key] === undefined ? 'missing' : 'must be a non-empty string',
    );
  return v;
}

function isObject(v: unknown): v is JsonRecord {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Database exports often hold JSON columns as text: parse a string that looks like an object or array. */
function jsonish(v: unknown): unknown {
  if (typeof v !== 'string' || (v[0] !== '{' && v[0] !== '[')) return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

const CANONICAL_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ZONED_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;
const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** Field ranges of a canonical time, checked without building a Date (this runs once per imported line). */
function isRealDateTime(s: string): boolean {
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const sec = digits(s, 17, 2);
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return (
    mo >= 1 &&
    mo <= 12 &&
    d >= 1 &&
    d <= (mo === 2 && !leap ? 28 : DAYS[mo - 1]!) &&
    h < 24 &&
    mi < 60 &&
    sec < 60
  );
}

/**
 * Canonical ISO time from what logs carry: ISO-8601 / RFC 3339, SQL style (`2024-05-01 12:00:00+00`),
 * a zone-less time (read as UTC), a bare date (midnight UTC), or epoch numbers or digit strings —
 * milliseconds, or seconds when |n| < 1e11 (1e11 ms is 1973, 1e11 s is year 5138).
 */
export function toIsoTime(v: unknown, field = 'time'): string {
  if (typeof v === 'string' && CANONICAL_RE.test(v) && isRealDateTime(v)) return v; // the usual case
  let ms: number;
  if (typeof v === 'number' || (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim()))) {
    const n = Number(v);
    ms = Math.abs(n) < 1e11 ? n * 1000 : n;
  } else if (typeof v === 'string') {
    const m = ZONED_RE.exec(v.trim());
    if (!m) mapFail(field, `${JSON.stringify(v.slice(0, 60))} is not an ISO-8601 time or epoch number`);
    const [, y, mo, d, clock, zone] = m;
    if (new Date(Date.UTC(+y!, +mo! - 1, +d!)).getUTCDate() !== +d!)
      mapFail(field, `${y}-${mo}-${d} is not a date`);
    const z =
      !zone || zone === 'z' ? 'Z' : zone.length === 3 ? `${zone}:00` : zone.replace(/(\d\d)(\d\d)$/, '$1:$2');
    ms = Date.parse(`${y}-${mo}-${d}T${(clock ?? '00:00').replace(',', '.')}${z}`);
  } else {
    return mapFail(field, v === undefined ? 'missing' : `a ${v === null ? 'null' : typeof v} is not a time`);
  }
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  if (Number.isNaN(d.getTime()) || year < 0 || year > 9999)
    mapFail(field, `${JSON.stringify(v)} is out of range`);
  return d.toISOString();
}

/** `${entity}-${id}` (DESIGN's `Order-17`), unless the id already starts with the entity name. */
export function qualifyStream(entity: string, id: string): string {
  const e = entity.toLowerCase();
  const sep = id.charAt(entity.length);
  if (id.length > entity.length && id.slice(0, entity.length).toLowerCase() === e && '-:_/.'.includes(sep))
    return id;
  return `${entity}-${id}`;
}

/** Unknown top-level keys are kept in meta under `extra` (`_extra`, … if taken), never dropped. */
function withExtras(meta: unknown, rec: JsonRecord, known: ReadonlySet<string>): unknown {
  let extras: JsonRecord | undefined;
  // A null-prototype object, so a "__proto__" key is kept as a key instead of replacing the prototype.
  for (const k of Object.keys(rec))
    if (!known.has(k)) (extras ??= Object.create(null) as JsonRecord)[k] = rec[k];
  if (!extras) return meta;
  if (meta !== undefined && !isObject(meta)) return meta; // invalid meta: normaliseEvent names it
  let key = 'extra';
  while (meta && key in meta) key = `_${key}`;
  return { ...meta, [key]: extras };
}

function set<K extends keyof EventInput>(out: EventInput, key: K, v: EventInput[K] | undefined): void {
  if (v !== undefined) out[key] = v;
}

const NATIVE_ALL = new Set(
  'id stream type time tenant actor correlationId causationId tags schemaVersion data meta seq version recordedAt'.split(
    ' ',
  ),
);
/**
 * The Chronoscope envelope from another store: seq, version and recordedAt belong to the store that
 * wrote them and are dropped (this store assigns its own); unknown keys go to meta.extra.
 */
export function mapNative(rec: JsonRecord): EventInput {
  const out: EventInput = { stream: need(rec, 'stream', 'stream'), type: need(rec, 'type', 'type') };
  set(out, 'id', optText(rec, 'id'));
  if (rec.time !== undefined) out.time = toIsoTime(rec.time);
  for (const k of ['tenant', 'actor', 'correlationId', 'causationId'] as const) set(out, k, optText(rec, k));
  set(out, 'tags', rec.tags as string[] | undefined);
  set(out, 'schemaVersion', rec.schemaVersion as number | undefined);
  set(out, 'data', rec.data);
  set(out, 'meta', withExtras(rec.meta, rec, NATIVE_ALL) as EventInput['meta']);
  return out;
}

const CE_ATTRS = new Set([
  'specversion',
  'id',
  'source',
  'type',
  'subject',
  'time',
  'datacontenttype',
  'dataschema',
]);
const CE_MAPPED_EXT: Record<string, 'correlationId' | 'causationId' | 'actor' | 'tenant'> = {
  correlationid: 'correlationId',
  causationid: 'causationId',
  actor: 'actor',
  tenant: 'tenant',
};
/**
 * CloudEvents 1.0 structured JSON: stream = subject ?? source; source, specversion, datacontenttype,
 * dataschema and extensions go to meta; data_base64 becomes data `{ base64 }`; the extensions
 * correlationid / causationid / actor / tenant fill those fields, and traceparent's trace id is the
 * correlationId when correlationid is absent (traceparent itself stays in meta).
 */
export function mapCloudEvent(rec: JsonRecord): EventInput {
  const specversion = need(rec, 'specversion', 'meta.specversion');
  if (!specversion.startsWith('1.')) mapFail('specversion', `${specversion} is not CloudEvents 1.x`);
  const source = need(rec, 'source', 'meta.source');
  const out: EventInput = {
    id: need(rec, 'id', 'id'),
    stream: asText(rec.subject) ?? source,
    type: need(rec, 'type', 'type'),
  };
  if (rec.time !== undefined) out.time = toIsoTime(rec.time);
  // Null-prototype objects: extension names are foreign keys ("__proto__" must stay a key).
  const meta: JsonRecord = Object.assign(Object.create(null) as JsonRecord, { specversion, source });
  for (const k of ['datacontenttype', 'dataschema']) if (rec[k] !== undefined) meta[k] = rec[k];
  const ext: JsonRecord = Object.assign(
    Object.create(null) as JsonRecord,
    isObject(rec.extensions) ? rec.extensions : {},
  );
  for (const k of Object.keys(rec)) {
    if (!CE_ATTRS.has(k) && k !== 'data' && k !== 'data_base64' && k !== 'extensions') ext[k] = rec[k];
  }
  for (const [k, v] of Object.entries(ext)) {
    const target = Object.hasOwn(CE_MAPPED_EXT, k) ? CE_MAPPED_EXT[k] : undefined; // not "constructor"
    if (target && asText(v) !== undefined) out[target] = asText(v);
    else meta[k] = v;
  }
  if (out.correlationId === undefined && typeof ext.traceparent === 'string') {
    const traceId = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}/.exec(ext.traceparent)?.[1];
    set(out, 'correlationId', traceId);
  }
  if (rec.data !== undefined) out.data = rec.data;
  else if (rec.data_base64 !== undefined) out.data = { base64: rec.data_base64 };
  out.meta = meta;
  return out;
}

const SNAKE_KEYS = new Set(
  'event_id aggregate_id aggregate_type event_type aggregate_version event_data metadata created_at tenant_id actor_id user_id correlation_id causation_id'.split(
    ' ',
  ),
);
/** First usable text among keys of the record, then of its metadata: tracing ids often live in either. */
function pick(rec: JsonRecord, md: unknown, keys: string[]): string | undefined {
  for (const k of keys) if (asText(rec[k]) !== undefined) return asText(rec[k]);
  if (isObject(md)) for (const k of keys) if (asText(md[k]) !== undefined) return asText(md[k]);
  return undefined;
}

/** Metadata as meta: objects as they are; anything else wrapped so it is kept. */
function metaOf(md: unknown): JsonRecord | undefined {
  if (md === undefined || md === null) return undefined;
  return isObject(md) ? { ...md } : { metadata: md };
}

/**
 * The common snake_case row: stream = `${aggregate_type}-${aggregate_id}` (or aggregate_id alone);
 * aggregate_version is kept as meta.aggregateVersion because this store assigns its own versions.
 */
export function mapSnake(rec: JsonRecord): EventInput {
  const aggregateId = need(rec, 'aggregate_id', 'stream');
  const aggregateType = asText(rec.aggregate_type);
  const out: EventInput = {
    stream: aggregateType ? qualifyStream(aggregateType, aggregateId) : aggregateId,
    type: need(rec, 'event_type', 'type'),
  };
  const md = jsonish(rec.metadata);
  set(out, 'id', asText(rec.event_id));
  if (rec.created_at !== undefined) out.time = toIsoTime(rec.created_at, 'created_at (→ time)');
  set(out, 'tenant', pick(rec, md, ['tenant_id']));
  set(out, 'actor', pick(rec, md, ['actor_id', 'user_id']));
  set(out, 'correlationId', pick(rec, md, ['correlation_id']));
  set(out, 'causationId', pick(rec, md, ['causation_id']));
  set(out, 'data', jsonish(rec.event_data));
  let meta = metaOf(md);
  if (rec.aggregate_version !== undefined) meta = { ...meta, aggregateVersion: rec.aggregate_version };
  set(out, 'meta', withExtras(meta, rec, SNAKE_KEYS) as EventInput['meta']);
  return out;
}

const CAMEL_KEYS = new Set(
  'eventId eventType timestamp occurredAt createdAt actorId userId correlationId causationId payload metadata stream streamId aggregateId aggregateType tenantId'.split(
    ' ',
  ),
);
const entityKeyCache = new Map<string, string | null>();
/** The payload `<entity>Id` key named by the event type's words (earliest, longest), else the only one. */
function entityKey(type: string, idKeys: string[]): string | null {
  const byEntity = new Map(idKeys.map((k) => [k.slice(0, -2).toLowerCase(), k]));
  const words = (type.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+/g) ?? []).map((w) => w.toLowerCase());
  for (let i = 0; i < words.length; i++) {
    for (let j = words.length; j > i; j--) {
      const key = byEntity.get(words.slice(i, j).join(''));
      if (key) return key;
    }
  }
  return idKeys.length === 1 ? idKeys[0]! : null;
}

/**
 * Stream of a camelCase record, first match wins: `stream` / `streamId`; `aggregateId` (qualified by
 * `aggregateType`); the same keys in metadata; a payload `<entity>Id` whose entity is named in the
 * event type (`OrderPlaced` + `payload.orderId: 17` → `Order-17`, earliest and longest words first);
 * the only `<entity>Id` key of the payload; else the event type itself.
 */
export function deriveCamelStream(rec: JsonRecord, md: unknown, payload: unknown, type: string): string {
  const named = namedStream(rec) ?? (isObject(md) ? namedStream(md) : undefined);
  if (named) return named;
  if (isObject(payload)) {
    const idKeys: string[] = [];
    for (const k of Object.keys(payload)) {
      if (k.length > 2 && k.endsWith('Id') && asText(payload[k]) !== undefined) idKeys.push(k);
    }
    const sig = `${type}\0${idKeys.join('\0')}`; // the choice depends only on these: cache it
    let key = entityKeyCache.get(sig);
    if (key === undefined) {
      key = entityKey(type, idKeys);
      if (entityKeyCache.size > 10_000) entityKeyCache.clear();
      entityKeyCache.set(sig, key);
    }
    if (key) return qualifyStream(key[0]!.toUpperCase() + key.slice(1, -2), asText(payload[key])!);
  }
  return type;
}

/** `stream` / `streamId`, else `aggregateId` (qualified by `aggregateType`) of one object. */
function namedStream(src: JsonRecord): string | undefined {
  const direct = asText(src.stream) ?? asText(src.streamId);
  if (direct) return direct;
  const agg = asText(src.aggregateId);
  if (!agg) return undefined;
  const aggType = asText(src.aggregateType);
  return aggType ? qualifyStream(aggType, agg) : agg;
}

/** The common camelCase record (eventId, eventType, timestamp, actorId, correlationId, payload, metadata). */
export function mapCamel(rec: JsonRecord): EventInput {
  const type = need(rec, 'eventType', 'type');
  const md = jsonish(rec.metadata);
  const payload = jsonish(rec.payload);
  const out: EventInput = { stream: deriveCamelStream(rec, md, payload, type), type };
  set(out, 'id', asText(rec.eventId));
  // Spelled out: this runs once per imported line, and a list plus a callback would be built each time.
  const timeKey =
    rec.timestamp !== undefined
      ? 'timestamp'
      : rec.occurredAt !== undefined
        ? 'occurredAt'
        : rec.createdAt !== undefined
          ? 'createdAt'
          : undefined;
  if (timeKey) out.time = toIsoTime(rec[timeKey], `${timeKey} (→ time)`);
  set(out, 'tenant', pick(rec, md, ['tenantId']));
  set(out, 'actor', pick(rec, md, ['actorId', 'userId']));
  set(out, 'correlationId', pick(rec, md, ['correlationId']));
  set(out, 'causationId', pick(rec, md, ['causationId']));
  set(out, 'data', payload);
  set(out, 'meta', withExtras(metaOf(md), rec, CAMEL_KEYS) as EventInput['meta']);
  return out;
}

/** The mapper for a format; 'mapping' compiles (and validates) the user's field mapping once. */
export function mapperFor(format: ImportFormat, mapping?: FieldMapping | unknown): Mapper {
  switch (format) {
    case 'native':
      return mapNative;
    case 'cloudevents':
      return mapCloudEvent;
    case 'snake':
      return mapSnake;
    case 'camel':
      return mapCamel;
    case 'mapping':
      if (mapping === undefined)
        throw new ChronoscopeError('INVALID_ARGUMENT', "format 'mapping' needs a field mapping");
      return compileMapping(mapping);
  }
}

const PATH_RE = /^(?:\$|(?:\$\.)?[^.{}\s]+(?:\.[^.{}\s]+)*)$/;
const TEMPLATE_PART_RE = /\{([^{}]*)\}/g;
const isTemplate = (s: string): boolean =>
  s.includes('{') &&
  !/[{}]/.test(s.replace(TEMPLATE_PART_RE, '')) &&
  [...s.matchAll(TEMPLATE_PART_RE)].every((m) => PATH_RE.test(m[1]!) && m[1] !== '$');
const PATH_MSG = 'must be a dotted path into the record like "entity.id", or "$" for the whole record';
const path = z.string().min(1).max(500).regex(PATH_RE, PATH_MSG);
const textPath = z
  .string()
  .min(1)
  .max(500)
  .refine((s) => PATH_RE.test(s) || isTemplate(s), `${PATH_MSG}, or a template like "Order-{entity.id}"`);

/**
 * A user field mapping: envelope field → dotted path into the record (`items.0.sku`; `$` is the whole
 * record). Text fields also take templates (`"Order-{entity.id}"`). `data` defaults to `$`.
 */
export const fieldMappingSchema = z
  .object({
    type: textPath,
    stream: textPath,
    id: textPath.optional(),
    time: path.optional(),
    tenant: textPath.optional(),
    actor: textPath.optional(),
    correlationId: textPath.optional(),
    causationId: textPath.optional(),
    tags: path.optional(),
    schemaVersion: path.optional(),
    data: path.optional(),
    meta: path.optional(),
  })
  .strict();
/** A field mapping as users write it (CLI flag, config, UI form). */
export type FieldMapping = z.input<typeof fieldMappingSchema>;

/** Validates a mapping, throwing INVALID_ARGUMENT that names the offending key and why. */
export function parseFieldMapping(mapping: unknown): FieldMapping {
  const r = fieldMappingSchema.safeParse(mapping);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : [issue.path.join('.')];
  const missing = issue.code === 'invalid_type' && /received undefined/.test(issue.message);
  const why =
    issue.code === 'unrecognized_keys'
      ? `not an event field (expected ${Object.keys(fieldMappingSchema.shape).join(', ')})`
      : issue.path.length === 0
        ? 'must be an object of event field → path, like {"type": "kind", "stream": "entity.id"}'
        : missing
          ? 'is required'
          : issue.message;
  const field = keys.length && keys[0] ? `mapping.${keys.join(', mapping.')}` : 'mapping';
  throw new ChronoscopeError('INVALID_ARGUMENT', `${field}: ${why}`, { field });
}

type Getter = (rec: JsonRecord) => unknown;
function compilePath(p: string): Getter {
  if (p === '$') return (rec) => rec;
  const segs = p.replace(/^\$\./, '').split('.');
  return (rec) => {
    let v: unknown = rec;
    for (const s of segs) {
      if (v === null || typeof v !== 'object') return undefined;
      // Own keys only: "constructor.name" must not find "Object" in a record that has no constructor.
      v = Object.hasOwn(v, s) ? (v as JsonRecord)[s] : undefined;
    }
    return v;
  };
}
function compileText(p: string): Getter {
  if (!isTemplate(p)) return compilePath(p);
  const parts = p.split(/(\{[^{}]*\})/).map((s) => (s.startsWith('{') ? compilePath(s.slice(1, -1)) : s));
  return (rec) => {
    let out = '';
    for (const part of parts) {
      if (typeof part === 'string') out += part;
      else {
        const v = asText(part(rec));
        if (v === undefined) return undefined;
        out += v;
      }
    }
    return out;
  };
}

/** Compiles a field mapping (validated first) into a mapper; paths are split once, not per record. */
export function compileMapping(mapping: unknown): Mapper {
  const m = parseFieldMapping(mapping);
  const text = (['type', 'stream', 'id', 'tenant', 'actor', 'correlationId', 'causationId'] as const)
    .filter((k) => m[k] !== undefined)
    .map((k) => [k, compileText(m[k]!), `${k} (from "${m[k]}")`] as const);
  const get = (k: 'time' | 'tags' | 'schemaVersion' | 'meta') =>
    m[k] === undefined ? undefined : compilePath(m[k]);
  const [time, tags, schemaVersion, meta] = [get('time'), get('tags'), get('schemaVersion'), get('meta')];
  const data = compilePath(m.data ?? '$');
  return (rec) => {
    const out = {} as EventInput;
    for (const [k, g, label] of text) {
      const v = asText(g(rec));
      if (v !== undefined) out[k] = v;
      else if (k === 'type' || k === 'stream')
        mapFail(label, g(rec) === undefined ? 'missing' : 'must be a non-empty string');
    }
    const t = time?.(rec);
    if (t !== undefined && t !== null) out.time = toIsoTime(t, `time (from "${m.time}")`);
    const tg = tags?.(rec);
    if (tg !== undefined && tg !== null) out.tags = typeof tg === 'string' ? [tg] : (tg as string[]);
    const sv = schemaVersion?.(rec);
    if (sv !== undefined && sv !== null)
      out.schemaVersion = typeof sv === 'string' ? Number(sv) : (sv as number);
    const d = data(rec);
    if (d !== undefined) out.data = d;
    const mt = meta?.(rec);
    if (mt !== undefined && mt !== null) out.meta = mt as EventInput['meta'];
    return out;
  };
}
