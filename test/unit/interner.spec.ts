import { describe, expect, it } from 'vitest';
import { Interner } from '../../src/main/engine/interner';
import { MemoryStore } from '../../src/main/engine/memory/MemoryStore';

describe('Interner', () => {
  it('always gives back the same text, across its bound', () => {
    const i = new Interner(3);
    const values = Array.from({ length: 50 }, (_, k) => `v${(k * 7) % 11}`);
    expect(values.map((v) => i.get(v))).toEqual(values);
  });

  it('a memory store keeps the names of its events intact', async () => {
    const s = new MemoryStore();
    await s.append(
      Array.from({ length: 20 }, (_, k) => ({ stream: `S-${k % 3}`, type: 'T', actor: `u${k % 2}` })),
    );
    const evs = await s.readAll(1, 100);
    expect(evs.map((e) => e.stream)).toEqual(Array.from({ length: 20 }, (_, k) => `S-${k % 3}`));
    expect(evs.map((e) => e.actor)).toEqual(Array.from({ length: 20 }, (_, k) => `u${k % 2}`));
    expect((await s.readStream('S-1')).map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    await s.close();
  });
});
