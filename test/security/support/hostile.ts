/**
 * Seeded generators of hostile input for the fuzz suites (issue #9). Every suite derives its own
 * stream from one run seed, printed at start: CHRONOSCOPE_FUZZ_SEED=<seed> replays a run exactly,
 * CHRONOSCOPE_FUZZ_CASES=<n> scales the total number of cases (default 20,000 over all suites).
 */
import { prng } from '../../fault/support/killContent';

export const FUZZ_SEED = Number(process.env.CHRONOSCOPE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const TOTAL_CASES = Math.max(100, Number(process.env.CHRONOSCOPE_FUZZ_CASES ?? 20_000));

/** This suite's share of the run's cases (the shares add up to 1 over the fuzz*.spec.ts files). */
export function casesFor(share: number): number {
  return Math.max(20, Math.round(TOTAL_CASES * share));
}

/** A small random toolbox over mulberry32, so one seed replays every choice. */
export class Rng {
  readonly next: () => number;
  constructor(seed: number, salt: string) {
    let h = seed >>> 0;
    for (const c of salt) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
    this.next = prng(h);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  /** Text with the characters parsers trip over: quotes, escapes, controls, lone surrogates, emoji, RTL. */
  text(max = 24): string {
    const n = this.int(max + 1);
    let s = '';
    for (let i = 0; i < n; i++) s += this.pick(TEXT_ATOMS);
    return s;
  }
}

const TEXT_ATOMS = [
  'a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\r', '\t', '\0', '\u0001', '\u001f', '\u007f', '\u2028',
  '\u2029', '\ud800', '\udfff', '😀', 'é', '\u202e', '\ufeff', '{', '}', '[', ']', ':', ',', '..', '%00',
  '<script>', '__proto__', '${x}', "'", '`',
]; // prettier-ignore

/** Keys that have broken JavaScript programs: prototype setters, shadowed builtins. */
export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

/** Numbers and numeric strings at the edges: overflow, underflow, precision loss, signed zero. */
export const HUGE_NUMBERS: readonly number[] = [
  Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2,
  -Number.MAX_SAFE_INTEGER - 2, 2 ** 63, -0, 1e21, 1e-7, 123456789012345680000,
]; // prettier-ignore
export const NUMERIC_STRINGS = [
  '1e400', '-1e400', '9'.repeat(400), '0x1F', '1_000', 'NaN', 'Infinity', '-0', '00012', '1e-400', ' 42 ',
  '12345678901234567890123456789',
]; // prettier-ignore
/** Number literals as JSON text that JSON.parse turns into ±Infinity or loses. */
export const HUGE_NUMBER_LITERALS = [
  '1e400',
  '-1e999',
  '1' + '0'.repeat(400),
  '123456789012345678901234567890',
];

/** Sets a key as an own enumerable property even when it is `__proto__` (plain assignment would set the prototype). */
export function put(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** A JSON value full of hostile keys and edge numbers; always valid JSON and at most `depth` deep. */
export function hostileJson(r: Rng, depth = 4): unknown {
  const k = r.int(depth <= 0 ? 5 : 8);
  switch (k) {
    case 0:
      return r.pick(HUGE_NUMBERS);
    case 1:
      return r.chance(0.5) ? r.pick(NUMERIC_STRINGS) : r.text();
    case 2:
      return r.pick([null, true, false, 0, -1, 1.5]);
    case 3:
      return r.text(8);
    case 4:
      return r.int(1000);
    case 5: {
      const a: unknown[] = [];
      for (let i = r.int(4); i > 0; i--) a.push(hostileJson(r, depth - 1));
      return a;
    }
    default: {
      const o: Record<string, unknown> = {};
      for (let i = r.int(5); i > 0; i--)
        put(o, r.chance(0.5) ? r.pick(PROTO_KEYS) : r.text(6), hostileJson(r, depth - 1));
      return o;
    }
  }
}

/** `levels` nested arrays or objects around a leaf, built without recursion. */
export function nested(levels: number, kind: 'array' | 'object'): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = kind === 'array' ? [v] : { n: v };
  return v;
}
/** The same as JSON text, without building the value (JSON.stringify would recurse). */
export function nestedText(levels: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? '['.repeat(levels) + '1' + ']'.repeat(levels)
    : '{"n":'.repeat(levels) + '1' + '}'.repeat(levels);
}

/** Values of every wrong JSON type (and a few in-process-only ones) for envelope fields. */
export const WRONG_JSON_VALUES: readonly unknown[] = [
  null, 0, -1, 1.5, 2 ** 53, true, false, '', ' ', 'x'.repeat(5000), [], ['a'], [1], {}, { a: 1 },
  'not-a-date', '2024-02-30T00:00:00Z', '2024-01-01', -0,
]; // prettier-ignore
export const WRONG_JS_VALUES: readonly unknown[] = [
  NaN, Infinity, -Infinity, 10n, Symbol('s'), () => 1, new Date(0), new Map(), /re/, new (class Foo {})(),
]; // prettier-ignore

/** For each envelope field: values that must be refused (beyond wrong types, which are always refused). */
export const ENVELOPE_FIELDS = [
  'id', 'stream', 'type', 'time', 'tenant', 'actor', 'correlationId', 'causationId', 'tags', 'schemaVersion',
  'meta',
] as const; // prettier-ignore

/** Which of the wrong values a field legitimately accepts, so the fuzzer knows what must be refused. */
export function acceptable(field: (typeof ENVELOPE_FIELDS)[number], v: unknown): boolean {
  const text = (max: number) => typeof v === 'string' && v.length >= 1 && v.length <= max;
  switch (field) {
    case 'id':
      return text(200);
    case 'stream':
    case 'actor':
    case 'correlationId':
    case 'causationId':
      return text(1024);
    case 'type':
    case 'tenant':
      return text(256);
    case 'time':
      return false; // none of the wrong values is a full ISO-8601 date-time with a zone
    case 'tags':
      return Array.isArray(v) && v.every((t) => typeof t === 'string' && t.length >= 1 && t.length <= 256);
    case 'schemaVersion':
      return Number.isSafeInteger(v) && (v as number) >= 0;
    case 'meta':
      return (
        typeof v === 'object' &&
        v !== null &&
        !Array.isArray(v) &&
        Object.getPrototypeOf(v) === Object.prototype
      );
  }
}

/** Global prototypes the fuzzers watch: a key appearing on any of them is prototype pollution. */
const WATCHED: [string, object][] = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
  ['String.prototype', String.prototype],
];
/** Snapshot of the watched prototypes' own keys; `polluted()` lists what changed since. */
export function pollutionWatch(): { polluted(): string[] } {
  const before = new Map(WATCHED.map(([n, p]) => [n, new Set(Reflect.ownKeys(p))]));
  return {
    polluted: () => {
      const out: string[] = [];
      for (const [n, p] of WATCHED)
        for (const k of Reflect.ownKeys(p)) if (!before.get(n)!.has(k)) out.push(`${n}.${String(k)}`);
      const probe = {} as Record<string, unknown>;
      if (probe.polluted !== undefined || probe.isAdmin !== undefined)
        out.push('({}).polluted/isAdmin is set');
      return out;
    },
  };
}
