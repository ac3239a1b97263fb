import type { StoredEvent } from '../../shared/event';
import { matchesFilter } from '../../shared/query';
import type { EventStore, SubscribeOptions, Subscription } from './types';

/** A latch that store writers trip after each commit, waking every waiting subscriber. */
export class ChangeSignal {
  #waiters: (() => void)[] = [];
  /** Resolves at the next notify(). */
  next(): Promise<void> {
    return new Promise((r) => this.#waiters.push(r));
  }
  notify(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const r of w) r();
  }
}

const PAGE = 512;

/**
 * Catch-up then live: reads pages with seq > position until caught up, then waits for the next
 * commit. Because commits become visible in seq order and reads are by position, an event is
 * never missed or delivered twice, whatever appends run meanwhile.
 */
export class StoreSubscription implements Subscription {
  #position = 0;
  #closed = false;
  #started = false;

  constructor(
    private readonly store: EventStore,
    private readonly signal: ChangeSignal,
    private readonly options: SubscribeOptions = {},
  ) {}

  get position(): number {
    return this.#position;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.signal.notify();
    if (this.options.name && this.#started)
      await this.store.setCheckpoint(this.options.name, this.#position).catch(() => {});
  }

  async *[Symbol.asyncIterator](): AsyncIterator<StoredEvent> {
    this.#started = true;
    const { name, filter } = this.options;
    const saved = name ? await this.store.getCheckpoint(name) : undefined;
    this.#position = saved ?? Math.max(0, (this.options.fromSeq ?? 1) - 1);
    while (!this.#closed) {
      const waiting = this.signal.next();
      if (this.store.lastSeq() <= this.#position) {
        await waiting;
        continue;
      }
      const page = await this.store.readAll(this.#position + 1, PAGE);
      if (page.length === 0) {
        // Nothing readable yet past our position (e.g. a seal in flight): wait instead of spinning.
        await waiting;
        continue;
      }
      for (const e of page) {
        if (this.#closed) return;
        this.#position = e.seq;
        if (!filter || matchesFilter(e, filter)) {
          yield e;
          // The consumer asked for more, so it is done with e: at-least-once across restarts.
          if (name && !this.#closed) await this.store.setCheckpoint(name, e.seq);
        }
      }
      if (name && !this.#closed && page.length > 0) await this.store.setCheckpoint(name, this.#position);
    }
  }
}
