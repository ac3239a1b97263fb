/**
 * A small seeded PRNG (mulberry32) and the sampling helpers the demo generator needs.
 * Only integer and basic float arithmetic is used (no Math.log/exp/cos), so one seed gives
 * byte-identical output on every platform and Node version.
 */

const HEX_CODES = Array.from('0123456789abcdef', (ch) => ch.charCodeAt(0));
// Built as char codes and turned into one flat string at the end: far cheaper than concatenation.
const UUID: number[] = Array.from('00000000-0000-0000-0000-000000000000', (ch) => ch.charCodeAt(0));
const SCRATCH = new Map<number, number[]>();
const putHex = (x: number, at: number, digits: number): void => {
  for (let i = at + digits - 1; i >= at; i--, x >>>= 4) UUID[i] = HEX_CODES[x & 15]!;
};

/** Deterministic random source: the same seed always yields the same sequence. */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A uniform 32-bit unsigned integer: the primitive everything else is built on. */
  uint32(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** A uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** A uniform float in [min, max), for durations and amounts. */
  between(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  /** A float in [min, max) biased towards min (most waits are short, a few are long). */
  skewed(min: number, max: number): number {
    const u = this.next();
    return min + u * u * (max - min);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** A normal-ish value (Irwin–Hall sum of four uniforms), clamped to mean ± 3 sd. */
  normal(mean: number, sd: number): number {
    const z = (this.next() + this.next() + this.next() + this.next() - 2) * 1.7320508075688772;
    return mean + sd * Math.max(-3, Math.min(3, z));
  }

  /** A random UUID v4 drawn from this source, so ids are reproducible per seed. */
  uuid(): string {
    const b = this.uint32();
    const c = this.uint32();
    putHex(this.uint32(), 0, 8);
    putHex(b >>> 16, 9, 4);
    putHex((b & 0x0fff) | 0x4000, 14, 4);
    putHex(((c >>> 16) & 0x3fff) | 0x8000, 19, 4); // RFC 9562 variant: top bits 10
    putHex(c & 0xffff, 24, 4);
    putHex(this.uint32(), 28, 8);
    return String.fromCharCode.apply(null, UUID);
  }

  /** `n` lowercase hex characters (trace ids, auth codes). */
  hex(n: number): string {
    let codes = SCRATCH.get(n);
    if (!codes) SCRATCH.set(n, (codes = new Array<number>(n)));
    for (let i = 0; i < n; i += 8) {
      let x = this.uint32();
      for (let k = i; k < i + 8 && k < n; k++, x >>>= 4) codes[k] = HEX_CODES[x & 15]!;
    }
    return String.fromCharCode.apply(null, codes);
  }

  /** `n` decimal digits (tracking numbers, card suffixes). */
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(this.uint32() % 10);
    return s;
  }
}

/** Weighted choice with precomputed cumulative weights, for hot loops that pick per event. */
export class WeightedPicker<T> {
  readonly #items: readonly T[];
  readonly #cumulative: number[];

  constructor(items: readonly T[], weights: readonly number[]) {
    if (items.length === 0 || items.length !== weights.length) throw new Error('WeightedPicker: bad input');
    this.#items = items;
    let sum = 0;
    this.#cumulative = weights.map((w) => (sum += w));
  }

  /** One item, with probability proportional to its weight. */
  pick(rng: Rng): T {
    const cum = this.#cumulative;
    const x = rng.next() * cum[cum.length - 1]!;
    let i = 0;
    while (i < cum.length - 1 && cum[i]! <= x) i++;
    return this.#items[i]!;
  }
}
