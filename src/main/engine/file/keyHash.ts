/**
 * Hashes of string keys (stream, type, id, actor, ...): what the sealed-segment index stores
 * instead of the text. Collisions only cost a little extra work, because every candidate is
 * checked against the real event. Part of the on-disk format: never change either function
 * without bumping INDEX_FORMAT.
 */
export function keyHash(s: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  // 20 high bits from h2, 32 low bits from h1: a safe integer, never negative.
  return (h2 >>> 12) * 0x1_0000_0000 + (h1 >>> 0);
}

/**
 * The low 32 bits of keyHash: the width the per-segment postings store. envelopeScan.ts computes
 * the same function over the bytes of ASCII strings while sealing: change both together.
 */
export function keyHash32(s: string): number {
  let h1 = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h1 = Math.imul(h1 ^ s.charCodeAt(i), 0x01000193);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  return h1 >>> 0;
}
