import {
  copyEvent,
  normaliseEvent,
  type EventInput,
  type NormalisedEvent,
  type StoredEvent,
} from '../../../shared/event';
import { ChronoscopeError } from '../../../shared/errors';
import {
  decodeCursor,
  encodeCursor,
  parseFilter,
  parseQueryOptions,
  type EventFilter,
  type QueryOptions,
  type QueryPage,
} from '../../../shared/query';
import { AppendQueue } from '../appendQueue';
import { EncodedEvent, plainEvent } from '../encodedEvent';
import { scheduleIdleScavenge } from '../idleScavenge';
import { Interner } from '../interner';
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
import { MemoryIndex } from './MemoryIndex';
import { Metrics } from '../metrics';
import { finishHistogram, planBuckets } from '../histogram';
import type { Histogram } from '../../../shared/storeTypes';

/** The ephemeral backend: everything in a MemoryIndex, nothing on disk. */
export class MemoryStore implements EventStore {
  readonly backend = 'memory' as const;
  readonly readOnly = false;
  readonly metrics = new Metrics();
  readonly #index = new MemoryIndex();
  readonly #signal = new ChangeSignal();
  readonly #checkpoints = new Map<string, number>();
  readonly #sequencer: Sequencer;
  readonly #streamCells = new Map<string, StreamCell>();
  readonly #queue: AppendQueue;
  #closed = false;

  constructor() {
    // Every event stays in memory here, so names are shared (the file backend's hot tier is brief).
    this.#sequencer = new Sequencer(
      0,
      {
        streamCell: (s) => {
          let c = this.#streamCells.get(s);
          if (c === undefined)
            this.#streamCells.set(s, (c = { version: this.#index.streamVersion(s), pending: -1 }));
          return c;
        },
        knownCell: (s) => this.#streamCells.get(s),
        eventById: (id) => this.#index.getById(id),
      },
      new Interner(),
    );
    this.#queue = new AppendQueue(this.#sequencer, {
      persist: async () => {},
      publish: (events) => {
        for (const e of events) this.#index.add(e);
        this.#signal.notify();
      },
      present: copyEvent,
      idle: scheduleIdleScavenge,
    });
  }

  #open(): void {
    if (this.#closed) throw new ChronoscopeError('CLOSED', 'the store is closed');
  }

  async append(events: EventInput[], options?: AppendOptions): Promise<AppendResult> {
    this.#open();
    return this.metrics.time('append', async () => {
      // The queue's results are already the caller's own copies (sink.present).
      return this.#queue.enqueue(validateBatch(events), options);
    });
  }

  async appendNormalised(events: NormalisedEvent[], options?: AppendOptions): Promise<AppendResult> {
    this.#open();
    // This store keeps objects: events an importer holds as text are parsed once here.
    const plain = events.some((e) => e instanceof EncodedEvent) ? events.map(plainEvent) : events;
    return this.metrics.time('append', async () => this.#queue.enqueue(plain, options));
  }

  async getEvent(id: string): Promise<StoredEvent | undefined> {
    this.#open();
    return this.metrics.timeSync('getEvent', () => {
      const e = this.#index.getById(id);
      return e && copyEvent(e);
    });
  }

  async getBySeq(seq: number): Promise<StoredEvent | undefined> {
    this.#open();
    const e = this.#index.getBySeq(seq);
    return e && copyEvent(e);
  }

  async readStream(
    stream: string,
    fromVersion = 1,
    toVersion = Number.MAX_SAFE_INTEGER,
  ): Promise<StoredEvent[]> {
    this.#open();
    return this.metrics.timeSync('readStream', () =>
      this.#index
        .stream(stream)
        .filter((e) => e.version >= fromVersion && e.version <= toVersion)
        .map(copyEvent),
    );
  }

  async query(filter?: EventFilter, options?: QueryOptions): Promise<QueryPage> {
    this.#open();
    const f = parseFilter(filter);
    const o = parseQueryOptions(options);
    return this.metrics.timeSync('query', () => {
      const after = o.cursor === undefined ? undefined : decodeCursor(o.cursor, o.order);
      const r = this.#index.query(f, o.order, o.limit, after);
      r.events = r.events.map(copyEvent);
      this.metrics.count(`index.${r.plan.index}`);
      const last = r.events[r.events.length - 1];
      return {
        events: r.events,
        plan: r.plan,
        nextCursor: r.events.length === o.limit && last ? encodeCursor(last.seq, o.order) : undefined,
      };
    });
  }

  async readAll(fromSeq = 1, limit = 1000): Promise<StoredEvent[]> {
    this.#open();
    return this.#index.readFrom(fromSeq, limit).map(copyEvent);
  }

  subscribe(options?: SubscribeOptions): Subscription {
    this.#open();
    return new StoreSubscription(this, this.#signal, options);
  }

  async getCheckpoint(name: string): Promise<number | undefined> {
    return this.#checkpoints.get(name);
  }
  async setCheckpoint(name: string, seq: number): Promise<void> {
    this.#checkpoints.set(name, seq);
  }

  lastSeq(): number {
    return this.#sequencer.lastSeq;
  }

  async stats(): Promise<StoreStats> {
    const { types, tenants } = this.#index.counts();
    return {
      backend: 'memory',
      readOnly: false,
      events: this.#index.size,
      streams: this.#index.streamCount(),
      firstSeq: this.#index.firstSeq,
      lastSeq: this.#index.lastSeq,
      firstTime: this.#index.firstEvent()?.time,
      lastTime: this.#index.lastEvent()?.time,
      types,
      tenants,
      storage: {
        hotBytes: this.#index.bytes,
        hotEvents: this.#index.size,
        activeSegmentBytes: 0,
        sealedSegmentBytes: 0,
        sealedSegments: 0,
        indexBytes: 0,
      },
    };
  }

  async histogram(filter?: EventFilter, options?: { buckets?: number }): Promise<Histogram> {
    this.#open();
    const f = parseFilter(filter);
    return this.metrics.timeSync('histogram', () => {
      const b = this.#index.timeBounds();
      const lo = f.since !== undefined ? Date.parse(f.since) : (b?.min ?? Date.now());
      const hi = f.until !== undefined ? Date.parse(f.until) - 1 : (b?.max ?? lo);
      const plan = planBuckets(lo, Math.max(lo, hi), options?.buckets);
      const counts = new Array<number>(plan.n).fill(0);
      this.#index.histogram(f, plan.from, plan.bucketMs, counts);
      return finishHistogram(plan.from, plan.bucketMs, counts);
    });
  }

  async health(): Promise<StoreHealth> {
    return {
      status: 'ok',
      problems: [],
      lastSeq: this.lastSeq(),
      sealBacklog: 0,
      metrics: this.metrics.snapshot(),
    };
  }

  async verify(): Promise<VerifyReport> {
    return { ok: true, checkedEvents: this.#index.size, checkedSegments: 0, issues: [] };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#queue.idle();
    this.#closed = true;
    this.#signal.notify();
  }
}

/** Validates every input before any is assigned, so a bad event fails its whole append call. */
export function validateBatch(events: EventInput[]): ReturnType<typeof normaliseEvent>[] {
  if (!Array.isArray(events))
    throw new ChronoscopeError('INVALID_ARGUMENT', 'append expects an array of events');
  return events.map((e, i) => {
    try {
      return normaliseEvent(e);
    } catch (err) {
      if (err instanceof ChronoscopeError) {
        throw new ChronoscopeError(err.code, `event ${i}: ${err.message}`, { ...err.details, index: i });
      }
      throw err;
    }
  });
}
