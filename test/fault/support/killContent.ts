/**
 * Deterministic event content for the kill-loop tests: the child appends `eventFor(id)` and the
 * parent regenerates it from the id alone, so "identical content" is checked without shipping
 * payloads over the pipe.
 */
import type { EventInput } from '../../../src/shared/event';

/** mulberry32: a tiny seeded PRNG, so a failing run can be replayed from its printed seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Events of optimistic writers (ids starting with `opt-`) all go to this stream with expectedVersion. */
export const CONTENDED_STREAM = 'Account-contended';

/** The event a given id stands for: stream, type, payload size and bytes all derive from the id. */
export function eventFor(id: string): EventInput {
  const h = hash(id);
  const r = prng(h);
  const padLen = Math.floor(r() * 400);
  let pad = '';
  while (pad.length < padLen) pad += (h + pad.length).toString(36);
  return {
    id,
    stream: id.startsWith('opt-') ? CONTENDED_STREAM : `Order-${h % 17}`,
    type: ['OrderPlaced', 'OrderPaid', 'OrderShipped', 'OrderCancelled'][h % 4]!,
    tags: h % 3 === 0 ? ['vip'] : undefined,
    data: { id, n: h % 1000, note: `ünïcödé 😀 ${id}`, pad: pad.slice(0, padLen) },
  };
}
