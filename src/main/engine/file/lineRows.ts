import { parseStoredLine, type StoredEvent } from '../../../shared/event';
import { storedLineOf } from '../encodedEvent';
import { type EventRows, type LineBytes, type RowKey, type RowKeyKind } from '../memory/eventRows';
import { emptyEnvelope, scanEnvelope, scanId } from './envelopeScan';
import { keyHash32 } from './keyHash';

const HOUR = 3_600_000;
/** Per-row bytes of the columns (start, length, seq-independent keys), charged with the line. */
const ROW_OVERHEAD = 48;
/** Kinds filed by keyHash32 of the value: the scanner hashes them from the bytes without decoding. */
const HASHED: ReadonlySet<RowKeyKind> = new Set(['actor', 'correlation', 'causation']);

/** Bytes of one pooled chunk: lines are packed into chunks and never span two. */
export const CHUNK_BYTES = 1 << 20;

/**
 * Chunks for the hot tier's lines, handed back when a generation is sealed away and reused by the
 * next. Without it every generation's buffers died as external memory that V8 frees only at its
 * next major collection, and RSS climbed by tens of MB between collections.
 */
export class ChunkPool {
  #free: Buffer[] = [];
  /** `maxFree`: chunks kept for reuse beyond which handed-back chunks are left to the collector. */
  constructor(readonly maxFree = 64) {}

  take(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
  }

  give(chunks: readonly Buffer[]): void {
    for (const c of chunks)
      if (c.length === CHUNK_BYTES && this.#free.length < this.maxFree) this.#free.push(c);
  }

  /** Chunks waiting for reuse (tests, metrics). */
  get free(): number {
    return this.#free.length;
  }
}

/**
 * The hot tier's rows: each event's stored line, packed into pooled chunks, plus typed columns.
 * Holding a plain segment's events as objects kept ~15 heap objects an event alive for seconds;
 * V8 pretenured them, so every generation died as old-space garbage and the heap swung by
 * ~100 MB between major collections. Lines in a buffer are invisible to the collector.
 *
 * Reads parse the line (a fresh object each time, so callers need no defensive copy). The keys of
 * the lazy indexes come from one byte scan of each line (envelopeScan), done only when an index
 * is first needed and then kept in columns; actor and correlation/causation ids are kept as
 * hashes, so their lists are supersets that the index's filter check narrows.
 */
export class LineRows implements EventRows {
  readonly #pool: ChunkPool;
  #chunks: Buffer[] = [];
  /** Bytes used in the last chunk. */
  #used = CHUNK_BYTES;
  #n = 0;
  /** Rows dropped from the front: positions are offsets past them. */
  #base = 0;
  #released = false;
  #chunkOf = new Uint32Array(1024);
  #starts = new Uint32Array(1024);
  #lengths = new Uint32Array(1024);
  /** Event types, one string per distinct name (the type index is eager, evictions need them). */
  #types: string[] = [];

  // Filled by #scanTo, in row order, the first time a lazy index or a time is asked for.
  #scanned = 0;
  #streams: string[] = [];
  #tenants: string[] = [];
  #hashes = new Uint32Array(0);
  #present = new Uint8Array(0);
  #times = new Float64Array(0);
  #tags = new Map<number, string[]>();
  readonly #scratch = emptyEnvelope();
  /** Types and tenants are few: one string each, instead of one per row. */
  readonly #typeNames = new Map<string, string>();
  readonly #tenantNames = new Map<string, string>();

  constructor(pool = new ChunkPool()) {
    this.#pool = pool;
  }

  get length(): number {
    return this.#n - this.#base;
  }

  /**
   * Adds a row. Its line's bytes are copied by the next flush() (or read of a row): consecutive
   * lines of one buffer, one separator byte apart (a batch as written), are copied in one go. A
   * copy per line cost ~0.2 µs each, mostly Buffer.copy making a view of its source.
   */
  push(e: StoredEvent, line?: LineBytes): number {
    if (this.#released) throw new Error('LineRows used after release');
    const bytes = line ?? fromEvent(e);
    const len = bytes.length;
    let at: number;
    if (
      bytes.buf === this.#runSrc &&
      bytes.start === this.#runTo + 1 &&
      this.#used + 1 + len <= CHUNK_BYTES
    ) {
      // Next to the run's last line in both places: the separator byte is copied along.
      at = this.#used + 1;
      this.#runTo = bytes.start + len;
    } else {
      this.flush();
      if (this.#used + len > CHUNK_BYTES) {
        // A line larger than a chunk gets a buffer of its own (not pooled).
        this.#chunks.push(len > CHUNK_BYTES ? Buffer.allocUnsafeSlow(len) : this.#pool.take());
        this.#used = 0;
      }
      at = this.#used;
      this.#runSrc = bytes.buf;
      this.#runFrom = bytes.start;
      this.#runTo = bytes.start + len;
      this.#runAt = at;
    }
    const chunk = this.#chunks.length - 1;
    const i = this.#n;
    if (i === this.#starts.length) {
      this.#chunkOf = grow(this.#chunkOf, i * 2);
      this.#starts = grow(this.#starts, i * 2);
      this.#lengths = grow(this.#lengths, i * 2);
    }
    this.#chunkOf[i] = chunk;
    this.#starts[i] = at;
    this.#lengths[i] = len;
    this.#types.push(this.#intern(this.#typeNames, e.type));
    this.#used = len > CHUNK_BYTES ? CHUNK_BYTES : at + len;
    this.#n++;
    return len + ROW_OVERHEAD;
  }

  // The run of pushed lines not copied yet: source bytes [#runFrom, #runTo) go to the last chunk at #runAt.
  #runSrc: Buffer | undefined;
  #runFrom = 0;
  #runTo = 0;
  #runAt = 0;

  /** Copies the lines pushed since the last flush: the buffers they came from may be reused after it. */
  flush(): void {
    const src = this.#runSrc;
    if (src === undefined) return;
    this.#runSrc = undefined;
    src.copy(this.#chunks[this.#chunks.length - 1]!, this.#runAt, this.#runFrom, this.#runTo);
  }

  /** Hands the chunks back to the pool; the rows must not be used again. */
  release(): void {
    this.#released = true;
    this.#runSrc = undefined;
    this.#pool.give(this.#chunks);
    this.#chunks = [];
  }

  /** The chunk and offsets of absolute row i. */
  #bytesOf(i: number): [Buffer, number, number] {
    if (this.#released) throw new Error('LineRows used after release');
    this.flush();
    const s = this.#starts[i]!;
    return [this.#chunks[this.#chunkOf[i]!]!, s, s + this.#lengths[i]!];
  }

  #line(pos: number): string {
    const [b, s, end] = this.#bytesOf(pos + this.#base);
    return b.toString('utf8', s, end);
  }

  event(pos: number): StoredEvent {
    return parseStoredLine(this.#line(pos), 'a hot-tier line');
  }

  id(pos: number): string {
    const [b, s, end] = this.#bytesOf(pos + this.#base);
    return scanId(b, s, end) ?? this.event(pos).id;
  }

  key(kind: RowKeyKind, pos: number): RowKey | string[] | undefined {
    const i = pos + this.#base;
    if (kind === 'type') return this.#types[i];
    this.#scanTo(i);
    switch (kind) {
      case 'stream':
        return this.#streams[i];
      case 'streamType':
        return `${this.#streams[i]}\u0000${this.#types[i]}`;
      case 'tenant':
        return this.#tenants[i];
      case 'actor':
        return this.#present[i]! & 1 ? this.#hashes[i * 3]! : undefined;
      case 'correlation':
        return this.#present[i]! & 2 ? this.#hashes[i * 3 + 1]! : undefined;
      case 'causation':
        return this.#present[i]! & 4 ? this.#hashes[i * 3 + 2]! : undefined;
      case 'tag': {
        const t = this.#tags.get(i);
        return t ? [...new Set(t)] : undefined;
      }
      case 'hour':
        return Math.floor(this.#times[i]! / HOUR);
    }
  }

  lookup(kind: RowKeyKind, value: string): RowKey {
    return HASHED.has(kind) ? keyHash32(value) : value;
  }

  timeMs(pos: number): number {
    const i = pos + this.#base;
    this.#scanTo(i);
    return this.#times[i]!;
  }

  dropFirst(n: number): void {
    // The bytes stay until the whole generation goes (a seal drops it at once); only positions move.
    this.#base += Math.min(n, this.length);
  }

  /** Scans rows up to and including i (absolute), filling the key columns. */
  #scanTo(i: number): void {
    if (i < this.#scanned) return;
    if (this.#times.length <= i) {
      const cap = this.#starts.length;
      this.#hashes = grow(this.#hashes, cap * 3);
      this.#present = grow(this.#present, cap);
      this.#times = grow(this.#times, cap);
    }
    const env = this.#scratch;
    for (let r = this.#scanned; r <= i; r++) {
      const [b, s, end] = this.#bytesOf(r);
      if (scanEnvelope(b, s, end, env)) {
        this.#streams[r] = env.stream;
        this.#tenants[r] = this.#intern(this.#tenantNames, env.tenant);
        this.#hashes[r * 3] = env.hashes[4]!;
        this.#hashes[r * 3 + 1] = env.hashes[5]!;
        this.#hashes[r * 3 + 2] = env.hashes[6]!;
        this.#present[r] = env.present;
        this.#times[r] = env.time;
        if (env.tags) this.#tags.set(r, env.tags);
      } else this.#fromParse(r);
    }
    this.#scanned = i + 1;
  }

  /** A line the scanner does not take (not storedLine's exact shape): its keys from a full parse. */
  #fromParse(r: number): void {
    const [b, s, end] = this.#bytesOf(r);
    const e = parseStoredLine(b.toString('utf8', s, end), 'a hot-tier line');
    this.#streams[r] = e.stream;
    this.#tenants[r] = this.#intern(this.#tenantNames, e.tenant);
    let present = 0;
    for (const [bit, v] of [e.actor, e.correlationId, e.causationId].entries()) {
      if (v === undefined) continue;
      this.#hashes[r * 3 + bit] = keyHash32(v);
      present |= 1 << bit;
    }
    this.#present[r] = present;
    this.#times[r] = Date.parse(e.time);
    if (e.tags) this.#tags.set(r, e.tags);
  }

  /** One string per distinct name: a parsed line's type would otherwise be kept once per row. */
  #intern(names: Map<string, string>, s: string): string {
    let v = names.get(s);
    if (v === undefined) names.set(s, (v = s));
    return v;
  }
}

function fromEvent(e: StoredEvent): LineBytes {
  const buf = Buffer.from(storedLineOf(e));
  return { buf, start: 0, length: buf.length };
}

function grow<T extends Float64Array | Uint32Array | Uint8Array>(a: T, cap: number): T {
  const bigger = new (a.constructor as new (n: number) => T)(Math.max(cap, 1024));
  bigger.set(a);
  return bigger;
}
