import { describe, expect, it } from 'vitest';
import { IdHashMemo } from '../../src/main/engine/file/idHashMemo';
import { keyHash } from '../../src/main/engine/file/keyHash';

const ids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('IdHashMemo', () => {
  it('hands back the hash noted for each id, in order, without hashing again', () => {
    const m = new IdHashMemo();
    const all = ids('a', 50);
    for (const id of all) expect(m.note(id)).toBe(keyHash(id));
    for (const id of all) expect(m.hashOf(id)).toBe(keyHash(id));
    expect(m.misses).toBe(0);
  });

  it('skips the few ids a duplicate leaves unpublished', () => {
    const m = new IdHashMemo();
    const all = ids('d', 30);
    for (const id of all) m.note(id);
    const published = all.filter((_, i) => i % 3 !== 1);
    for (const id of published) expect(m.hashOf(id)).toBe(keyHash(id));
    expect(m.misses).toBe(0);
  });

  it('skips a refused call’s whole run of ids once, then goes on from the memo', () => {
    const m = new IdHashMemo();
    const refused = ids('refused', 1000);
    const accepted = ids('ok', 100);
    for (const id of [...refused, ...accepted]) m.note(id);
    for (const id of accepted) expect(m.hashOf(id)).toBe(keyHash(id));
    expect(m.misses).toBe(0);
  });

  it('an id that was never noted is hashed afresh, never given another id’s hash', () => {
    const m = new IdHashMemo();
    for (const id of ids('n', 20)) m.note(id);
    expect(m.hashOf('elsewhere')).toBe(keyHash('elsewhere'));
    expect(m.misses).toBe(1);
    expect(m.hashOf('n-0')).toBe(keyHash('n-0')); // among the next few: from the memo
    expect(m.hashOf('n-15')).toBe(keyHash('n-15')); // the wide search gave up: hashed, still right
    expect(m.misses).toBe(2);
  });

  it('an equal id made as a different string gets the same hash', () => {
    const m = new IdHashMemo();
    m.note(['x', 'y', 'z'].join('-'));
    expect(m.hashOf(JSON.parse('"x-y-z"') as string)).toBe(keyHash('x-y-z'));
    expect(m.misses).toBe(0);
  });

  it('clear forgets every noted id; entries never pile up past the cap', () => {
    const m = new IdHashMemo();
    for (const id of ids('c', 10)) m.note(id);
    m.clear();
    expect(m.size).toBe(0);
    expect(m.hashOf('c-0')).toBe(keyHash('c-0'));
    expect(m.misses).toBe(1);
    for (let i = 0; i < 300_000; i++) m.note(`cap-${i}`);
    expect(m.size).toBeLessThanOrEqual(1 << 17);
  });
});
