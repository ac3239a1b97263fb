import { closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import {
  copyEvent,
  parseStoredLine,
  type EventInput,
  type NormalisedEvent,
  type StoredEvent,
} from '../../../shared/event';
import { ChronoscopeError, fromIoError } from '../../../shared/errors';
import {
  decodeCursor,
  encodeCursor,
  parseFilter,
  parseQueryOptions,
  type EventFilter,
  type QueryOptions,
  type QueryPage,
} from '../../../shared/query';
import { storedLineOf } from '../encodedEvent';
import { scheduleIdleScavenge } from '../idleScavenge';
import { AppendQueue } from '../appendQueue';
import { HotTier } from './HotTier';
import { validateBatch } from '../memory/MemoryStore';
import { Metrics } from '../metrics';
import { ownString } from '../ownString';
import { Sequencer, type StreamCell } from '../sequencer';
import { ChangeSignal, StoreSubscription } from '../subscription';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  StoreHealth,
  StoreStats,
  SubscribeOptions,
  Subscription,
  VerifyReport,
} from '../types';
import { ActiveSegment, readNewLines } from './ActiveSegment';
import { crc32 } from './checksum';
import { activeSegmentName, parseSegmentName, storePaths, type StorePaths } from './layout';
import { StoreLock } from './lock';
import { emptyReport, openIndex, recoverSegments, type OpenReport } from './recovery';
import { sealSegment } from './sealer';
import { fsyncDirAsync, unlinkDurablyAsync } from './durableAsync';
import { newStreamsOnly, type KeyCounts, type SegmentRecord, type SqliteIndex } from './SqliteIndex';
import { DEFAULT_INDEX_CACHE_BYTES, SealedTier, type RecordSource, type SealedSegment } from './SealedTier';
import { SealedReader, type SealedFile } from './SealedReader';
import { verifyStore } from './verify';
import { finishHistogram, planBuckets } from '../histogram';
import type { Histogram } from '../../../shared/storeTypes';
import { SealWorkerClient } from './SealWorkerClient';
import { idCheck } from './idHashes';
import { keyHash } from './keyHash';
import { PendingIdChecks } from './pendingIdChecks';
import { IdHashMemo } from './idHashMemo';
import { sealedFileArtifacts } from './recovery';
import { repairStore, type RepairReport } from './repair';
import type { SegmentArtifacts } from './segmentArtifacts';

export interface FileStoreOptions {
  /** Seal the active segment once it holds this many bytes. */
  segmentMaxBytes: number;
  /** Seal the active segment once its first event is this old (ms); 0 = never by age. */
  segmentMaxAgeMs: number;
  /**
   * Memory budget of the hot tier (its lines and columns). The active segment is rotated early once it
   * alone holds half of it; past the whole budget, appends wait for the sealer to catch up.
   */
  hotTierMaxBytes: number;
  /** zlib level for sealed segments. */
  compressionLevel: number;
  /** Budget for inflated blocks kept in memory. */
  blockCacheBytes: number;
  /**
   * Budget for the sealed tier's memory: the id table (4 bytes per sealed event, always resident)
   * and the segment indexes cached beside it (~37 bytes per sealed event on W1M) in what remains; the
   * others are read from the catalogue when a query needs them.
   */
  indexCacheBytes: number;
  /** Uncompressed bytes per gzip member (≤ 65,280): smaller blocks make random reads cheaper. */
  blockBytes: number;
  /** Seal in a worker thread (default) so appends and queries never wait for compression or indexing. */
  sealInWorker: boolean;
  readOnly: boolean;
  /** Create the store folder if it does not exist (read-write only). */
  create: boolean;
}

/** SQLite page cache of the store's own connection (the seal worker's keeps the default). */
const HOST_PAGE_CACHE_KIB = 16 << 10;

/** Bytes of the reused append encoding buffer kept between groups (a batch of 1,000 W1M events is ~370 KB). */
const BUF_KEEP = 1 << 20;

export const DEFAULT_FILE_OPTIONS: FileStoreOptions = {
  segmentMaxBytes: 16 << 20,
  segmentMaxAgeMs: 0,
  hotTierMaxBytes: 256 << 20,
  compressionLevel: 5,
  blockCacheBytes: 32 << 20,
  indexCacheBytes: DEFAULT_INDEX_CACHE_BYTES,
  blockBytes: 16 << 10,
  sealInWorker: true,
  readOnly: false,
  create: true,
};

/**
 * The embedded default backend (DESIGN §3): durable appends to a plain JSONL segment with group
 * commit, sealed blocked-gzip segments indexed in SQLite, and the newest events in a MemoryIndex hot
 * tier. Seqs ≤ indexedThrough are answered by SQLite, the rest by the hot tier.
 */
export class FileStore implements EventStore {
  readonly backend = 'file' as const;
  readonly metrics = new Metrics();
  readonly report: OpenReport;
  readonly #paths: StorePaths;
  readonly #opts: FileStoreOptions;
  readonly #ix: SqliteIndex;
  readonly #lock?: StoreLock;
  readonly #hot = new HotTier();
  readonly #signal = new ChangeSignal();
  readonly #reader: SealedReader;
  readonly #worker = SealWorkerClient.shared;
  /** Open sealed files; the record names the catalogue row they were opened for. */
  readonly #fds = new Map<
    number,
    { id: number; fd: number; bytes: number; name: string; rec: SegmentRecord }
  >();
  #sealed: SealedTier;
  readonly #source: RecordSource;
  readonly #sequencer: Sequencer;
  readonly #queue: AppendQueue;
  /** Plain segments waiting to be sealed, oldest first (the active one is not among them). */
  #toSeal: string[] = [];
  #sealing: Promise<void> | undefined;
  #sealError: unknown;
  #active: ActiveSegment | undefined;
  #activeFirstTime = 0;
  #closed = false;
  /**
   * The last version of every stream appended or loaded since open (a stream's last version never
   * changes by sealing); a stream missing here is looked up in the sealed tier once. One lookup
   * per appended event instead of one per hot generation.
   */
  #streamCells = new Map<string, StreamCell>();
  /** Check bytes of unsealed ids, for the sealed id table once their segment is sealed. */
  readonly #idChecks = new PendingIdChecks();
  /** Hashes of the ids the sequencer looked up, for #publish of the same group. */
  readonly #idHashes = new IdHashMemo();

  private constructor(
    paths: StorePaths,
    opts: FileStoreOptions,
    ix: SqliteIndex,
    report: OpenReport,
    lock?: StoreLock,
  ) {
    this.#paths = paths;
    this.#opts = opts;
    this.#ix = ix;
    ix.limitPageCache(HOST_PAGE_CACHE_KIB);
    this.report = report;
    this.#lock = lock;
    this.#reader = new SealedReader(opts.blockCacheBytes);
    this.#source = {
      raw: (seg, ord, scan) => this.#raw(seg, ord, scan),
      parse: (seg, ord, raw) =>
        parseStoredLine(raw.toString('utf8'), `${seg.rec.name} seq ${seg.ix.firstSeq + ord}`),
    };
    this.#sealed = new SealedTier(ix, this.#source, opts.indexCacheBytes, this.#spillDir());
    this.#sealed.refresh();
    this.#sequencer = new Sequencer(0, {
      streamCell: (s) => this.#streamCell(s),
      knownCell: (s) => this.#streamCells.get(s),
      // Most appended ids are new: the sealed id-hash check spares them a probe of every segment.
      // Its looks into sealed indexes do not keep them cached: readers' indexes stay.
      eventById: (id) => {
        // One hash of the id for both tiers and for #publish: keyHash's low 32 bits are keyHash32.
        const h = this.#idHashes.note(id);
        return (
          this.#hot.getById(id, h % 0x1_0000_0000) ??
          (this.#sealed.mayHaveId(id, h) ? this.#sealed.getById(id, true) : undefined)
        );
      },
    });
    this.#queue = new AppendQueue(this.#sequencer, {
      persist: (ev) => this.#persist(ev),
      publish: (ev) => this.#publish(ev),
      present: copyEvent,
      idle: (stillIdle) => {
        this.#rotateIfDue();
        scheduleIdleScavenge(stillIdle);
      },
    });
  }

  /** A rotation started while the append queue was idle, until it settles. */
  #idleRotation: Promise<void> | undefined;
  /** Set when an idle rotation failed: the next append rotates (and reports why) itself. */
  #idleRotationFailed = false;
  #closing = false;

  /**
   * Rotates a full (or old) active segment while the append queue is idle, so that no append
   * waits for it. Rotating inside the next append made that append create the file and fsync the
   * directory (~10 ms here): every ~36th append of the soak at 20,000 ev/s, its p99.
   */
  #rotateIfDue(): void {
    if (this.#idleRotation || this.#idleRotationFailed || this.#closing || this.#closed) return;
    if (this.readOnly || !this.#active || !this.#needsRotation()) return;
    this.#idleRotation = this.#queue
      .exclusive(async () => {
        if (!this.#closing && this.#needsRotation()) await this.#rotate(this.lastSeq() + 1);
      })
      .catch(() => {
        this.#idleRotationFailed = true;
      })
      .finally(() => {
        this.#idleRotation = undefined;
      });
  }

  get readOnly(): boolean {
    return this.#opts.readOnly;
  }
  get path(): string {
    return this.#paths.root;
  }

  /**
   * Repairs a damaged store (repair.ts): cuts damaged lines and records out, rewrites what survives
   * and records the lost seqs. Works on a store that `open` refuses; takes the writer lock, so it
   * fails with LOCKED while the store is open anywhere.
   */
  static async repair(
    root: string,
    options: Partial<Pick<FileStoreOptions, 'compressionLevel' | 'blockBytes'>> = {},
  ): Promise<RepairReport> {
    return repairStore(root, options);
  }

  /** Opens (and recovers) a store folder; creates it when asked. Takes the writer lock unless read-only. */
  static async open(root: string, options: Partial<FileStoreOptions> = {}): Promise<FileStore> {
    const opts = { ...DEFAULT_FILE_OPTIONS, ...options };
    // Node throws an untyped TypeError for a NUL byte; name the problem instead.
    if (root.includes('\0'))
      throw new ChronoscopeError('INVALID_ARGUMENT', 'store path: contains a NUL byte', { field: 'path' });
    const paths = storePaths(root);
    if (!existsSync(paths.segments)) {
      if (opts.readOnly || !opts.create)
        throw new ChronoscopeError('NOT_FOUND', `no Chronoscope store at ${root} (missing segments/)`, {
          path: root,
        });
      try {
        mkdirSync(paths.segments, { recursive: true, mode: 0o700 });
      } catch (err) {
        // ENAMETOOLONG, ENOTDIR (a file in the way), EACCES…: typed, naming the store.
        throw fromIoError(err, `creating the store at ${root}`);
      }
    }
    const lock = opts.readOnly ? undefined : StoreLock.acquire(paths.lock);
    let ix: SqliteIndex | undefined;
    try {
      const report = emptyReport();
      ix = openIndex(paths, report, opts.readOnly);
      const plains = await recoverSegments(ix, paths, report, opts.readOnly);
      // Beside a live writer the index may have moved on since it was opened (a segment sealed and
      // its plain copy removed): reads route by lastIndexedSeq, so it must be current before the
      // sealed tier loads (which then holds at least as much).
      if (opts.readOnly) ix.reload();
      const store = new FileStore(paths, opts, ix, report, lock);
      await store.#loadHot(plains);
      return store;
    } catch (err) {
      ix?.close();
      lock?.release();
      throw err;
    }
  }

  async #loadHot(plains: Awaited<ReturnType<typeof recoverSegments>>): Promise<void> {
    const indexed = this.#ix.lastIndexedSeq();
    // Repair (repair.ts): seqs recorded as lost were handed out once, so they are never reused.
    let last = Math.max(indexed, this.#ix.lastLostSeq());
    // Read-only beside a live writer: a segment sealed after recovery listed the folder is both a
    // plain file and indexed; reads of seqs ≤ lastIndexedSeq go to the sealed tier, so the plain
    // copy must not count twice.
    const sealedThrough = this.readOnly ? indexed : 0;
    for (const p of plains) {
      this.#hot.startGeneration();
      this.#tailOffsets.set(p.name, p.size);
      for (const e of p.events) {
        if (e.seq > sealedThrough) {
          this.#hot.add(e);
          this.#streamCells.set(e.stream, { version: e.version, pending: -1 });
          if (!this.readOnly) this.#idChecks.set(e.seq, idCheck(keyHash(e.id)));
        }
      }
      if (p.events.length) last = Math.max(last, p.events[p.events.length - 1]!.seq);
    }
    const newest = plains[plains.length - 1];
    this.#toSeal = plains
      .slice(0, -1)
      .filter((p) => p.events.length > 0)
      .map((p) => p.name);
    this.#sequencer.reset(last);
    if (this.readOnly) return;
    if (newest) {
      this.#active = await ActiveSegment.open(
        this.#paths.segment(newest.name),
        newest.name,
        newest.firstSeq,
        newest.size,
      );
      this.#activeFirstTime = newest.events.length ? Date.now() : 0;
    } else {
      await this.#openNewActive(last + 1);
    }
    if (this.#toSeal.length) this.#kickSealer();
  }

  lastSeq(): number {
    return this.#sequencer.lastSeq;
  }

  async #openNewActive(firstSeq: number): Promise<void> {
    const name = activeSegmentName(firstSeq);
    const path = this.#paths.segment(name);
    closeSync(openSync(path, 'a', 0o600));
    try {
      await fsyncDirAsync(this.#paths.segments);
      this.#active = await ActiveSegment.open(path, name, firstSeq, statSync(path).size);
    } catch (err) {
      // An empty file named for seqs the old segment may still take would mislead recovery.
      if (statSync(path, { throwIfNoEntry: false })?.size === 0) unlinkSync(path);
      throw err;
    }
    this.#activeFirstTime = 0;
  }

  #assertWritable(): void {
    if (this.#closed) throw new ChronoscopeError('CLOSED', 'the store is closed');
    if (this.readOnly) throw new ChronoscopeError('READ_ONLY', `store ${this.#paths.root} is open read-only`);
  }
  #assertOpen(): void {
    if (this.#closed) throw new ChronoscopeError('CLOSED', 'the store is closed');
  }

  async append(events: EventInput[], options?: AppendOptions): Promise<AppendResult> {
    this.#assertWritable();
    return this.metrics.time('append', async () => {
      // The queue hands back the caller's own copies (made when the result's events are read).
      return this.#queue.enqueue(validateBatch(events), options);
    });
  }

  async appendNormalised(events: NormalisedEvent[], options?: AppendOptions): Promise<AppendResult> {
    this.#assertWritable();
    return this.metrics.time('append', async () => this.#queue.enqueue(events, options));
  }

  async #persist(events: StoredEvent[]): Promise<void> {
    await this.#awaitHotRoom();
    if (this.#needsRotation()) await this.#rotate(events[0]!.seq);
    const sizes = new Uint32Array(events.length);
    let buf = this.#buf;
    let off = 0;
    for (let i = 0; i < events.length; i++) {
      const line = storedLineOf(events[i]!);
      // UTF-8 takes at most 3 bytes per UTF-16 unit; Buffer.write would silently truncate past the end.
      const need = off + line.length * 3 + 1;
      if (need > buf.length) {
        const bigger = Buffer.allocUnsafe(Math.max(need, buf.length * 2));
        buf.copy(bigger, 0, 0, off);
        buf = bigger;
      }
      const n = buf.write(line, off);
      off += n;
      buf[off++] = 10;
      sizes[i] = n;
    }
    this.#lineSizes = sizes;
    this.#lineBuf = buf;
    // A huge group (many concurrent appends) must not pin a huge buffer for the store's life.
    this.#buf = buf.length > BUF_KEEP ? Buffer.allocUnsafe(BUF_KEEP) : buf;
    await this.#active!.append(buf.subarray(0, off));
    if (this.#activeFirstTime === 0) this.#activeFirstTime = Date.now();
  }

  /** Encoding buffer reused by every group: the queue persists one group at a time. */
  #buf = Buffer.allocUnsafe(BUF_KEEP);
  #lineSizes = new Uint32Array(0);
  /** The last group's encoded lines, for #publish to copy into the hot tier. */
  #lineBuf: Buffer | undefined;

  #publish(events: StoredEvent[]): void {
    const sizes = this.#lineSizes;
    const checks = this.#idChecks;
    // One scratch reference, moved line by line: the hot tier reads its fields at once.
    const line = { buf: this.#lineBuf!, start: 0, length: 0 };
    this.#lineBuf = undefined;
    const hashes = this.#idHashes;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const h = hashes.hashOf(e.id);
      line.length = sizes[i]!;
      this.#hot.add(e, line, h % 0x1_0000_0000);
      line.start += line.length + 1;
      checks.set(e.seq, idCheck(h));
    }
    // The lines are copied now: the next group encodes into the same buffer.
    this.#hot.flush();
    hashes.clear();
    this.#signal.notify();
  }

  /**
   * Backpressure: while the hot tier is over its budget and segments are waiting to be sealed,
   * appends wait for seals to finish (each one shrinks the hot tier). Without it, a burst faster
   * than sealing grows memory without bound. A stopped sealer (an error) does not hold appends.
   */
  async #awaitHotRoom(): Promise<void> {
    const t0 = performance.now();
    let waited = false;
    while (this.#hot.bytes >= this.#opts.hotTierMaxBytes && this.#sealing && this.#toSeal.length > 0) {
      waited = true;
      await new Promise<void>((r) => this.#sealWaiters.push(r));
    }
    if (waited) this.metrics.record('append.backpressure', performance.now() - t0);
  }
  #sealWaiters: (() => void)[] = [];
  #wakeSealWaiters(): void {
    const w = this.#sealWaiters;
    this.#sealWaiters = [];
    for (const r of w) r();
  }

  #needsRotation(): boolean {
    const a = this.#active!;
    if (a.size === 0) return false;
    if (a.size >= this.#opts.segmentMaxBytes) return true;
    // Only the active segment's own share counts: rotating because of segments already waiting to
    // be sealed would only cut tiny segments (each with a seal's fixed cost) and free nothing.
    // Its estimated heap use is estimateEventBytes summed: 400 per event + 2 × its line bytes.
    const activeEvents = this.#hot.lastSeq - a.firstSeq + 1;
    if (400 * activeEvents + 2 * a.size >= this.#opts.hotTierMaxBytes / 2) return true;
    return (
      this.#opts.segmentMaxAgeMs > 0 &&
      this.#activeFirstTime > 0 &&
      Date.now() - this.#activeFirstTime >= this.#opts.segmentMaxAgeMs
    );
  }

  /** Starts a new active segment at `firstSeq` and queues the old one for sealing. */
  async #rotate(firstSeq: number): Promise<void> {
    const old = this.#active!;
    // The new segment first: if it cannot be made (disk or inodes full), the old one stays active
    // and nothing is queued, so a retried append simply tries the rotation again.
    try {
      await this.#openNewActive(firstSeq);
    } catch (err) {
      this.#active = old;
      throw fromIoError(err, 'starting a new segment');
    }
    this.#idleRotationFailed = false;
    this.#hot.startGeneration();
    await old.close();
    if (!this.#toSeal.includes(old.name)) this.#toSeal.push(old.name);
    this.#kickSealer();
  }

  /** Forces the active segment to be sealed now (CLI `seal`, tests). Resolves when sealing is done. */
  async sealActive(): Promise<void> {
    this.#assertWritable();
    await this.#queue.exclusive(async () => {
      if (this.#active!.size > 0) await this.#rotate(this.lastSeq() + 1);
    });
    await this.flushSeals();
  }

  /** Resolves once every queued seal has finished; rethrows a sealing failure. */
  async flushSeals(): Promise<void> {
    while (this.#sealing) await this.#sealing;
    if (this.#sealError) {
      const e = this.#sealError;
      this.#sealError = undefined;
      throw e;
    }
  }

  #kickSealer(): void {
    if (this.#sealing) return;
    this.#sealing = (async () => {
      try {
        while (this.#toSeal.length > 0 && !this.#closed) {
          const name = this.#toSeal[0]!;
          await this.#sealOne(name);
          this.#toSeal.shift();
          this.#sealError = undefined;
          this.#wakeSealWaiters();
        }
      } catch (err) {
        this.#sealError = fromIoError(err, 'sealing a segment');
        this.metrics.count('seal.errors');
      } finally {
        this.#sealing = undefined;
        this.#wakeSealWaiters();
      }
    })();
  }

  async #sealOne(plainName: string): Promise<void> {
    const t0 = performance.now();
    let lastSeq: number;
    if (this.#opts.sealInWorker) {
      const r = await this.#worker.run({
        root: this.#paths.root,
        plainName,
        level: this.#opts.compressionLevel,
        blockBytes: this.#opts.blockBytes,
      });
      this.#ix.reload();
      this.#sealed.refresh((first, n) => this.#idChecks.take(first, n), r);
      lastSeq = r.lastSeq;
    } else {
      const out = await sealSegment(
        this.#paths,
        plainName,
        this.#opts.compressionLevel,
        this.#opts.blockBytes,
        (seq) => {
          const e = this.#hot.getBySeq(seq);
          if (!e) throw new ChronoscopeError('INTERNAL', `seq ${seq} of ${plainName} is not in the hot tier`);
          return e;
        },
        newStreamsOnly(this.#ix),
      );
      const segmentId = this.#ix.addSegment(out.segment, out.blob, out.counts);
      this.#sealed.refresh((first, n) => this.#idChecks.take(first, n), { segmentId, blob: out.blob });
      lastSeq = out.segment.lastSeq;
    }
    // Evicted before anything yields: queries split sealed from hot at lastIndexedSeq, so events
    // in both would be returned twice. The index commit already made them durable as sealed.
    this.#hot.evictThrough(lastSeq);
    // The seal worker removed the plain original itself, after its index commit.
    if (!this.#opts.sealInWorker)
      await unlinkDurablyAsync(this.#paths.segment(plainName), this.#paths.segments);
    this.metrics.record('seal', performance.now() - t0);
  }

  /** The segment's open file with its index (the index is not kept here: the LRU owns it). */
  #file(seg: SealedSegment): SealedFile & { name: string } {
    const rec = seg.rec;
    let f = this.#fds.get(rec.id);
    if (!f) {
      let fd: number;
      try {
        fd = openSync(this.#paths.segment(rec.name), 'r');
      } catch (err) {
        throw new ChronoscopeError(
          'CORRUPT',
          `segment ${rec.name} cannot be opened: ${(err as Error).message}`,
          { file: rec.name },
        );
      }
      f = { id: rec.id, fd, bytes: rec.bytes, name: rec.name, rec };
      this.#fds.set(rec.id, f);
    } else if (f.rec !== rec) {
      // The catalogue was reloaded: the same id may now describe other blocks.
      this.#reader.evictFile(rec.id);
      f.rec = rec;
      f.bytes = rec.bytes;
    }
    return { id: f.id, fd: f.fd, bytes: f.bytes, ix: seg.ix, name: f.name };
  }

  /** One sealed record's bytes, CRC-checked; may be a view of a cached block (use it at once). */
  #raw(seg: SealedSegment, ord: number, scan = false): Buffer {
    const f = this.#file(seg);
    const seq = seg.ix.firstSeq + ord;
    let bytes: Buffer;
    try {
      bytes = this.#reader.record(f, ord, scan);
    } catch (err) {
      if (err instanceof ChronoscopeError)
        throw new ChronoscopeError('CORRUPT', `${f.name}: ${err.message} (reading seq ${seq})`, {
          ...err.details,
          file: f.name,
          seq,
        });
      throw err;
    }
    const crc = seg.ix.crcOf(ord);
    if (crc32(bytes) !== crc) {
      const voff = seg.ix.location(ord).voff;
      throw new ChronoscopeError(
        'CORRUPT',
        `${f.name}: checksum mismatch for seq ${seq} at virtual offset ${voff}`,
        {
          file: f.name,
          offset: voff,
          seq,
        },
      );
    }
    return bytes;
  }

  #streamCell(stream: string): StreamCell {
    let c = this.#streamCells.get(stream);
    if (c === undefined)
      // The key lives as long as the store: it must not pin the line its name was cut from.
      this.#streamCells.set(
        ownString(stream),
        (c = { version: this.#sealed.lastVersion(stream), pending: -1 }),
      );
    return c;
  }

  async getEvent(id: string): Promise<StoredEvent | undefined> {
    this.#assertOpen();
    return this.metrics.timeSync('getEvent', () => {
      // The hot tier parses a fresh object per read: nothing to copy.
      return this.#hot.getById(id) ?? this.#sealed.getById(id);
    });
  }

  async getBySeq(seq: number): Promise<StoredEvent | undefined> {
    this.#assertOpen();
    return this.#hot.getBySeq(seq) ?? this.#sealed.getBySeq(seq);
  }

  async readStream(
    stream: string,
    fromVersion = 1,
    toVersion = Number.MAX_SAFE_INTEGER,
  ): Promise<StoredEvent[]> {
    this.#assertOpen();
    return this.metrics.timeSync('readStream', () => {
      const sealed = this.#sealed.stream(stream, fromVersion, toVersion);
      const hot = this.#hot.stream(stream).filter((e) => e.version >= fromVersion && e.version <= toVersion);
      return sealed.concat(hot);
    });
  }

  async query(filter?: EventFilter, options?: QueryOptions): Promise<QueryPage> {
    this.#assertOpen();
    const f = parseFilter(filter);
    const o = parseQueryOptions(options);
    return this.metrics.timeSync('query', () => {
      const after = o.cursor === undefined ? undefined : decodeCursor(o.cursor, o.order);
      const split = this.#ix.lastIndexedSeq();
      const events: StoredEvent[] = [];
      let plan: QueryPage['plan'] | undefined;
      const nothing: QueryPage['plan'] = { index: 'none', estimate: 0, scanned: 0 };
      const fromSealed = (cur: number | undefined) => {
        const r = this.#sealed.query(f, o.order, o.limit - events.length, cur);
        events.push(...r.events);
        plan = plan ? { ...plan, scanned: plan.scanned + r.plan.scanned } : r.plan;
      };
      const fromHot = (cur: number | undefined) => {
        const r = this.#hot.query(f, o.order, o.limit - events.length, cur);
        events.push(...r.events);
        plan = plan
          ? { ...plan, scanned: plan.scanned + r.plan.scanned }
          : { ...r.plan, index: `hot:${r.plan.index}` };
      };
      if (o.order === 'asc') {
        if (split > 0 && (after === undefined || after < split)) fromSealed(after);
        if (events.length < o.limit) fromHot(Math.max(after ?? 0, split));
      } else {
        if (after === undefined || after > split + 1) fromHot(after);
        if (events.length < o.limit && split > 0)
          fromSealed(after === undefined ? split + 1 : Math.min(after, split + 1));
      }
      plan ??= nothing;
      this.metrics.count(`index.${plan.index}`);
      const last = events[events.length - 1];
      return {
        events,
        plan: plan!,
        nextCursor: events.length === o.limit && last ? encodeCursor(last.seq, o.order) : undefined,
      };
    });
  }

  async readAll(fromSeq = 1, limit = 1000): Promise<StoredEvent[]> {
    this.#assertOpen();
    const out: StoredEvent[] = [];
    if (fromSeq <= this.#ix.lastIndexedSeq()) out.push(...this.#sealed.readFrom(fromSeq, limit));
    if (out.length < limit)
      out.push(...this.#hot.readFrom(Math.max(fromSeq, this.#ix.lastIndexedSeq() + 1), limit - out.length));
    return out;
  }

  subscribe(options?: SubscribeOptions): Subscription {
    this.#assertOpen();
    return new StoreSubscription(this, this.#signal, options);
  }

  async getCheckpoint(name: string): Promise<number | undefined> {
    return this.#ix.getCheckpoint(name);
  }
  async setCheckpoint(name: string, seq: number): Promise<void> {
    this.#assertWritable();
    this.#ix.setCheckpoint(name, seq);
  }

  async stats(): Promise<StoreStats> {
    this.#assertOpen();
    const segs = this.#ix.segments();
    const hotCounts = this.#hot.counts();
    const merge = (a: Record<string, number>, b: Record<string, number>) => {
      const out = { ...a };
      for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
      return out;
    };
    const knownStreams = new Set(this.#ix.streamNames());
    let hotOnlyStreams = 0;
    for (const s of Object.keys(this.#hotStreams())) if (!knownStreams.has(s)) hotOnlyStreams++;
    const first = segs.length ? await this.getBySeq(segs[0]!.firstSeq) : this.#hot.firstEvent();
    const last =
      this.#hot.lastEvent() ??
      (segs.length ? await this.getBySeq(segs[segs.length - 1]!.lastSeq) : undefined);
    const dbBytes = ['', '-wal'].reduce(
      (n, s) => n + (existsSync(this.#paths.db + s) ? statSync(this.#paths.db + s).size : 0),
      0,
    );
    return {
      backend: 'file',
      path: this.#paths.root,
      readOnly: this.readOnly,
      events: this.#ix.total + this.#hot.size,
      streams: knownStreams.size + hotOnlyStreams,
      firstSeq: first?.seq ?? 0,
      lastSeq: this.lastSeq(),
      firstTime: first?.time,
      lastTime: last?.time,
      types: merge(this.#ix.typeCounts(), hotCounts.types),
      tenants: merge(this.#ix.tenantCounts(), hotCounts.tenants),
      storage: {
        hotBytes: this.#hot.bytes,
        hotEvents: this.#hot.size,
        activeSegmentBytes: this.#active?.size ?? 0,
        sealedSegmentBytes: segs.reduce((n, s) => n + s.bytes, 0),
        sealedSegments: segs.length,
        indexBytes: dbBytes,
      },
    };
  }

  #hotStreams(): Record<string, true> {
    const out: Record<string, true> = {};
    for (const s of this.#hot.streams()) out[s] = true;
    return out;
  }

  /** Sealed segment indexes held in memory and read from the catalogue so far, and the id table's bytes. */
  indexCacheStats(): { bytes: number; size: number; loads: number; idBytes: number; idsSpilled: number } {
    return this.#sealed.cacheStats;
  }

  async histogram(filter?: EventFilter, options?: { buckets?: number }): Promise<Histogram> {
    this.#assertOpen();
    const f = parseFilter(filter);
    return this.metrics.timeSync('histogram', () => {
      const a = this.#sealed.timeBounds();
      const b = this.#hot.timeBounds();
      const min = Math.min(a?.min ?? Infinity, b?.min ?? Infinity);
      const max = Math.max(a?.max ?? -Infinity, b?.max ?? -Infinity);
      const lo = f.since !== undefined ? Date.parse(f.since) : Number.isFinite(min) ? min : Date.now();
      const hi = f.until !== undefined ? Date.parse(f.until) - 1 : Number.isFinite(max) ? max : lo;
      const plan = planBuckets(lo, Math.max(lo, hi), options?.buckets);
      const counts = new Array<number>(plan.n).fill(0);
      this.#sealed.histogram(f, plan.from, plan.bucketMs, counts);
      this.#hot.histogram(f, plan.from, plan.bucketMs, counts);
      return finishHistogram(plan.from, plan.bucketMs, counts);
    });
  }

  async health(): Promise<StoreHealth> {
    const problems = this.report.problems.map(
      (p) => `${p.file}${p.offset !== undefined ? ` at ${p.offset}` : ''}: ${p.problem}`,
    );
    if (this.#sealError) problems.push(`sealing failed: ${(this.#sealError as Error).message}`);
    return {
      status: problems.length ? 'degraded' : 'ok',
      problems,
      lastSeq: this.lastSeq(),
      sealBacklog: this.#toSeal.length,
      metrics: this.metrics.snapshot(),
    };
  }

  async verify(): Promise<VerifyReport> {
    this.#assertOpen();
    if (this.readOnly) return verifyStore(this.#paths, this.#ix, this.#sealed, this.report);
    // Alone, with no seal in flight: a half-finished seal would look like a gap or a stray file.
    return this.#queue.exclusive(async () => {
      while (this.#sealing) await this.#sealing;
      return verifyStore(this.#paths, this.#ix, this.#sealed, this.report);
    });
  }

  /**
   * For a read-only store whose writer is another process: picks up what that writer has made
   * durable since (new lines in plain segments, newly sealed segments) and wakes subscribers.
   * Returns the number of new events. A read-write store is always current, so it returns 0.
   */
  async refresh(): Promise<number> {
    this.#assertOpen();
    if (!this.readOnly) return 0;
    const before = this.lastSeq();
    this.#ix.reload();
    this.#sealed.refresh();
    const indexed = this.#ix.lastIndexedSeq();
    if (indexed > this.#hot.firstSeq - 1) this.#hot.evictThrough(indexed);
    let last = Math.max(before, indexed);
    const names = readdirSync(this.#paths.segments)
      .filter((n) => parseSegmentName(n).kind === 'active')
      .sort();
    for (const gone of [...this.#tailOffsets.keys()])
      if (!names.includes(gone)) this.#tailOffsets.delete(gone);
    for (const n of names) {
      const { events, end } = readNewLines(this.#paths.segment(n), this.#tailOffsets.get(n) ?? 0, n);
      this.#tailOffsets.set(n, end);
      for (const e of events) {
        if (e.seq <= last) continue;
        this.#hot.add(e);
        last = e.seq;
      }
    }
    this.#sequencer.reset(last);
    if (last > before) this.#signal.notify();
    return last - before;
  }
  readonly #tailOffsets = new Map<string, number>();

  /** Drops the index and rebuilds it from the sealed segments alone. */
  async rebuildIndex(): Promise<{ segments: number; events: number }> {
    this.#assertWritable();
    await this.#queue.idle();
    await this.flushSeals();
    for (const f of this.#fds.values()) {
      closeSync(f.fd);
      this.#reader.evictFile(f.id);
    }
    this.#fds.clear();
    const names = this.#ix.segments().map((s) => s.name);
    const segs: { segment: SegmentArtifacts['segment']; blob: Buffer }[] = new Array(names.length);
    const totals = new Map<number, Map<string, number>>();
    const take = (i: number, a: SegmentArtifacts) => {
      segs[i] = { segment: a.segment, blob: Buffer.from(a.blob) };
      for (const c of a.counts) {
        let m = totals.get(c.kind);
        if (!m) totals.set(c.kind, (m = new Map()));
        m.set(c.value, (m.get(c.value) ?? 0) + c.n);
      }
    };
    // Both cores: this thread and the seal worker each take the next segment until none is left.
    let next = 0;
    const lane = async (index: (name: string) => Promise<SegmentArtifacts>) => {
      while (next < names.length) {
        const i = next++;
        take(i, await index(names[i]!));
      }
    };
    await Promise.all([
      lane((n) => sealedFileArtifacts(this.#paths, n)),
      ...(this.#opts.sealInWorker ? [lane((n) => this.#worker.index(this.#paths.root, n))] : []),
    ]);
    const counts: KeyCounts = [];
    for (const [kind, m] of totals) for (const [value, n] of m) counts.push({ kind, value, n });
    this.#ix.replaceAll(segs, counts);
    this.#sealed.close();
    this.#sealed = new SealedTier(this.#ix, this.#source, this.#opts.indexCacheBytes, this.#spillDir());
    this.#sealed.refresh();
    return { segments: names.length, events: this.#ix.total };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closing = true;
    await this.#queue.idle();
    // A rotation the queue started when it last ran empty is an append-queue task of its own.
    await this.#idleRotation;
    await this.#queue.idle();
    await this.flushSeals().catch(() => {});
    this.#closed = true;
    this.#signal.notify();
    await this.#active?.close();
    for (const f of this.#fds.values()) closeSync(f.fd);
    this.#fds.clear();
    this.#sealed.close();
    this.#ix.close();
    this.#lock?.release();
  }

  /** The id table's spill folder: the store's disk, or the OS temp folder when the store is read-only. */
  #spillDir(): string | undefined {
    return this.#opts.readOnly ? undefined : this.#paths.segments;
  }
}
