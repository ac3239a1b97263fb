/**
 * A byte scanner for the envelope of a stored line, for sealing: the index needs a few envelope
 * fields and hashes of the keyed ones, not event objects. Parsing every line with JSON.parse and
 * hashing the resulting strings was a third of a seal's CPU (and most of its garbage).
 *
 * It accepts exactly the shape storedLine writes (the sequencer builds envelopes in this field
 * order, data and meta last) and answers false for anything else, so the caller takes the full
 * parse, which decides and words any error. ASCII strings without escapes (the usual case) are
 * hashed from their bytes; any other string is decoded by JSON.parse first, so hashes always equal
 * keyHash32 of the parsed string.
 */

import { keyHash32 } from './keyHash';

/** What the scanner writes for one line; reused across lines. */
export interface ScannedEnvelope {
  seq: number;
  version: number;
  /** Date.parse of the time field (NaN when it does not parse, as Date.parse). */
  time: number;
  stream: string;
  type: string;
  tenant: string;
  /** keyHash32 of id, stream, type, tenant, actor, correlationId, causationId (the last three if present). */
  hashes: Uint32Array;
  /** Bit 0: actor, bit 1: correlationId, bit 2: causationId. */
  present: number;
  tags: string[] | undefined;
  /**
   * Where the stream, type and tenant strings sit in the line (start and end of each, quotes
   * excluded), for a caller that scanned without names (see scanEnvelope) and decodes them itself.
   */
  spans: Uint32Array;
  /** Bits 0, 1, 2: the stream, type, tenant string is plain ASCII (its bytes are its characters). */
  spanPlain: number;
}

/** A blank envelope for scanEnvelope to fill (one per reader, reused line after line). */
export function emptyEnvelope(): ScannedEnvelope {
  return {
    seq: 0,
    version: 0,
    time: 0,
    stream: '',
    type: '',
    tenant: '',
    hashes: new Uint32Array(7),
    present: 0,
    tags: undefined,
    spans: new Uint32Array(6),
    spanPlain: 0,
  };
}

const key = (s: string): Buffer => Buffer.from(s, 'latin1');
const K_SEQ = key('{"seq":');
const K_ID = key(',"id":');
const K_STREAM = key(',"stream":');
const K_VERSION = key(',"version":');
const K_TYPE = key(',"type":');
const K_TIME = key(',"time":');
const K_RECORDED = key(',"recordedAt":');
const K_TENANT = key(',"tenant":');
const K_ACTOR = key(',"actor":');
const K_CORR = key(',"correlationId":');
const K_CAUS = key(',"causationId":');
const K_TAGS = key(',"tags":');
const K_SCHEMA = key(',"schemaVersion":');
const K_DATA = key(',"data":');

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

// Results of the last str() call (module scratch: no object per string).
let strStart = 0;
let strEnd = 0;
let strHash = 0;
let strPlain = true;
// Result of the last num() call.
let numValue = 0;

function at(b: Buffer, p: number, end: number, k: Buffer): boolean {
  if (p + k.length > end) return false;
  for (let i = 0; i < k.length; i++) if (b[p + i] !== k[i]) return false;
  return true;
}

/** A JSON string at p: returns the index after its closing quote, or -1 (see strHashed). */
function str(b: Buffer, p: number, end: number): number {
  if (p >= end || b[p] !== QUOTE) return -1;
  let plain = true;
  let i = p + 1;
  for (; i < end; i++) {
    const c = b[i]!;
    if (c === QUOTE) break;
    if (c < 0x20) return -1;
    if (c === BACKSLASH) {
      plain = false;
      i++;
    } else if (c >= 0x80) plain = false;
  }
  if (i >= end) return -1;
  strStart = p + 1;
  strEnd = i;
  strPlain = plain;
  return i + 1;
}

/** As str, and hashes it (keyHash32) from its bytes when plain ASCII: for strings the index looks up. */
function strHashed(b: Buffer, p: number, end: number): number {
  const next = str(b, p, end);
  if (next >= 0 && strPlain) {
    let h = 0x811c9dc5;
    for (let i = strStart; i < strEnd; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    strHash = h >>> 0;
  }
  return next;
}

/** The value of the string at b[start, end) (quotes excluded), plain ASCII or not. */
export function spanValue(b: Buffer, start: number, end: number, plain: boolean): string {
  if (plain) return b.toString('latin1', start, end);
  return JSON.parse(b.toString('utf8', start - 1, end + 1)) as string;
}

/** The last scanned string's value. */
function strValue(b: Buffer): string {
  if (strPlain) return b.toString('latin1', strStart, strEnd);
  return JSON.parse(b.toString('utf8', strStart - 1, strEnd + 1)) as string;
}

/** keyHash32 of the last string scanned by strHashed (from its bytes when plain ASCII). */
function strKeyHash(b: Buffer): number {
  return strPlain ? strHash : keyHash32(strValue(b));
}

/** A non-negative integer in plain digits (no sign, fraction, exponent or leading zero) at p; -1 if not. */
function num(b: Buffer, p: number, end: number): number {
  let v = 0;
  let i = p;
  for (; i < end && i - p < 16; i++) {
    const c = b[i]! - 0x30;
    if (c < 0 || c > 9) break;
    v = v * 10 + c;
  }
  const len = i - p;
  if (len === 0 || len > 15 || (len > 1 && b[p] === 0x30)) return -1;
  const next = b[i];
  if (next === 0x2e || next === 0x65 || next === 0x45) return -1;
  numValue = v;
  return i;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digits(b: Buffer, p: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = b[p + i]! - 0x30;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** The last scanned string as a time: canonical `YYYY-MM-DDTHH:MM:SS.mmmZ` read from bytes, else Date.parse. */
function strTime(b: Buffer): number {
  const p = strStart;
  if (
    strEnd - p === 24 &&
    b[p + 4] === 0x2d &&
    b[p + 7] === 0x2d &&
    b[p + 10] === 0x54 &&
    b[p + 13] === 0x3a &&
    b[p + 16] === 0x3a &&
    b[p + 19] === 0x2e &&
    b[p + 23] === 0x5a
  ) {
    const y = digits(b, p, 4);
    const mo = digits(b, p + 5, 2);
    const d = digits(b, p + 8, 2);
    const h = digits(b, p + 11, 2);
    const mi = digits(b, p + 14, 2);
    const s = digits(b, p + 17, 2);
    const ms = digits(b, p + 20, 3);
    const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
    // Date.UTC maps years 0..99 to 1900s and rolls impossible dates over: those take Date.parse.
    if (
      y >= 1000 &&
      mo >= 1 &&
      mo <= 12 &&
      d >= 1 &&
      d <= (mo === 2 && leap ? 29 : DAYS[mo - 1]!) &&
      h >= 0 &&
      h <= 23 &&
      mi >= 0 &&
      mi <= 59 &&
      s >= 0 &&
      s <= 59 &&
      ms >= 0
    )
      return Date.UTC(y, mo - 1, d, h, mi, s, ms);
  }
  return Date.parse(strValue(b));
}

/**
 * Scans raw[start, end) (one line, no newline) into `out`; false when it is not storedLine's shape.
 * `names` false: stream, type and tenant are left empty, their places in `spans` (sealing decodes
 * only the ones it has not met yet: a string a line for each was ~0.3 µs).
 */
export function scanEnvelope(
  b: Buffer,
  start: number,
  end: number,
  out: ScannedEnvelope,
  names = true,
): boolean {
  let p = start;
  if (!at(b, p, end, K_SEQ) || (p = num(b, p + K_SEQ.length, end)) < 0) return false;
  out.seq = numValue;
  if (!at(b, p, end, K_ID) || (p = strHashed(b, p + K_ID.length, end)) < 0) return false;
  const hashes = out.hashes;
  hashes[0] = strKeyHash(b);
  if (!at(b, p, end, K_STREAM) || (p = strHashed(b, p + K_STREAM.length, end)) < 0) return false;
  hashes[1] = strKeyHash(b);
  const spans = out.spans;
  let spanPlain = strPlain ? 1 : 0;
  spans[0] = strStart;
  spans[1] = strEnd;
  out.stream = names ? strValue(b) : '';
  if (!at(b, p, end, K_VERSION) || (p = num(b, p + K_VERSION.length, end)) < 0) return false;
  out.version = numValue;
  if (!at(b, p, end, K_TYPE) || (p = strHashed(b, p + K_TYPE.length, end)) < 0) return false;
  hashes[2] = strKeyHash(b);
  if (strPlain) spanPlain |= 2;
  spans[2] = strStart;
  spans[3] = strEnd;
  out.type = names ? strValue(b) : '';
  if (!at(b, p, end, K_TIME) || (p = str(b, p + K_TIME.length, end)) < 0) return false;
  out.time = strTime(b);
  if (!at(b, p, end, K_RECORDED) || (p = str(b, p + K_RECORDED.length, end)) < 0) return false;
  if (!at(b, p, end, K_TENANT) || (p = strHashed(b, p + K_TENANT.length, end)) < 0) return false;
  hashes[3] = strKeyHash(b);
  if (strPlain) spanPlain |= 4;
  spans[4] = strStart;
  spans[5] = strEnd;
  out.spanPlain = spanPlain;
  out.tenant = names ? strValue(b) : '';
  let present = 0;
  if (at(b, p, end, K_ACTOR)) {
    if ((p = strHashed(b, p + K_ACTOR.length, end)) < 0) return false;
    hashes[4] = strKeyHash(b);
    present |= 1;
  }
  if (at(b, p, end, K_CORR)) {
    if ((p = strHashed(b, p + K_CORR.length, end)) < 0) return false;
    hashes[5] = strKeyHash(b);
    present |= 2;
  }
  if (at(b, p, end, K_CAUS)) {
    if ((p = strHashed(b, p + K_CAUS.length, end)) < 0) return false;
    hashes[6] = strKeyHash(b);
    present |= 4;
  }
  out.present = present;
  out.tags = undefined;
  if (at(b, p, end, K_TAGS)) {
    p += K_TAGS.length;
    if (b[p++] !== 0x5b) return false;
    const tags: string[] = [];
    if (b[p] === 0x5d) p++;
    else
      for (;;) {
        if ((p = str(b, p, end)) < 0) return false;
        tags.push(strValue(b));
        const c = b[p++];
        if (c === 0x5d) break;
        if (c !== 0x2c) return false;
      }
    out.tags = tags;
  }
  if (at(b, p, end, K_SCHEMA) && (p = num(b, p + K_SCHEMA.length, end)) < 0) return false;
  return at(b, p, end, K_DATA);
}

/** The id of the stored line at raw[start, end), or undefined when it is not storedLine's shape. */
export function scanId(b: Buffer, start: number, end: number): string | undefined {
  let p = start;
  if (!at(b, p, end, K_SEQ) || (p = num(b, p + K_SEQ.length, end)) < 0) return undefined;
  if (!at(b, p, end, K_ID) || str(b, p + K_ID.length, end) < 0) return undefined;
  return strValue(b);
}
