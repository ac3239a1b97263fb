/**
 * One shared instance per distinct string (stream, type, actor…): a store that keeps every event
 * in memory would otherwise keep one copy of a name per event (W1M: 515 instead of 610 MB of heap
 * for a million events). Bounded: past `max` distinct values it starts over, so a high-cardinality
 * field costs a little sharing, never unbounded memory.
 */
export class Interner {
  readonly #m = new Map<string, string>();
  constructor(private readonly max = 300_000) {}

  get(s: string): string {
    const hit = this.#m.get(s);
    if (hit !== undefined) return hit;
    if (this.#m.size >= this.max) this.#m.clear();
    this.#m.set(s, s);
    return s;
  }
}
