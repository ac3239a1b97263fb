/**
 * Recognises JSON text that is already in the form JSON.stringify(JSON.parse(text)) gives, so an
 * importer can store a value's text as it is instead of parsing it into objects and serialising
 * them again (two thirds of an imported line's cost on the host thread, and most of its garbage).
 *
 * It is deliberately narrow: anything whose round trip could differ is refused (-1), and the caller
 * then takes the full parse, which decides and words any error. Refused: whitespace, any escape in
 * a string (JSON.stringify may spell it differently), control characters and UTF-16 surrogates in
 * strings, numbers whose shortest form differs from their text (exponents, trailing fraction zeros,
 * -0, more than 15 significant digits, magnitudes below 1e-6), keys that V8 would reorder (integer
 * keys) or that are special (`__proto__`), duplicate keys (the parse keeps the last), nesting
 * deeper than MAX_NESTING.
 */

/** Deepest nesting taken (the envelope's own limit is far higher; deeper values take the parse). */
export const MAX_NESTING = 64;

const QUOTE = 34;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
/** Most significant digits whose decimal text a double always reproduces exactly. */
const MAX_DIGITS = 15;

/** A backslash, control character or surrogate: text with none has strings that end at the next quote. */
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const UNPLAIN = /[\\\u0000-\u001f\ud800-\udfff]/;

/**
 * True when s holds no backslash, control character or UTF-16 surrogate. One native scan of the
 * whole text; after it, valueEnd can skip strings with indexOf (a scan by hand in JS cost as much
 * as JSON.parse of the line).
 */
export function plainText(s: string): boolean {
  return !UNPLAIN.test(s);
}

/**
 * End (exclusive) of the canonical JSON value at s[i], or -1 when there is none: not JSON, or JSON
 * whose re-serialisation could differ from its text.
 */
export function canonicalValueEnd(s: string, i: number): number {
  return plainText(s) ? valueEnd(s, i, 0) : -1;
}

/** canonicalValueEnd for text that plainText has passed; `depth`: nesting of the value. */
export function valueEnd(s: string, i: number, depth: number): number {
  const c = s.charCodeAt(i);
  if (c === QUOTE) return stringEnd(s, i);
  if (c === 123 /* { */) return depth >= MAX_NESTING ? -1 : objectEnd(s, i, depth + 1);
  if (c === 91 /* [ */) return depth >= MAX_NESTING ? -1 : arrayEnd(s, i, depth + 1);
  if (c === MINUS || (c >= ZERO && c <= NINE)) return numberEnd(s, i);
  if (c === 116 /* t */) return s.startsWith('true', i) ? i + 4 : -1;
  if (c === 102 /* f */) return s.startsWith('false', i) ? i + 5 : -1;
  if (c === 110 /* n */) return s.startsWith('null', i) ? i + 4 : -1;
  return -1;
}

/** End (exclusive) of the string whose opening quote is s[i], in plainText text; -1 if unclosed. */
export function stringEnd(s: string, i: number): number {
  const q = s.indexOf('"', i + 1);
  return q < 0 ? -1 : q + 1;
}

function numberEnd(s: string, i: number): number {
  let j = i;
  if (s.charCodeAt(j) === MINUS) j++;
  const intStart = j;
  const first = s.charCodeAt(j);
  if (first < ZERO || first > NINE) return -1;
  j++;
  if (first !== ZERO) while (isDigit(s.charCodeAt(j))) j++;
  const intDigits = j - intStart;
  let digits = first === ZERO ? 0 : intDigits;
  if (s.charCodeAt(j) === DOT) {
    const fracStart = ++j;
    while (isDigit(s.charCodeAt(j))) j++;
    if (j === fracStart) return -1;
    if (s.charCodeAt(j - 1) === ZERO) return -1; // 1.50 prints as 1.5
    if (first === ZERO) {
      let zeros = 0;
      while (s.charCodeAt(fracStart + zeros) === ZERO) zeros++;
      if (zeros >= 6) return -1; // below 1e-6 prints with an exponent
      digits = j - fracStart - zeros;
    } else {
      digits += j - fracStart;
    }
  } else if (first === ZERO && s.charCodeAt(i) === MINUS) {
    return -1; // -0 prints as 0
  }
  const next = s.charCodeAt(j);
  if (next === 101 || next === 69 /* e E */ || isDigit(next)) return -1;
  return digits > MAX_DIGITS ? -1 : j;
}

const isDigit = (c: number): boolean => c >= ZERO && c <= NINE;

function arrayEnd(s: string, i: number, depth: number): number {
  let j = i + 1;
  if (s.charCodeAt(j) === 93 /* ] */) return j + 1;
  for (;;) {
    j = valueEnd(s, j, depth);
    if (j < 0) return -1;
    const c = s.charCodeAt(j);
    if (c === 93) return j + 1;
    if (c !== 44 /* , */) return -1;
    j++;
  }
}

/**
 * True when the key s[k0, k1) may be stored as it is: V8 puts integer-like keys first, and
 * "__proto__" is special to objects.
 */
export function plainKey(s: string, k0: number, k1: number): boolean {
  if (k1 > k0) {
    const c = s.charCodeAt(k0);
    if (c >= ZERO && c <= NINE) return false;
  }
  return !(k1 - k0 === 9 && s.startsWith('__proto__', k0));
}

/** True when the key s[k0, k1) equals one of the earlier keys (start, end pairs) of its object. */
export function repeatsKey(s: string, k0: number, k1: number, keys: number[]): boolean {
  const n = k1 - k0;
  for (let m = 0; m < keys.length; m += 2) {
    const a = keys[m]!;
    if (keys[m + 1]! - a === n && s.startsWith(s.slice(k0, k1), a)) return true;
  }
  return false;
}

/** End (exclusive) of the canonical object at s[i] (plainText text), or -1. */
function objectEnd(s: string, i: number, depth: number): number {
  let j = i + 1;
  if (s.charCodeAt(j) === 125 /* } */) return j + 1;
  // Key spans of this object, to refuse duplicates (objects of logs have a handful of keys).
  const keys: number[] = [];
  for (;;) {
    if (s.charCodeAt(j) !== QUOTE) return -1;
    const k0 = j + 1;
    const k1 = s.indexOf('"', k0);
    if (k1 < 0 || !plainKey(s, k0, k1) || repeatsKey(s, k0, k1, keys)) return -1;
    keys.push(k0, k1);
    if (s.charCodeAt(k1 + 1) !== 58 /* : */) return -1;
    const v1 = valueEnd(s, k1 + 2, depth);
    if (v1 < 0) return -1;
    const c = s.charCodeAt(v1);
    if (c === 125) return v1 + 1;
    if (c !== 44 /* , */) return -1;
    j = v1 + 1;
  }
}
