/** The benchmark's own seeded PRNG (mulberry32): the workload must not change when the engine's demo RNG does. */
export class BenchRng {
  #s: number;

  constructor(seed: number) {
    this.#s = seed >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** A uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
}

/** Mixes a seed and an index into a well-spread 32-bit seed, so event i can be regenerated alone; a bijection of i for a fixed seed. */
export function mixSeed(seed: number, i: number): number {
  let h = (seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const HEX = '0123456789abcdef';

/**
 * The UUIDv4 number `i` of a seeded family: random-looking, as foreign logs carry, yet unique for
 * every i < 2^32 because its first word is a bijection of i (a PRNG stream seeded from 32 bits
 * would collide: ~5 duplicates in 200k ids by the birthday bound).
 */
export function uuidV4(seed: number, i: number): string {
  let p = 0;
  for (let w = 0; w < 4; w++) {
    let x = mixSeed(Math.imul(seed, 4) + w, i);
    if (w === 1) x = (x & 0xffff0fff) | 0x00004000;
    if (w === 2) x = (x & 0x3fffffff) | 0x80000000;
    for (let k = 7; k >= 0; k--) {
      if (p === 8 || p === 13 || p === 18 || p === 23) UUID_BYTES[p++] = 0x2d;
      UUID_BYTES[p++] = HEX.charCodeAt((x >>> (k * 4)) & 15);
    }
  }
  // One flat string, as crypto.randomUUID() or JSON.parse give a producer: built by concatenation it
  // was a rope that the store had to flatten (its cost belonged to the generator, not the store).
  return UUID_BYTES.toString('latin1');
}
const UUID_BYTES = Buffer.alloc(36);
