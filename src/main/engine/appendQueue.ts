import type { NormalisedEvent, StoredEvent } from '../../shared/event';
import type { AppendOptions, AppendResult } from './types';
import type { Sequencer } from './sequencer';

/** Where a commit group goes: made durable first, then made visible. */
export interface CommitSink {
  /** Makes the events durable; resolves only when they survive a crash. Must undo partial writes on failure. */
  persist(events: StoredEvent[]): Promise<void>;
  /** Makes durable events visible to readers (indexes, hot tier, subscribers). */
  publish(events: StoredEvent[]): void;
  /**
   * The caller's own copy of a stored event (the store never shares its objects). Made when the
   * caller first reads `events`: most writers (importers, followers) never do.
   */
  present(event: StoredEvent): StoredEvent;
  /** Called when the queue has just run empty (the store may use the pause, e.g. for a collection). */
  idle?(stillIdle: () => boolean): void;
}

interface Pending {
  /** A task that must run alone between commit groups (rotation, sealing on demand). */
  task?: () => Promise<unknown>;
  events: NormalisedEvent[];
  options?: AppendOptions;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: append calls that arrive while a write is in flight are gathered and made durable
 * by the next single write + fsync, so many concurrent appends share one fsync. Each call is
 * accepted or refused on its own (a conflict in one never fails another); a failed write fails
 * exactly the calls in its group, and their provisional seqs are forgotten.
 */
export class AppendQueue {
  #pending: Pending[] = [];
  #running = false;
  #idle: Promise<void> = Promise.resolve();
  #markIdle: () => void = () => {};

  constructor(
    private readonly sequencer: Sequencer,
    private readonly sink: CommitSink,
    private readonly clock: () => string = () => new Date().toISOString(),
  ) {}

  enqueue(events: NormalisedEvent[], options?: AppendOptions): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      this.#pending.push({ events, options, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  /** Runs `task` alone, after every append queued before it and before any queued after it. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ task, events: [], resolve: resolve as (r: unknown) => void, reject });
      if (!this.#running) void this.#drain();
    });
  }

  /** Resolves once every queued append has settled. */
  idle(): Promise<void> {
    return this.#idle;
  }

  async #drain(): Promise<void> {
    this.#running = true;
    this.#idle = new Promise((r) => (this.#markIdle = r));
    try {
      while (this.#pending.length > 0) {
        const first = this.#pending[0]!;
        if (first.task) {
          this.#pending.shift();
          await first.task().then(first.resolve as (r: unknown) => void, first.reject);
          continue;
        }
        const n = this.#pending.findIndex((p) => p.task);
        const group = n === -1 ? this.#pending : this.#pending.slice(0, n);
        this.#pending = n === -1 ? [] : this.#pending.slice(n);
        await this.#commitGroup(group);
      }
    } finally {
      this.#running = false;
      this.#markIdle();
      this.sink.idle?.(() => !this.#running);
    }
  }

  async #commitGroup(group: Pending[]): Promise<void> {
    const recordedAt = this.clock();
    const accepted: { p: Pending; results: StoredEvent[]; fresh: number; duplicates: number }[] = [];
    const fresh: StoredEvent[] = [];
    for (const p of group) {
      try {
        const a = this.sequencer.assign(p.events, p.options, recordedAt);
        accepted.push({ p, results: a.results, fresh: a.fresh.length, duplicates: a.duplicates });
        for (const e of a.fresh) fresh.push(e);
      } catch (err) {
        p.reject(err);
      }
    }
    if (accepted.length === 0) return;
    let durable: Promise<void> | undefined;
    try {
      durable = fresh.length > 0 ? this.sink.persist(fresh) : undefined;
    } catch (err) {
      durable = Promise.reject(err);
    }
    try {
      await durable;
    } catch (err) {
      this.sequencer.abort();
      for (const a of accepted) a.p.reject(err);
      return;
    }
    this.sink.publish(fresh);
    this.sequencer.commit();
    const lastSeq = this.sequencer.lastSeq;
    for (let i = 0; i < accepted.length; i++) {
      const a = accepted[i]!;
      a.p.resolve(
        lazyResult(a.results, this.sink.present, { appended: a.fresh, duplicates: a.duplicates, lastSeq }),
      );
    }
  }
}

/** Where a lazy result keeps what its `events` are made from (a symbol, not enumerable: JSON and clones skip it). */
const LAZY = Symbol('lazyEvents');
type LazyResult = AppendResult & {
  [LAZY]: { results: StoredEvent[]; present: (e: StoredEvent) => StoredEvent } | undefined;
};

/** Makes `events` a plain data property from then on, and drops what it was made from. */
function settleEvents(out: LazyResult, events: StoredEvent[]): StoredEvent[] {
  Object.defineProperty(out, 'events', {
    value: events,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  out[LAZY] = undefined;
  return events;
}
const LAZY_EVENTS: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: LazyResult): StoredEvent[] {
    const lazy = this[LAZY]!;
    return settleEvents(this, lazy.results.map(lazy.present));
  },
  set(this: LazyResult, events: StoredEvent[]): void {
    settleEvents(this, events);
  },
};

/**
 * An append's result whose `events` are the caller's copies, made on first read (a plain,
 * enumerable property from then on, so JSON and structured clone see it like any other).
 *
 * Every result has one shape: a literal, and one accessor pair shared by all. V8 allocates the
 * getter/setter pair of Object.defineProperty in its old generation, so when the pair held a closure
 * per result (as it did), a dead result's pair kept that call's events, their strings and the lines
 * they were cut from alive through every young collection until the next full one. With the
 * sequencer's cleared id map (see Sequencer), a 1M-line import promoted 869 MB of its 3.4 GB of
 * allocations to the old generation; 134 MB without either.
 */
function lazyResult(
  results: StoredEvent[],
  present: (e: StoredEvent) => StoredEvent,
  rest: Omit<AppendResult, 'events'>,
): AppendResult {
  const out = { appended: rest.appended, duplicates: rest.duplicates, lastSeq: rest.lastSeq } as LazyResult;
  Object.defineProperty(out, LAZY, { value: { results, present }, writable: true, configurable: true });
  Object.defineProperty(out, 'events', LAZY_EVENTS);
  return out;
}
