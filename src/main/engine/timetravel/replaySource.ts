import type { StoredEvent } from '../../../shared/event';
import type { EventFilter } from '../../../shared/query';
import type { EventStore } from '../types';

/** The events a replay walks: a filter within a seq range, minus the ones skipped after errors. */
export class ReplaySource {
  constructor(
    readonly store: EventStore,
    readonly filter: EventFilter,
    readonly from: number,
    readonly to: number,
    readonly skipped: Set<number>,
  ) {}

  /** Up to `limit` events after seq `position`, in seq order. */
  async after(position: number, limit: number): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    let fromSeq = Math.max(position + 1, this.from);
    while (out.length < limit && fromSeq <= this.to) {
      const page = (
        await this.store.query(
          { ...this.filter, fromSeq, toSeq: this.to },
          { order: 'asc', limit: limit - out.length },
        )
      ).events;
      if (page.length === 0) break;
      for (const e of page) if (!this.skipped.has(e.seq)) out.push(e);
      fromSeq = page[page.length - 1]!.seq + 1;
    }
    return out;
  }

  /** The last event (not skipped) with seq in [from, position]: the one a step back undoes. */
  async lastUpTo(position: number): Promise<StoredEvent | undefined> {
    let toSeq = Math.min(position, this.to);
    while (toSeq >= this.from) {
      const page = (
        await this.store.query({ ...this.filter, fromSeq: this.from, toSeq }, { order: 'desc', limit: 64 })
      ).events;
      if (page.length === 0) return undefined;
      const hit = page.find((e) => !this.skipped.has(e.seq));
      if (hit) return hit;
      toSeq = page[page.length - 1]!.seq - 1;
    }
    return undefined;
  }

  /** Events (not skipped) with seq in (after, upTo], in pages: what a refold applies. */
  async *between(after: number, upTo: number, page = 2000): AsyncGenerator<StoredEvent[]> {
    let position = after;
    while (position < upTo) {
      const events = (await this.after(position, page)).filter((e) => e.seq <= upTo);
      if (events.length === 0) return;
      yield events;
      position = events[events.length - 1]!.seq;
    }
  }
}
