import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IdHashes, idCheck, TAG_SPAN } from '../../src/main/engine/file/idHashes';

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

/** The tags IdHashes reports for `h`, as a sorted list. */
function tagsOf(ids: IdHashes, h: number): number[] {
  const out = new Uint8Array(TAG_SPAN);
  ids.tags(h, out);
  return [...out.keys()].filter((t) => out[t]);
}

describe('IdHashes', () => {
  it('answers exactly like a map of hash → segment tags, before, during and after background merges', async () => {
    const ids = new IdHashes();
    const all = new Map<number, Set<number>>();
    const note = (keys: Uint32Array, tag: number) =>
      keys.forEach((v) => all.set(v, (all.get(v) ?? new Set()).add(tag % TAG_SPAN)));
    ids.reset([{ keys: values(1, 50_000), tag: 0 }]);
    note(values(1, 50_000), 0);
    const probes = [...values(99, 2_000), ...values(1, 50_000).slice(0, 2_000)];
    const check = () => {
      for (const p of probes) {
        expect(ids.has(p)).toBe(all.has(p));
        expect(tagsOf(ids, p)).toEqual([...(all.get(p) ?? [])].sort((a, b) => a - b));
      }
    };
    for (let s = 2; s < 8; s++) {
      const seg = values(s, 30_000);
      // Tag 257 wraps to 1; segment 3 repeats segment 2's hashes (a 32-bit collision across segments).
      const keys = s === 3 ? values(2, 30_000) : seg;
      ids.add(keys, s === 6 ? 257 : s);
      note(keys, s === 6 ? 257 : s);
      probes.push(...keys.slice(0, 500));
      check(); // merging may still be under way
    }
    await ids.settled();
    check();
    expect(ids.size).toBe(50_000 + 6 * 30_000);
    ids.reset([{ keys: values(3, 10), tag: 9 }]);
    expect(ids.has(values(3, 10)[4]!)).toBe(true);
    expect(tagsOf(ids, values(3, 10)[4]!)).toEqual([9]);
    expect(ids.has(values(1, 50_000)[7]!)).toBe(false);
  });

  it('builds many lists at once like merging them one by one', async () => {
    const lists = [1, 2, 3, 4].map((s) => ({ keys: values(s, 20_000), tag: s * 70 }));
    const a = new IdHashes();
    a.reset(lists);
    const b = new IdHashes();
    b.reset([]);
    for (const l of lists) b.add(l.keys, l.tag);
    await b.settled();
    for (const l of lists)
      for (const h of l.keys.subarray(0, 3_000)) expect(tagsOf(a, h)).toEqual(tagsOf(b, h));
    expect(a.size).toBe(b.size);
  });

  it('keeps a few levels, each several times the next, so a seal does not merge the whole table', async () => {
    const ids = new IdHashes();
    ids.reset([{ keys: values(1, 400_000), tag: 0 }]);
    for (let s = 2; s < 40; s++) {
      ids.add(values(s, 10_000), s);
      await ids.settled();
      expect(ids.levels).toBeLessThanOrEqual(4);
    }
    expect(ids.size).toBe(400_000 + 38 * 10_000);
    for (let s = 2; s < 40; s += 7) expect(tagsOf(ids, values(s, 10_000)[17]!)).toContain(s);
  });

  it('frees a merged table as soon as a later merge replaces it', async () => {
    const ids = new IdHashes();
    ids.reset([{ keys: values(1, 100_000), tag: 0 }]);
    ids.add(values(2, 50_000), 1);
    await ids.settled();
    const merged = ids.ownedBuffers;
    expect(merged.length).toBeGreaterThan(0);
    expect(merged.every((b) => b.byteLength > 0)).toBe(true);
    ids.add(values(3, 50_000), 2);
    await ids.settled();
    expect(ids.levels).toBe(1);
    // Detached: their memory went to a buffer nothing references, freed by the next young collection.
    expect(merged.every((b) => b.byteLength === 0)).toBe(true);
    for (let s = 1; s <= 3; s++) expect(tagsOf(ids, values(s, 50_000)[42]!)).toContain(s - 1);
  });

  it('holds 4 bytes per id plus a fixed bucket table', () => {
    const ids = new IdHashes();
    ids.reset([{ keys: values(5, 1_000_000), tag: 1 }]);
    expect(ids.bytes).toBe(4 * 1_000_000 + 4 * (65_536 + 1));
  });

  it('a large merge leaves the event loop free between slices', async () => {
    const ids = new IdHashes();
    ids.reset([{ keys: values(5, 3_000_000), tag: 0 }]);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    ids.add(values(6, 2_000_000), 1);
    await ids.settled();
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
    expect(ids.levels).toBe(1);
    expect(ids.has(values(6, 2_000_000)[123]!)).toBe(true);
    expect(ids.size).toBe(5_000_000);
  });
});

describe('IdHashes check bytes', () => {
  it('tells apart equal 32-bit hashes by check byte; 0 (not known) matches any', () => {
    const ids = new IdHashes();
    const keys = values(11, 1_000);
    ids.reset([{ keys: values(12, 1_000), tag: 3 }]); // no check bytes: every probe of these may match
    ids.add(keys, 4, new Uint8Array(keys.length).fill(7));
    const h = keys[10]!;
    expect(ids.has(h, 7)).toBe(true);
    expect(ids.has(h, 8)).toBe(false);
    expect(ids.has(h, 0)).toBe(true);
    expect(tagsOf(ids, h)).toEqual([4]);
    const out = new Uint8Array(TAG_SPAN);
    expect(ids.tags(h, out, 8)).toBe(0);
    const unknown = values(12, 1_000)[10]!;
    expect(ids.has(unknown, 200)).toBe(true);
  });

  it('idCheck is 1–255 from the bits above the low 32', () => {
    expect(idCheck(0x1234_5678)).toBe(1);
    for (let hi = 0; hi < 600; hi++) {
      const c = idCheck(hi * 0x1_0000_0000 + 0xffff_ffff);
      expect(c).toBeGreaterThanOrEqual(1);
      expect(c).toBeLessThanOrEqual(255);
    }
  });
});

describe('IdHashes spill file', () => {
  const spillDir = () => mkdtempSync(join(tmpdir(), 'chronoscope-ids-'));

  it('moves ids past its resident limit to a file and answers exactly as before, during and after each rewrite', async () => {
    const dir = spillDir();
    const ids = new IdHashes({ residentBytes: 4 * 20_000, spillDir: dir });
    const all = new Map<number, Map<number, Set<number>>>(); // hash -> tag -> check bytes
    const note = (keys: Uint32Array, tag: number, checks?: Uint8Array) =>
      keys.forEach((v, i) => {
        const byTag = all.get(v) ?? new Map<number, Set<number>>();
        all.set(v, byTag.set(tag % TAG_SPAN, (byTag.get(tag % TAG_SPAN) ?? new Set()).add(checks?.[i] ?? 0)));
      });
    const expected = (h: number, check: number) =>
      [...(all.get(h) ?? new Map<number, Set<number>>())]
        .filter(([, cs]) => check === 0 || [...cs].some((c) => c === 0 || c === check))
        .map(([t]) => t)
        .sort((a, b) => a - b);
    ids.reset([{ keys: values(1, 30_000), tag: 0 }]); // over the limit at once: spills in the background
    note(values(1, 30_000), 0);
    const probes = [...values(99, 1_000)];
    const check = () => {
      const wrong: string[] = [];
      const out = new Uint8Array(TAG_SPAN);
      for (const p of probes)
        for (const c of [0, 7, 9]) {
          ids.tags(p, out, c);
          const got = [...out.keys()].filter((t) => out[t]).join();
          const want = expected(p, c);
          if (got !== want.join() || ids.has(p, c) !== want.length > 0)
            wrong.push(`${p}/${c}: ${got} vs ${want.join()}`);
        }
      expect(wrong).toEqual([]);
    };
    for (let s = 2; s < 30; s++) {
      // Segment 5 repeats segment 4's hashes; every third segment has check bytes.
      const keys = s === 5 ? values(4, 6_000) : values(s, 6_000);
      const checks = s % 3 === 0 ? keys.map((_, i) => 7 + (i % 3)) : undefined;
      ids.add(keys, s === 20 ? 256 + 20 : s, checks && Uint8Array.from(checks));
      note(keys, s === 20 ? 256 + 20 : s, checks && Uint8Array.from(checks));
      probes.push(...keys.subarray(0, 150), ...values(1, 30_000).subarray(s * 100, s * 100 + 20));
      check(); // a rewrite may be under way
      if (s % 4 === 0) await ids.settled();
    }
    await ids.settled();
    check();
    expect(ids.spillError).toBeUndefined();
    expect(ids.size).toBe(30_000 + 28 * 6_000);
    // Most ids are on disk; memory holds at most the limit (or 1/8 of the file) plus bucket tables.
    expect(ids.spilledSize).toBeGreaterThan(150_000);
    expect(ids.bytes).toBeLessThan(4 * 25_000 + 4 * 4 * 65_537);
    ids.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the file for about 3 in 100 ids it does not hold, and for every id it does (Bloom filter)', async () => {
    const dir = spillDir();
    const ids = new IdHashes({ residentBytes: 0, spillDir: dir });
    const held = values(21, 200_000);
    ids.reset([{ keys: held, tag: 2 }]);
    await ids.settled();
    expect(ids.spilledSize).toBe(200_000);
    const heldSet = new Set(held);
    const absent = [...values(22, 20_000)].filter((h) => !heldSet.has(h));
    for (const h of absent) expect(ids.has(h)).toBe(false);
    expect(ids.fileReads / absent.length).toBeLessThan(0.05);
    const before = ids.fileReads;
    for (const h of held.subarray(0, 5_000)) expect(ids.has(h)).toBe(true);
    expect(ids.fileReads - before).toBe(5_000);
    ids.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves no file behind: the spill file is unlinked as soon as it is made', async () => {
    const dir = spillDir();
    const ids = new IdHashes({ residentBytes: 1_000, spillDir: dir });
    ids.reset([{ keys: values(3, 10_000), tag: 1 }]);
    await ids.settled();
    expect(ids.spilledSize).toBe(10_000);
    expect(readdirSync(dir)).toEqual([]);
    expect(ids.has(values(3, 10_000)[77]!)).toBe(true);
    ids.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rewrites the file only once memory holds an eighth of it, so a growing table is not rewritten at every seal', async () => {
    const dir = spillDir();
    const ids = new IdHashes({ residentBytes: 0, spillDir: dir });
    ids.reset([{ keys: values(4, 80_000), tag: 0 }]);
    await ids.settled();
    expect(ids.spilledSize).toBe(80_000);
    ids.add(values(5, 9_000), 1); // 9,000 < 80,000 / 8: stays in memory
    await ids.settled();
    expect(ids.spilledSize).toBe(80_000);
    ids.add(values(6, 2_000), 2); // 11,000 > 10,000: the file takes them all
    await ids.settled();
    expect(ids.spilledSize).toBe(91_000);
    expect(ids.levels).toBe(0);
    expect(tagsOf(ids, values(6, 2_000)[5]!)).toContain(2);
    ids.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps its ids in memory when the spill file cannot be made, and says why', async () => {
    const ids = new IdHashes({
      residentBytes: 1_000,
      spillDir: join(tmpdir(), 'no-such-dir-' + process.pid, 'x'),
    });
    ids.reset([{ keys: values(7, 5_000), tag: 3 }]);
    await ids.settled();
    expect(ids.spillError?.message).toMatch(/ENOENT/);
    expect(ids.spilledSize).toBe(0);
    expect(ids.size).toBe(5_000);
    expect(tagsOf(ids, values(7, 5_000)[9]!)).toEqual([3]);
    ids.add(values(8, 5_000), 4); // no retry loop: spilling stays off
    await ids.settled();
    expect(tagsOf(ids, values(8, 5_000)[9]!)).toEqual([4]);
  });
});
