import { describe, expect, it } from 'vitest';
import { IdHashes } from '../../src/main/engine/file/idHashes';

/** A deterministic stream of 32-bit values (xorshift). */
function values(seed: number, n: number): Uint32Array {
  let x = seed >>> 0 || 1;
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x >>> 0;
  }
  return out.sort();
}

describe('IdHashes', () => {
  it('answers exactly like a set, before, during and after background merges', async () => {
    const ids = new IdHashes();
    const all = new Set<number>();
    ids.reset([values(1, 50_000)]);
    values(1, 50_000).forEach((v) => all.add(v));
    const probes = [...values(99, 2_000), ...values(1, 50_000).slice(0, 2_000)];
    const check = () => {
      for (const p of probes) expect(ids.has(p)).toBe(all.has(p));
    };
    for (let s = 2; s < 8; s++) {
      const seg = values(s, 30_000);
      ids.add(seg);
      seg.forEach((v) => all.add(v));
      probes.push(...seg.slice(0, 500));
      check(); // merging may still be under way
    }
    await ids.settled();
    check();
    expect(ids.size).toBe(50_000 + 6 * 30_000);
    ids.reset([values(3, 10)]);
    expect(ids.has(values(3, 10)[4]!)).toBe(true);
    expect(ids.has(values(1, 50_000)[7]!)).toBe(false);
  });

  it('a large merge leaves the event loop free between slices', async () => {
    const ids = new IdHashes();
    ids.reset([values(5, 3_000_000)]);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    ids.add(values(6, 40_000));
    await ids.settled();
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
    expect(ids.has(values(6, 40_000)[123]!)).toBe(true);
    expect(ids.size).toBe(3_040_000);
  });
});
