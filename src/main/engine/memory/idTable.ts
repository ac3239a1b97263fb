import { keyHash32 } from '../file/keyHash';

/**
 * Event id → position in an index's event array: open addressing over two typed arrays, ~8–16
 * bytes an event where a Map<string, event> took ~40 and was one more huge object for the GC to
 * trace. A hit is confirmed against the event's real id, so hash collisions cost a probe, never a
 * wrong answer.
 */
export class IdTable {
  /** Position + 1 of the event in each slot; 0 = empty. */
  #slots = new Uint32Array(1024);
  #hashes = new Uint32Array(1024);
  #count = 0;
  readonly #idAt: (pos: number) => string;

  /** `idAt(pos)`: the id of the event at `pos` (the table keeps no strings). */
  constructor(idAt: (pos: number) => string) {
    this.#idAt = idAt;
  }

  get size(): number {
    return this.#count;
  }

  /** Position of the event with this id, or -1. */
  get(id: string): number {
    const h = keyHash32(id);
    const mask = this.#slots.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const s = this.#slots[i]!;
      if (s === 0) return -1;
      if (this.#hashes[i] === h && this.#idAt(s - 1) === id) return s - 1;
    }
  }

  /** Records `id` at `pos` (the caller never adds an id twice); `h`: its keyHash32, if already known. */
  add(id: string, pos: number, h = keyHash32(id)): void {
    if ((this.#count + 1) * 10 > this.#slots.length * 7) this.#resize(this.#slots.length * 2);
    this.#put(h, pos);
    this.#count++;
  }

  /** Forgets everything and re-adds positions 0..n-1 (after the events array was cut). */
  rebuild(n: number): void {
    let cap = 1024;
    while (n * 10 > cap * 7) cap *= 2;
    this.#slots = new Uint32Array(cap);
    this.#hashes = new Uint32Array(cap);
    this.#count = n;
    for (let p = 0; p < n; p++) this.#put(keyHash32(this.#idAt(p)), p);
  }

  #put(h: number, pos: number): void {
    const mask = this.#slots.length - 1;
    let i = h & mask;
    while (this.#slots[i] !== 0) i = (i + 1) & mask;
    this.#slots[i] = pos + 1;
    this.#hashes[i] = h;
  }

  #resize(cap: number): void {
    const slots = this.#slots;
    const hashes = this.#hashes;
    this.#slots = new Uint32Array(cap);
    this.#hashes = new Uint32Array(cap);
    for (let i = 0; i < slots.length; i++) if (slots[i] !== 0) this.#put(hashes[i]!, slots[i]! - 1);
  }
}
