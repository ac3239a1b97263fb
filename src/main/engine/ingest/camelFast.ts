import { DEFAULT_TENANT, isIsoTime } from '../../../shared/event';
import { EncodedEvent } from '../encodedEvent';
import { plainText, valueEnd } from './canonicalJson';

/**
 * The camelCase import (mapCamel + normaliseOwnedEvent) for the usual line, read in one pass over
 * its text instead of JSON.parse, with payload and metadata kept as their text (see
 * canonicalJson). It takes only lines whose result is certain to equal the full path's: the
 * top-level keys eventId, eventType, timestamp, actorId, correlationId, causationId, tenantId,
 * payload (an object) and metadata (an object naming the stream in streamId), plain strings where
 * strings are expected, canonical JSON throughout. Anything else is undefined: the caller takes the
 * full path, which decides and words any error. test/unit/camelFast.spec.ts holds the two paths
 * equal.
 */

/** Bits of the top-level keys the reader takes (a repeated key is refused). */
const ID = 1;
const TYPE = 2;
const TIME = 4;
const ACTOR = 8;
const CORRELATION = 16;
const CAUSATION = 32;
const TENANT = 64;
const PAYLOAD = 128;
const METADATA = 256;

/** The bit of the top-level key line[k0, k1), or 0 for a key the reader does not take. */
function topKey(line: string, k0: number, k1: number): number {
  switch (k1 - k0) {
    case 7:
      if (line.startsWith('eventId', k0)) return ID;
      if (line.startsWith('payload', k0)) return PAYLOAD;
      if (line.startsWith('actorId', k0)) return ACTOR;
      return 0;
    case 8:
      if (line.startsWith('metadata', k0)) return METADATA;
      if (line.startsWith('tenantId', k0)) return TENANT;
      return 0;
    case 9:
      if (line.startsWith('eventType', k0)) return TYPE;
      if (line.startsWith('timestamp', k0)) return TIME;
      return 0;
    case 11:
      return line.startsWith('causationId', k0) ? CAUSATION : 0;
    case 13:
      return line.startsWith('correlationId', k0) ? CORRELATION : 0;
    default:
      return 0;
  }
}

/** The metadata keys mapCamel reads (in its order of preference), found by readMetadata. */
class MetadataKeys {
  streamId: string | undefined = undefined;
  tenantId: string | undefined = undefined;
  actorId: string | undefined = undefined;
  userId: string | undefined = undefined;
  correlationId: string | undefined = undefined;
  causationId: string | undefined = undefined;
}

const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The event of a camelCase line, or undefined when the line needs the full parse. */
export function encodeCamelLine(line: string): EncodedEvent | undefined {
  if (line.charCodeAt(0) !== 123 /* { */ || !plainText(line)) return undefined;
  let id: string | undefined;
  let type: string | undefined;
  let time: string | undefined;
  let actor: string | undefined;
  let correlationId: string | undefined;
  let causationId: string | undefined;
  let tenant: string | undefined;
  let payload: string | undefined;
  let meta: string | undefined;
  let md: MetadataKeys | undefined;
  let seen = 0;
  let j = 1;
  for (;;) {
    if (line.charCodeAt(j) !== 34) return undefined;
    const k0 = j + 1;
    const k1 = line.indexOf('"', k0);
    if (k1 < 0 || line.charCodeAt(k1 + 1) !== 58 /* : */) return undefined;
    const key = topKey(line, k0, k1);
    // Any other key changes the mapping (stream keys, userId, extras kept in meta): full path.
    if (key === 0 || (seen & key) !== 0) return undefined;
    seen |= key;
    const v0 = k1 + 2;
    const v1 = valueEnd(line, v0, 1);
    if (v1 < 0) return undefined;
    if (key === PAYLOAD || key === METADATA) {
      if (line.charCodeAt(v0) !== 123) return undefined;
      if (key === PAYLOAD) payload = line.slice(v0, v1);
      else if (!(md = readMetadata(line, v0))) return undefined;
      else meta = line.slice(v0, v1);
    } else {
      // A non-empty plain string, as mapCamel's asText takes it (numbers are left to it).
      if (line.charCodeAt(v0) !== 34 || v1 - v0 < 3) return undefined;
      const v = line.slice(v0 + 1, v1 - 1);
      if (key === ID) id = v;
      else if (key === TYPE) type = v;
      else if (key === TIME) time = v;
      else if (key === ACTOR) actor = v;
      else if (key === CORRELATION) correlationId = v;
      else if (key === CAUSATION) causationId = v;
      else tenant = v;
    }
    const c = line.charCodeAt(v1);
    if (c === 125 /* } */) {
      if (v1 + 1 !== line.length) return undefined;
      break;
    }
    if (c !== 44 /* , */) return undefined;
    j = v1 + 1;
  }
  const stream = md?.streamId;
  if (!id || !type || !time || !payload || !meta || !md || !stream) return undefined;
  if (id.length > 200 || type.length > 256 || stream.length > 1024) return undefined;
  if (!TIME_RE.test(time) || !isIsoTime(time)) return undefined;
  tenant ??= md.tenantId ?? DEFAULT_TENANT;
  actor ??= md.actorId ?? md.userId;
  correlationId ??= md.correlationId;
  causationId ??= md.causationId;
  if (tenant.length > 256 || !fits(actor) || !fits(correlationId) || !fits(causationId)) return undefined;
  const e = new EncodedEvent(id, stream, type, time, tenant, payload, meta);
  if (actor !== undefined) e.actor = actor;
  if (correlationId !== undefined) e.correlationId = correlationId;
  if (causationId !== undefined) e.causationId = causationId;
  return e;
}

const fits = (v: string | undefined): boolean => v === undefined || v.length <= 1024;

/**
 * The keys mapCamel reads from the metadata object at line[v0] (already checked canonical), which
 * must be non-empty plain strings; undefined when one is not, or when the object has `stream` (read
 * before streamId) or the aggregate keys: those are left to the full path.
 */
function readMetadata(line: string, v0: number): MetadataKeys | undefined {
  const md = new MetadataKeys();
  let j = v0 + 1;
  if (line.charCodeAt(j) === 125) return md;
  for (;;) {
    const k0 = j + 1;
    const k1 = line.indexOf('"', k0);
    const m0 = k1 + 2;
    const m1 = valueEnd(line, m0, 2);
    const n = k1 - k0;
    let slot: keyof MetadataKeys | undefined;
    if (n === 8 && line.startsWith('streamId', k0)) slot = 'streamId';
    else if (n === 8 && line.startsWith('tenantId', k0)) slot = 'tenantId';
    else if (n === 7 && line.startsWith('actorId', k0)) slot = 'actorId';
    else if (n === 6 && line.startsWith('userId', k0)) slot = 'userId';
    else if (n === 13 && line.startsWith('correlationId', k0)) slot = 'correlationId';
    else if (n === 11 && line.startsWith('causationId', k0)) slot = 'causationId';
    else if (
      (n === 6 && line.startsWith('stream', k0)) ||
      (n === 11 && line.startsWith('aggregateId', k0)) ||
      (n === 13 && line.startsWith('aggregateType', k0))
    )
      return undefined;
    if (slot) {
      if (line.charCodeAt(m0) !== 34 || m1 - m0 < 3) return undefined;
      md[slot] = line.slice(m0 + 1, m1 - 1);
    }
    if (line.charCodeAt(m1) === 125) return md;
    j = m1 + 1;
  }
}
