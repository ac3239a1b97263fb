import { z } from 'zod';
import { ChronoscopeError } from './errors';

/** Any JSON value: what `data` and `meta` may hold. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** An event as stored: the envelope of DESIGN §2 with every store-assigned field present. */
export interface StoredEvent {
  seq: number;
  id: string;
  stream: string;
  version: number;
  type: string;
  time: string;
  recordedAt: string;
  tenant: string;
  actor?: string;
  correlationId?: string;
  causationId?: string;
  tags?: string[];
  schemaVersion?: number;
  data: JsonValue;
  meta?: { [key: string]: JsonValue };
}

const isoTime = z.string().refine((s) => isIsoTime(s), { message: 'must be an ISO-8601 date-time' });
const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.null(),
    z.boolean(),
    z.number().finite(),
    z.string(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);

/** What a writer hands to `append`: the store fills in seq, version, recordedAt and defaults. */
export const eventInputSchema = z
  .object({
    id: z.string().min(1).max(200).optional(),
    stream: z.string().min(1).max(1024),
    type: z.string().min(1).max(256),
    time: isoTime.optional(),
    tenant: z.string().min(1).max(256).optional(),
    actor: z.string().min(1).max(1024).optional(),
    correlationId: z.string().min(1).max(1024).optional(),
    causationId: z.string().min(1).max(1024).optional(),
    tags: z.array(z.string().min(1).max(256)).max(64).optional(),
    schemaVersion: z.number().int().min(0).optional(),
    data: z.unknown().optional(),
    // Checked, not rebuilt: z.record's copy drops a "__proto__" key, which then vanished from API appends.
    meta: z
      .custom<Record<string, unknown>>((v) => isPlainObject(v), { message: 'must be a JSON object' })
      .optional(),
  })
  .strict();
export type EventInput = z.input<typeof eventInputSchema>;

/** An input after validation: ids, time and tenant filled in; ready for the sequencer. */
export interface NormalisedEvent {
  id: string;
  stream: string;
  type: string;
  time: string;
  tenant: string;
  actor?: string;
  correlationId?: string;
  causationId?: string;
  tags?: string[];
  schemaVersion?: number;
  data: JsonValue;
  meta?: { [key: string]: JsonValue };
}

export const DEFAULT_TENANT = 'default';

// No capture groups: test() then needs no match array (this runs once per appended event).
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** The n decimal digits of s at `at` as a number, read without allocating (callers know they are digits). */
export const digits = (s: string, at: number, n: number): number => {
  let v = 0;
  for (let i = at; i < at + n; i++) v = v * 10 + s.charCodeAt(i) - 48;
  return v;
};

/** True for a full ISO-8601 date-time with an explicit zone, the only form the envelope accepts. */
export function isIsoTime(s: string): boolean {
  if (!ISO_RE.test(s)) return false;
  // Fields sit at fixed offsets once the pattern matched (YYYY-MM-DDTHH:MM[:SS]); read them without allocating.
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  // After HH:MM comes ':' only when seconds follow (else the zone: Z, + or -).
  const sec = s.charCodeAt(16) === 58 ? digits(s, 17, 2) : 0;
  // Date.parse rolls impossible dates over (Feb 30 → Mar 2); a log with one is wrong, so refuse it.
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > (mo === 2 && leap ? 29 : DAYS[mo - 1]!)) return false;
  // The offset is the only part left unchecked; Z needs no check at all.
  return s.charCodeAt(s.length - 1) === 90 /* Z */ || !Number.isNaN(Date.parse(s));
}

const CANONICAL_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Canonical UTC form with milliseconds, so times compare as strings. */
export function toUtcIso(s: string): string {
  if (CANONICAL_RE.test(s)) return s;
  return new Date(Date.parse(s)).toISOString();
}

/** Only plain objects survive JSON unchanged (a Map, Date or class instance would not). */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const INPUT_KEYS = new Set([
  'id',
  'stream',
  'type',
  'time',
  'tenant',
  'actor',
  'correlationId',
  'causationId',
  'tags',
  'schemaVersion',
  'data',
  'meta',
]);
const str = (v: unknown, max: number) => typeof v === 'string' && v.length >= 1 && v.length <= max;
const opt = (v: unknown, max: number) => v === undefined || str(v, max);

/**
 * The common case, checked by hand: true only when the input certainly satisfies eventInputSchema.
 * Anything else goes through zod, which decides and words the error (appends are hot; zod is ~10x slower).
 */
function quickValid(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  for (const k in o) if (!INPUT_KEYS.has(k)) return false;
  if (!str(o.stream, 1024) || !str(o.type, 256) || !opt(o.id, 200) || !opt(o.tenant, 256)) return false;
  if (!opt(o.actor, 1024) || !opt(o.correlationId, 1024) || !opt(o.causationId, 1024)) return false;
  if (o.time !== undefined && !(typeof o.time === 'string' && isIsoTime(o.time))) return false;
  if (
    o.schemaVersion !== undefined &&
    !(Number.isSafeInteger(o.schemaVersion) && (o.schemaVersion as number) >= 0)
  )
    return false;
  if (o.meta !== undefined && !isPlainObject(o.meta)) return false;
  if (o.tags !== undefined) {
    if (!Array.isArray(o.tags) || o.tags.length > 64) return false;
    for (const t of o.tags) if (!str(t, 256)) return false;
  }
  return true;
}

/**
 * Validates one input and fills defaults. Throws INVALID_EVENT naming the field and the reason;
 * `where` (e.g. "line 12 of orders.jsonl") is prefixed so the writer can find the culprit.
 */
export function normaliseEvent(
  input: unknown,
  now: () => string = () => new Date().toISOString(),
  where?: string,
): NormalisedEvent {
  return normalise(input, now, where, true);
}

/**
 * normaliseEvent for input the caller built itself and hands over (an importer's JSON.parse of a
 * line): checked the same way, but data and meta are kept as they are instead of copied, since no
 * one else holds them. Saves a deep copy of every imported event.
 */
export function normaliseOwnedEvent(input: unknown, where?: string): NormalisedEvent {
  return normalise(input, () => new Date().toISOString(), where, false);
}

function normalise(
  input: unknown,
  now: () => string,
  where: string | undefined,
  copy: boolean,
): NormalisedEvent {
  // Undefined when the hand-written check passed: no result object per event.
  const parsed = quickValid(input) ? undefined : eventInputSchema.safeParse(input);
  if (parsed && !parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length
      ? issue.path.join('.')
      : issue.code === 'unrecognized_keys'
        ? (issue as { keys?: string[] }).keys?.join(', ')
        : '(event)';
    const prefix = where ? `${where}: ` : '';
    throw new ChronoscopeError('INVALID_EVENT', `${prefix}field ${field}: ${issue.message}`, {
      field,
      where,
    });
  }
  const e = parsed ? parsed.data : (input as z.output<typeof eventInputSchema>);
  const data = checkJson(e.data === undefined ? {} : e.data, 'data', where, copy);
  const out: NormalisedEvent = {
    id: e.id === undefined ? uuidv7() : flat(e.id),
    stream: flat(e.stream),
    type: flat(e.type),
    time: e.time ? toUtcIso(e.time) : now(),
    tenant: e.tenant === undefined ? DEFAULT_TENANT : flat(e.tenant),
    data,
  };
  if (e.actor !== undefined) out.actor = flat(e.actor);
  if (e.correlationId !== undefined) out.correlationId = flat(e.correlationId);
  if (e.causationId !== undefined) out.causationId = flat(e.causationId);
  if (e.tags !== undefined) out.tags = [...e.tags];
  if (e.schemaVersion !== undefined) out.schemaVersion = e.schemaVersion;
  if (e.meta !== undefined) out.meta = checkJson(e.meta, 'meta', where, copy) as { [key: string]: JsonValue };
  return out;
}

/** Written so the engine cannot drop the read in flat() as dead code. */
let _flatSink = 0;
/**
 * The same string, made flat: V8 keeps a string built by concatenation as a tree of its pieces (a
 * UUID built piecewise holds ~380 B instead of ~76 B), and reading a character flattens it in
 * place. The store holds what it is given for a long time, so it holds the compact form.
 */
function flat(s: string): string {
  _flatSink ^= s.charCodeAt(0) | 0;
  return s;
}

const MAX_DEPTH = 512;

class JsonProblem {
  constructor(
    readonly path: string[],
    readonly why: string,
  ) {}
}

/**
 * Copies a JSON value, refusing what JSON cannot hold (NaN, functions, undefined, Map/Date/class
 * instances, cycles, absurd nesting). The store keeps the copy, so a caller mutating its input
 * afterwards changes nothing stored. The failing path is built only on failure. With `copy` false
 * it only checks, and returns the value itself.
 */
function copyJson(v: unknown, depth: number, copy = true): JsonValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (Number.isFinite(v)) return v;
    throw new JsonProblem([], 'numbers must be finite');
  }
  if (depth > MAX_DEPTH) throw new JsonProblem([], `nested deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(v)) {
    const out: JsonValue[] = copy ? new Array(v.length) : (v as JsonValue[]);
    for (let i = 0; i < v.length; i++) {
      try {
        const c = copyJson(v[i], depth + 1, copy);
        if (copy) out[i] = c;
      } catch (e) {
        if (e instanceof JsonProblem) e.path.unshift(String(i));
        throw e;
      }
    }
    return out;
  }
  if (typeof v === 'object') {
    if (!isPlainObject(v))
      throw new JsonProblem([], `a ${(v as object).constructor?.name ?? 'non-plain'} object is not JSON`);
    const out: { [k: string]: JsonValue } = copy ? {} : (v as { [k: string]: JsonValue });
    for (const k in v) {
      if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
      try {
        const c = copyJson((v as Record<string, unknown>)[k], depth + 1, copy);
        if (!copy) continue;
        // defineProperty, so a "__proto__" key stays a plain key of the copy.
        if (k === '__proto__')
          Object.defineProperty(out, k, { value: c, enumerable: true, writable: true, configurable: true });
        else out[k] = c;
      } catch (e) {
        if (e instanceof JsonProblem) e.path.unshift(k);
        throw e;
      }
    }
    return out;
  }
  throw new JsonProblem([], `${typeof v} is not JSON`);
}

/** Rejects values JSON cannot hold, naming the path, e.g. `field data.items.0.price: numbers must be finite`. */
function checkJson(v: unknown, root: string, where: string | undefined, copy: boolean): JsonValue {
  try {
    return copyJson(v, 0, copy);
  } catch (e) {
    if (!(e instanceof JsonProblem)) throw e;
    const field = [root, ...e.path].join('.');
    throw new ChronoscopeError('INVALID_EVENT', `${where ? `${where}: ` : ''}field ${field}: ${e.why}`, {
      field,
      where,
    });
  }
}

/** A deep copy of a stored event, so readers can never change what the store holds. */
export function copyEvent(e: StoredEvent): StoredEvent {
  const out: StoredEvent = { ...e, data: copyJson(e.data, 0) };
  if (e.tags) out.tags = [...e.tags];
  if (e.meta) out.meta = copyJson(e.meta, 0) as { [key: string]: JsonValue };
  return out;
}

const q = JSON.stringify;
/** Serialises a stored event as its one-line JSON form, fields in envelope order (hand-built: on the append path). */
export function serialiseEvent(e: StoredEvent): string {
  let out = `{"seq":${e.seq},"id":${q(e.id)},"stream":${q(e.stream)},"version":${e.version},"type":${q(e.type)},"time":${q(e.time)},"recordedAt":${q(e.recordedAt)},"tenant":${q(e.tenant)}`;
  if (e.actor !== undefined) out += `,"actor":${q(e.actor)}`;
  if (e.correlationId !== undefined) out += `,"correlationId":${q(e.correlationId)}`;
  if (e.causationId !== undefined) out += `,"causationId":${q(e.causationId)}`;
  if (e.tags !== undefined) out += `,"tags":${q(e.tags)}`;
  if (e.schemaVersion !== undefined) out += `,"schemaVersion":${e.schemaVersion}`;
  out += `,"data":${q(e.data)}`;
  if (e.meta !== undefined) out += `,"meta":${q(e.meta)}`;
  return `${out}}`;
}

/**
 * The line of an event built by the Sequencer: it holds only envelope fields, already in envelope
 * order, so one native JSON.stringify yields exactly serialiseEvent's line at less cost (append path).
 */
export function storedLine(e: StoredEvent): string {
  return JSON.stringify(e);
}

/** Parses one stored line back into an event; throws CORRUPT if it is not a stored envelope. */
export function parseStoredLine(line: string, where: string): StoredEvent {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch (err) {
    throw new ChronoscopeError('CORRUPT', `${where}: not valid JSON (${(err as Error).message})`, { where });
  }
  return checkEnvelope(o, where);
}

/** Checks that a parsed value has a stored event's envelope fields; throws CORRUPT naming `where`. */
export function checkEnvelope(o: unknown, where: string): StoredEvent {
  const e = o as StoredEvent;
  if (
    !e ||
    typeof e !== 'object' ||
    !Number.isSafeInteger(e.seq) ||
    typeof e.id !== 'string' ||
    typeof e.stream !== 'string' ||
    !Number.isSafeInteger(e.version) ||
    typeof e.type !== 'string' ||
    typeof e.time !== 'string' ||
    typeof e.recordedAt !== 'string' ||
    typeof e.tenant !== 'string'
  ) {
    throw new ChronoscopeError('CORRUPT', `${where}: not a stored event envelope`, { where });
  }
  return e;
}

/** A time-ordered UUID (RFC 9562 v7): sorts by creation time, random in the low bits. */
export function uuidv7(nowMs: number = Date.now()): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  const ms = BigInt(nowMs);
  for (let i = 0; i < 6; i++) b[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
