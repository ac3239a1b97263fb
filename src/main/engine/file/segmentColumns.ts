import { parseStoredLine, type StoredEvent } from '../../../shared/event';
import { ChronoscopeError } from '../../../shared/errors';
import { crc32 } from './checksum';
import { emptyEnvelope, scanEnvelope, spanValue, type ScannedEnvelope } from './envelopeScan';
import { keyHash32 } from './keyHash';

/** The envelope fields the sealed index can look up by key. */
export const KINDS = ['id', 'stream', 'type', 'tenant', 'actor', 'correlation', 'causation', 'tag'] as const;
export type Kind = (typeof KINDS)[number];

/** (hash, ordinal) pairs of one kind, in ordinal order; grows like a vector. */
export class KeyColumn {
  h: Uint32Array;
  o: Uint32Array;
  m = 0;

  constructor(capacity: number) {
    this.h = new Uint32Array(Math.max(16, capacity));
    this.o = new Uint32Array(Math.max(16, capacity));
  }

  push(hash: number, ord: number): void {
    if (this.m === this.h.length) {
      const h = new Uint32Array(this.m * 2);
      const o = new Uint32Array(this.m * 2);
      h.set(this.h);
      o.set(this.o);
      this.h = h;
      this.o = o;
    }
    this.h[this.m] = hash;
    this.o[this.m++] = ord;
  }
}

const count = (m: Map<string, number>, k: string): void => {
  m.set(k, (m.get(k) ?? 0) + 1);
};

/** True when the plain ASCII string `s` is exactly the bytes b[start, end). */
function sameAscii(s: string, b: Buffer, start: number, end: number): boolean {
  if (s.length !== end - start) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== b[start + i]) return false;
  return true;
}

/**
 * The few distinct names of a field (types, tenants) by their key hash: a line's name is read
 * from its bytes only the first time, then checked byte for byte against the one known for its
 * hash (two names with one hash both stay exact: the second is simply decoded each time).
 */
class NameCache {
  readonly #byHash = new Map<number, string>();

  name(b: Buffer, start: number, end: number, plain: boolean, hash: number): string {
    if (!plain) return spanValue(b, start, end, false);
    const known = this.#byHash.get(hash);
    if (known !== undefined && sameAscii(known, b, start, end)) return known;
    const v = spanValue(b, start, end, true);
    if (known === undefined) this.#byHash.set(hash, v);
    return v;
  }
}

/**
 * What a sealed segment's index is built from, one column per field: line offsets, CRCs, times and
 * key hashes. Filled either from lines (sealing: only the envelope is scanned, no event objects) or
 * from events already parsed (rebuild, repair, sealing on the host thread); both give identical
 * columns, so both give identical indexes.
 */
export class SegmentColumns {
  n = 0;
  firstSeq = 0;
  uoff: Uint32Array;
  crc: Uint32Array;
  times: Float64Array;
  minTime = Infinity;
  maxTime = -Infinity;
  readonly keys: Record<Kind, KeyColumn>;
  readonly streams = new Map<string, number>();
  readonly types = new Map<string, number>();
  readonly tenants = new Map<string, number>();
  /** Reused by addLine: the scanner writes into it instead of allocating per line. */
  readonly #env: ScannedEnvelope = emptyEnvelope();
  readonly #typeNames = new NameCache();
  readonly #tenantNames = new NameCache();

  /**
   * `newStreamsOnly`: name only the streams that begin here (version 1) — sealing, where every
   * earlier segment is already catalogued; rebuild and repair name all.
   */
  constructor(
    capacity: number,
    readonly newStreamsOnly = false,
  ) {
    const cap = Math.max(16, capacity);
    this.uoff = new Uint32Array(cap + 1);
    this.crc = new Uint32Array(cap);
    this.times = new Float64Array(cap);
    this.keys = Object.fromEntries(
      KINDS.map((k) => [k, new KeyColumn(k === 'causation' || k === 'tag' ? 16 : cap)]),
    ) as Record<Kind, KeyColumn>;
  }

  /** Adds the line raw[start, end) (no newline) sitting at `uoff` in the segment's byte stream. */
  addLine(raw: Buffer, start: number, end: number, uoff: number, where: () => string): void {
    const line = raw.subarray(start, end);
    const env = this.#env;
    if (!scanEnvelope(raw, start, end, env, false)) {
      // Not the exact shape storedLine writes: the full parse decides, and words any error.
      this.addEvent(parseStoredLine(line.toString('utf8'), where()), uoff, crc32(line));
      return;
    }
    const i = this.#next(env.seq, uoff, crc32(line), env.time);
    const h = env.hashes;
    const sp = env.spans;
    const plain = env.spanPlain;
    if (!this.newStreamsOnly || env.version === 1)
      count(this.streams, spanValue(raw, sp[0]!, sp[1]!, (plain & 1) !== 0));
    count(this.types, this.#typeNames.name(raw, sp[2]!, sp[3]!, (plain & 2) !== 0, h[2]!));
    count(this.tenants, this.#tenantNames.name(raw, sp[4]!, sp[5]!, (plain & 4) !== 0, h[3]!));
    const k = this.keys;
    k.id.push(h[0]!, i);
    k.stream.push(h[1]!, i);
    k.type.push(h[2]!, i);
    k.tenant.push(h[3]!, i);
    if (env.present & 1) k.actor.push(h[4]!, i);
    if (env.present & 2) k.correlation.push(h[5]!, i);
    if (env.present & 4) k.causation.push(h[6]!, i);
    if (env.tags) this.#addTags(env.tags, i);
  }

  /** Adds one parsed event whose line sits at `uoff` with checksum `crc`. */
  addEvent(e: StoredEvent, uoff: number, crc: number): void {
    const i = this.#next(e.seq, uoff, crc, Date.parse(e.time));
    if (!this.newStreamsOnly || e.version === 1) count(this.streams, e.stream);
    count(this.types, e.type);
    count(this.tenants, e.tenant);
    const k = this.keys;
    k.id.push(keyHash32(e.id), i);
    k.stream.push(keyHash32(e.stream), i);
    k.type.push(keyHash32(e.type), i);
    k.tenant.push(keyHash32(e.tenant), i);
    if (e.actor !== undefined) k.actor.push(keyHash32(e.actor), i);
    if (e.correlationId !== undefined) k.correlation.push(keyHash32(e.correlationId), i);
    if (e.causationId !== undefined) k.causation.push(keyHash32(e.causationId), i);
    if (e.tags) this.#addTags(e.tags, i);
  }

  /** Closes the columns: `totalU` is the byte length of the whole uncompressed stream. */
  finish(totalU: number): this {
    if (this.n === 0) throw new ChronoscopeError('INTERNAL', 'cannot index an empty segment');
    this.uoff[this.n] = totalU;
    return this;
  }

  get lastSeq(): number {
    return this.firstSeq + this.n - 1;
  }

  #next(seq: number, uoff: number, crc: number, time: number): number {
    const i = this.n;
    if (i === 0) this.firstSeq = seq;
    else if (seq !== this.firstSeq + i)
      throw new ChronoscopeError('CORRUPT', `seq ${seq} breaks the run starting at ${this.firstSeq}`);
    if (i === this.crc.length) this.#grow();
    this.uoff[i] = uoff;
    this.crc[i] = crc;
    this.times[i] = time;
    if (time < this.minTime) this.minTime = time;
    if (time > this.maxTime) this.maxTime = time;
    this.n = i + 1;
    return i;
  }

  /** A tag repeated within one event is posted once. */
  #addTags(tags: readonly string[], i: number): void {
    for (const v of tags.length > 1 ? new Set(tags) : tags) this.keys.tag.push(keyHash32(v), i);
  }

  #grow(): void {
    const cap = this.crc.length * 2;
    const uoff = new Uint32Array(cap + 1);
    uoff.set(this.uoff);
    const crc = new Uint32Array(cap);
    crc.set(this.crc);
    const times = new Float64Array(cap);
    times.set(this.times);
    this.uoff = uoff;
    this.crc = crc;
    this.times = times;
  }
}
