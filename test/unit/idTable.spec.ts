import { describe, expect, it } from 'vitest';
import { keyHash, keyHash32 } from '../../src/main/engine/file/keyHash';
import { IdTable } from '../../src/main/engine/memory/idTable';

describe('IdTable', () => {
  it('answers like a map through growth, collisions and a rebuild after the front is cut', () => {
    let ids: string[] = [];
    const t = new IdTable((pos) => ids[pos]!);
    for (let i = 0; i < 5000; i++) {
      ids.push(`id-${i}`);
      t.add(`id-${i}`, i);
    }
    expect(t.size).toBe(5000);
    for (let i = 0; i < 5000; i += 7) expect(t.get(`id-${i}`)).toBe(i);
    expect(t.get('id-5000')).toBe(-1);
    expect(t.get('')).toBe(-1);
    ids = ids.slice(3000);
    t.rebuild(ids.length);
    expect(t.get('id-2999')).toBe(-1);
    expect(t.get('id-3000')).toBe(0);
    expect(t.get('id-4999')).toBe(1999);
  });

  it('tells apart ids whose 32-bit hashes collide by checking the real id', () => {
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const id = `c${i}`;
      const other = seen.get(keyHash32(id));
      if (other !== undefined) pair = [other, id];
      else seen.set(keyHash32(id), id);
    }
    const ids = [pair[0], 'x', pair[1]];
    const t = new IdTable((pos) => ids[pos]!);
    t.add(ids[0]!, 0);
    expect(t.get(pair[1])).toBe(-1);
    t.add(ids[1]!, 1);
    t.add(ids[2]!, 2);
    expect([t.get(pair[0]), t.get('x'), t.get(pair[1])]).toEqual([0, 1, 2]);
  });
});

describe('keyHash and keyHash32', () => {
  it('agree on the low 32 bits, which the append path relies on to hash an id once', () => {
    for (const s of ['', 'a', 'order-17', '🙂 é', 'c7c3a9d0-1b2e-4f6a-9c8d-0e1f2a3b4c5d'])
      expect(keyHash(s) % 0x1_0000_0000).toBe(keyHash32(s));
  });
});
