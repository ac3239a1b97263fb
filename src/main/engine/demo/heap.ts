import type { PendingEvent } from './journey';

/**
 * A binary min-heap of pending events ordered by (time, insertion order), so events come out in
 * time order and ties keep the order they were emitted in (causes before effects).
 */
export class EventHeap {
  readonly #items: { t: number; n: number; p: PendingEvent }[] = [];
  #pushed = 0;

  /** Number of queued events. */
  get size(): number {
    return this.#items.length;
  }

  /** Time of the earliest queued event (Infinity when empty). */
  peekTime(): number {
    return this.#items.length ? this.#items[0]!.t : Infinity;
  }

  /** Queues one event. */
  push(p: PendingEvent): void {
    const a = this.#items;
    const item = { t: p.t, n: this.#pushed++, p };
    let i = a.length;
    a.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const q = a[parent]!;
      if (q.t < item.t || (q.t === item.t && q.n < item.n)) break;
      a[i] = q;
      i = parent;
    }
    a[i] = item;
  }

  /** Removes and returns the earliest event; undefined when empty. */
  pop(): PendingEvent | undefined {
    const a = this.#items;
    const top = a[0];
    const end = a.pop();
    if (!top || !end || a.length === 0) return top?.p;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= a.length) break;
      const r = a[c + 1];
      if (r && (r.t < a[c]!.t || (r.t === a[c]!.t && r.n < a[c]!.n))) c++;
      const child = a[c]!;
      if (end.t < child.t || (end.t === child.t && end.n < child.n)) break;
      a[i] = child;
      i = c;
    }
    a[i] = end;
    return top.p;
  }
}
