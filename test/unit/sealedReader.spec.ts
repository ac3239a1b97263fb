import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { encodeBlocks } from '../../src/main/engine/file/bgzf';
import { crc32 } from '../../src/main/engine/file/checksum';
import { inflateRawInto } from '../../src/main/engine/file/rawInflate';
import { SealedReader, type SealedFile } from '../../src/main/engine/file/SealedReader';
import { SegmentIndex } from '../../src/main/engine/file/segmentIndex';
import { SegmentColumns } from '../../src/main/engine/file/segmentColumns';
import type { StoredEvent } from '../../src/shared/event';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chronoscope-reader-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Events whose lines vary in length; every 17th is longer than a block, so it spans members. */
function events(n: number, t0 = Date.UTC(2026, 0, 1), stepMs = 700): StoredEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    seq: i + 1,
    id: `id-${i}`,
    stream: `S-${i % 13}`,
    version: 1 + Math.floor(i / 13),
    type: 'T',
    time: new Date(t0 + i * stepMs).toISOString(),
    recordedAt: new Date(t0).toISOString(),
    tenant: 'default',
    data: { note: 'x'.repeat(i % 17 === 0 ? 300 : i % 40) },
  }));
}

/** Writes `evs` as a sealed segment with small blocks and returns what the reader needs. */
async function sealed(
  evs: StoredEvent[],
  blockInputCap = 256,
  id = 1,
): Promise<SealedFile & { lines: Buffer[] }> {
  const lines = evs.map((e) => Buffer.from(JSON.stringify(e)));
  const enc = await encodeBlocks(lines, { blockInputCap, level: 6 });
  const path = join(dir, `seg-${id}.jsonl.gz`);
  writeFileSync(path, enc.data);
  const cols = new SegmentColumns(evs.length);
  let uoff = 0;
  evs.forEach((event, i) => {
    cols.addEvent(event, uoff, crc32(lines[i]!));
    uoff += lines[i]!.length + 1;
  });
  let ustart = 0;
  const blocks = enc.blocks.map((b) => {
    const e = { coff: b.offset, ustart };
    ustart += b.usize;
    return e;
  });
  const ix = SegmentIndex.parse(SegmentIndex.build(cols.finish(uoff), blocks));
  return { id, fd: openSync(path, 'r'), bytes: enc.data.length, ix, lines };
}

/** Everything an index answers about its events, in one comparable value. */
function answersOf(ix: SegmentIndex, evs: StoredEvent[]) {
  return evs.map((e, ord) => ({
    span: ix.recordSpan(ord),
    crc: ix.crcOf(ord),
    second: ix.coarseSecond(ord),
    byId: Array.from(ix.lookup('id', e.id)),
    byStream: Array.from(ix.lookup('stream', e.stream)),
  }));
}

describe('parsing an index blob', () => {
  function built(evs: StoredEvent[]): Buffer {
    const cols = new SegmentColumns(evs.length);
    let uoff = 0;
    for (const e of evs) {
      const line = Buffer.from(JSON.stringify(e));
      cols.addEvent(e, uoff, crc32(line));
      uoff += line.length + 1;
    }
    return SegmentIndex.build(cols.finish(uoff), [{ coff: 0, ustart: 0 }]);
  }

  it('answers the same from its own buffer (read in place), a misaligned copy and a slice of a larger buffer', () => {
    const evs = events(500);
    const own = built(evs);
    const expected = answersOf(SegmentIndex.parse(own), evs);
    const big = Buffer.alloc(own.length + 64 * 1024);
    own.copy(big, 3);
    const misaligned = SegmentIndex.parse(big.subarray(3, 3 + own.length));
    own.copy(big, 8);
    const slice = SegmentIndex.parse(big.subarray(8, 8 + own.length));
    // Both were copied out: the larger buffer they came from may be reused.
    big.fill(0);
    expect(answersOf(misaligned, evs)).toEqual(expected);
    expect(answersOf(slice, evs)).toEqual(expected);
  });
});

function shuffled(n: number, seed: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  let s = seed;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

describe('inflateRawInto', () => {
  it('inflates whole or only a prefix, and keeps working after an error', () => {
    const input = Buffer.from('abcdefghij'.repeat(500));
    const z = deflateRawSync(input);
    const out = Buffer.alloc(input.length + 10);
    expect(inflateRawInto(z, out, out.length)).toBe(input.length);
    expect(out.subarray(0, input.length).equals(input)).toBe(true);
    expect(inflateRawInto(z, out, 123)).toBe(123);
    expect(out.subarray(0, 123).equals(input.subarray(0, 123))).toBe(true);
    expect(() => inflateRawInto(Buffer.from([0xff, 0xff, 0xff, 0xff]), out, 100)).toThrow();
    expect(() => inflateRawInto(z.subarray(0, z.length >> 1), out, out.length)).toThrow();
    expect(inflateRawInto(z, out, out.length)).toBe(input.length);
    expect(out.subarray(0, input.length).equals(inflateRawSync(z))).toBe(true);
  });
});

describe('SealedReader', () => {
  it.each([
    ['a roomy cache', 1 << 20],
    ['a cache smaller than one block', 10],
  ])('returns every record exactly, point reads and scans in any order, with %s', async (_, budget) => {
    const evs = events(400);
    const f = await sealed(evs);
    try {
      expect(f.ix.blockCount).toBeGreaterThan(20);
      const r = new SealedReader(budget);
      for (const scan of [false, true])
        for (const ord of shuffled(evs.length, scan ? 7 : 3))
          expect(r.record(f, ord, scan).equals(f.lines[ord]!), `ord ${ord} scan ${scan}`).toBe(true);
      // Neighbours in order (the second touch of a block inflates it whole) and again from the cache.
      for (let pass = 0; pass < 2; pass++)
        for (let ord = 0; ord < evs.length; ord++) expect(r.record(f, ord).equals(f.lines[ord]!)).toBe(true);
      expect(r.bytes).toBeLessThanOrEqual(budget);
    } finally {
      closeSync(f.fd);
    }
  });

  it('names damage instead of returning wrong bytes: a corrupt member, a truncated file', async () => {
    const evs = events(200);
    const f = await sealed(evs);
    const path = join(dir, 'seg-1.jsonl.gz');
    try {
      const bad = readFileSync(path);
      const b = 3;
      const at = f.ix.blockOffset(b) + 30;
      bad[at] = bad[at]! ^ 0x5a;
      writeFileSync(path, bad);
      const inBlock = [...evs.keys()].filter((o) => f.ix.blockAt(f.ix.recordSpan(o).u) === b);
      expect(inBlock.length).toBeGreaterThan(0);
      // A whole-block read checks the member's CRC (a prefix read relies on the record CRCs above it).
      expect(() => new SealedReader(1 << 20).record(f, inBlock[0]!, true)).toThrow(/offset|CRC|inflate/);
      writeFileSync(path, readFileSync(path).subarray(0, f.ix.blockOffset(b) + 10));
      const last = evs.length - 1;
      expect(() => new SealedReader(1 << 20).record(f, last)).toThrow(/truncated|member/);
    } finally {
      closeSync(f.fd);
    }
  });

  it('evicts one file without touching another', async () => {
    const a = await sealed(events(100), 256, 1);
    const b = await sealed(events(100), 256, 2);
    try {
      const r = new SealedReader(1 << 20);
      for (let o = 0; o < 100; o++) {
        r.record(a, o, true);
        r.record(b, o, true);
      }
      const before = r.bytes;
      r.evictFile(1);
      expect(r.bytes).toBeGreaterThan(0);
      expect(r.bytes).toBeLessThan(before);
      for (let o = 0; o < 100; o++) expect(r.record(a, o).equals(a.lines[o]!)).toBe(true);
    } finally {
      closeSync(a.fd);
      closeSync(b.fd);
    }
  });
});

describe('SegmentIndex.timeOrdRange', () => {
  it('gives exactly the ords mayBeInTime accepts when times are in order, and nothing when not', async () => {
    const evs = events(300, Date.UTC(2026, 0, 1, 0, 0, 0, 250), 730);
    const f = await sealed(evs);
    closeSync(f.fd);
    const t0 = Date.parse(evs[0]!.time);
    const t1 = Date.parse(evs[evs.length - 1]!.time);
    const edges = [-Infinity, Infinity, t0 - 5000, t1 + 5000];
    for (let k = 0; k < 60; k++)
      edges.push(t0 - 2000 + Math.floor(((t1 - t0 + 4000) * k) / 60) + (k % 3) * 333);
    for (const lo of edges)
      for (const hi of edges) {
        const want = [...evs.keys()].filter((o) => f.ix.mayBeInTime(o, lo, hi));
        const r = f.ix.timeOrdRange(lo, hi);
        expect(r).toBeDefined();
        const got = r![0] <= r![1] ? Array.from({ length: r![1] - r![0] + 1 }, (_, i) => r![0] + i) : [];
        expect(got, `[${lo}, ${hi})`).toEqual(want);
      }
    const back = events(50);
    [back[10]!.time, back[20]!.time] = [back[20]!.time, back[10]!.time];
    const g = await sealed(back, 256, 2);
    closeSync(g.fd);
    expect(g.ix.timeOrdRange(t0, t1)).toBeUndefined();
  });
});

describe('SegmentIndex compact encodings', () => {
  it('round-trips offsets and coarse seconds in the 2-byte forms and in the 4-byte fallbacks', async () => {
    const t0 = Date.UTC(2026, 0, 1);
    const cases: [string, StoredEvent[]][] = [
      [
        'small steps, clock going back',
        events(120, t0, 2500).map((e, i) =>
          i % 9 === 4 ? { ...e, time: new Date(t0 + i * 2500 - 9_000_000).toISOString() } : e,
        ),
      ],
      [
        'a 70 KB line, a 10-hour gap',
        events(60, t0, 1000).map((e, i) =>
          i === 30
            ? { ...e, data: { big: 'y'.repeat(70_000) } }
            : i > 40
              ? { ...e, time: new Date(t0 + 36_000_000 + i).toISOString() }
              : e,
        ),
      ],
    ];
    for (const [name, evs] of cases) {
      const f = await sealed(evs, 4096);
      try {
        const r = new SealedReader(1 << 20);
        for (let o = 0; o < evs.length; o++) {
          expect(r.record(f, o).equals(f.lines[o]!), `${name}: ord ${o}`).toBe(true);
          expect(f.ix.coarseSecond(o), `${name}: ord ${o}`).toBe(
            Math.floor(Date.parse(evs[o]!.time) / 1000) * 1000,
          );
        }
      } finally {
        closeSync(f.fd);
      }
    }
  });
});
