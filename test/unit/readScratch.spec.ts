import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReadScratch } from '../../src/main/engine/file/readScratch';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chronoscope-scratch-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('the seal worker read buffer', () => {
  it('reads one file after another into the same memory', () => {
    const s = new ReadScratch();
    const a = s.read(file('a', 'first segment\n'.repeat(100)));
    expect(a.bytes.toString()).toBe('first segment\n'.repeat(100));
    const memory = a.bytes.buffer;
    a.release();
    const b = s.read(file('b', 'second\n'.repeat(150)));
    expect(b.bytes.toString()).toBe('second\n'.repeat(150));
    expect(b.bytes.buffer).toBe(memory);
    b.release();
  });

  it('grows for a larger file and keeps the larger buffer', () => {
    const s = new ReadScratch();
    s.read(file('small', 'x'.repeat(1000))).release();
    const big = s.read(file('big', 'y'.repeat(50_000)));
    expect(big.bytes.length).toBe(50_000);
    expect(big.bytes.every((c) => c === 0x79)).toBe(true);
    big.release();
    expect(s.capacity).toBeGreaterThanOrEqual(50_000);
    const again = s.read(file('small2', 'z'.repeat(10)));
    expect([again.bytes.toString(), again.bytes.buffer]).toEqual(['z'.repeat(10), big.bytes.buffer]);
    again.release();
  });

  it('never hands out bytes that a lease still holds', () => {
    const s = new ReadScratch();
    const a = s.read(file('a', 'aaaa'));
    const b = s.read(file('b', 'bbbb'));
    expect(b.bytes.buffer).not.toBe(a.bytes.buffer);
    expect([a.bytes.toString(), b.bytes.toString()]).toEqual(['aaaa', 'bbbb']);
    a.release();
    a.release(); // a second release of the same lease frees nothing else
    const c = s.read(file('c', 'cc'));
    expect(c.bytes.buffer).toBe(a.bytes.buffer);
    const d = s.read(file('d', 'dd'));
    expect(d.bytes.buffer).not.toBe(c.bytes.buffer);
    expect(c.bytes.toString()).toBe('cc');
  });

  it('a failed read leaves the buffer free for the next one', () => {
    const s = new ReadScratch();
    const sub = join(dir, 'a-folder');
    mkdirSync(sub);
    expect(() => s.read(sub)).toThrow(/EISDIR/);
    const ok = s.read(file('ok', 'fine'));
    expect(ok.bytes.toString()).toBe('fine');
    ok.release();
    expect(s.capacity).toBeGreaterThan(0);
    const next = s.read(file('next', 'also'));
    expect(next.bytes.buffer).toBe(ok.bytes.buffer);
  });
});
