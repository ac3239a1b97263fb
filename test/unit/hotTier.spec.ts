import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../../src/main/engine/file/FileStore';
import { HotTier } from '../../src/main/engine/file/HotTier';
import { keyHash32 } from '../../src/main/engine/file/keyHash';
import { CHUNK_BYTES, ChunkPool, LineRows } from '../../src/main/engine/file/lineRows';
import { estimateEventBytes } from '../../src/main/engine/memory/MemoryIndex';
import type { EventInput, StoredEvent } from '../../src/shared/event';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chronoscope-hot-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const batch = (n: number, from: number): EventInput[] =>
  Array.from({ length: n }, (_, i) => ({
    stream: `S-${(from + i) % 97}`,
    type: 'Noted',
    data: { i: from + i, text: 'x'.repeat(600) },
  }));

describe('hot tier budget', () => {
  it('appends wait for sealing once the hot tier is over budget, so memory stays bounded', async () => {
    const budget = 1 << 20;
    const store = await FileStore.open(dir, { segmentMaxBytes: 256 << 10, hotTierMaxBytes: budget });
    let groupBytes = 0;
    let peak = 0;
    for (let k = 0; k < 60; k++) {
      const r = await store.append(batch(200, k * 200));
      groupBytes = Math.max(
        groupBytes,
        r.events.reduce((n, e) => n + estimateEventBytes(e, 700), 0),
      );
      peak = Math.max(peak, (await store.stats()).storage.hotBytes);
    }
    // Each group waits until the hot tier is under budget, so at most one group lies beyond it.
    expect(peak).toBeLessThanOrEqual(budget + groupBytes);
    await store.flushSeals();
    expect((await store.stats()).events).toBe(12_000);
    expect((await store.readStream('S-5')).map((e) => e.version)).toEqual(
      Array.from({ length: (await store.readStream('S-5')).length }, (_, i) => i + 1),
    );
    await store.close();
  });

  it('a burst faster than sealing does not cut tiny segments', async () => {
    const store = await FileStore.open(dir, { segmentMaxBytes: 128 << 10, hotTierMaxBytes: 1 << 20 });
    for (let k = 0; k < 60; k++) await store.append(batch(100, k * 100));
    await store.sealActive();
    const sealed = readdirSync(join(dir, 'segments'))
      .filter((n) => n.endsWith('.jsonl.gz'))
      .sort();
    const events = sealed.map((n) => {
      const [a, b] = n.replace('.jsonl.gz', '').split('-').map(Number);
      return b! - a! + 1;
    });
    // 128 KiB holds ~180 of these events; only the last (forced) segment may be short.
    for (const n of events.slice(0, -1)) expect(n).toBeGreaterThanOrEqual(150);
    expect(events.reduce((a, b) => a + b, 0)).toBe(6000);
    expect(statSync(join(dir, 'segments')).isDirectory()).toBe(true);
    await store.close();
  });
});

describe('HotTier generations', () => {
  const ev = (seq: number, stream: string, version: number): StoredEvent => ({
    seq,
    id: `id-${seq}`,
    stream,
    version,
    type: 'T',
    time: '2026-01-01T00:00:00.000Z',
    recordedAt: '2026-01-01T00:00:00.000Z',
    tenant: 'default',
    data: {},
  });

  it('evicting a generation drops it whole and leaves the newer ones answering', () => {
    const hot = new HotTier();
    hot.add(ev(1, 'A', 1));
    hot.add(ev(2, 'B', 1));
    hot.startGeneration();
    hot.add(ev(3, 'A', 2));
    hot.evictThrough(2);
    expect(hot.streamVersion('A')).toBe(2);
    expect(hot.streamVersion('B')).toBe(0);
    expect(hot.getById('id-1')).toBeUndefined();
    expect(hot.getById('id-3')?.seq).toBe(3);
    expect(hot.firstSeq).toBe(3);
    hot.evictThrough(3);
    expect(hot.size).toBe(0);
  });

  it('answers pages across generations as one index would, in both orders and with cursors', () => {
    const hot = new HotTier();
    const all: StoredEvent[] = [];
    const versions = new Map<string, number>();
    for (let seq = 1; seq <= 120; seq++) {
      if (seq % 25 === 0) hot.startGeneration();
      const stream = `S-${seq % 7}`;
      const v = (versions.get(stream) ?? 0) + 1;
      versions.set(stream, v);
      const e = { ...ev(seq, stream, v), type: seq % 3 ? 'A' : 'B' };
      all.push(e);
      hot.add(e);
    }
    const want = all.filter((e) => e.type === 'B');
    const seqs = (order: 'asc' | 'desc', after?: number) =>
      hot.query({ types: ['B'] }, order, 7, after).events.map((e) => e.seq);
    expect(seqs('asc')).toEqual(want.slice(0, 7).map((e) => e.seq));
    expect(seqs('asc', 48)).toEqual(
      want
        .filter((e) => e.seq > 48)
        .slice(0, 7)
        .map((e) => e.seq),
    );
    expect(seqs('desc')).toEqual(
      [...want]
        .reverse()
        .slice(0, 7)
        .map((e) => e.seq),
    );
    expect(seqs('desc', 77)).toEqual(
      [...want]
        .reverse()
        .filter((e) => e.seq < 77)
        .slice(0, 7)
        .map((e) => e.seq),
    );
    expect(hot.stream('S-3').map((e) => e.version)).toEqual(
      [...Array(versions.get('S-3')).keys()].map((i) => i + 1),
    );
    expect(hot.readFrom(60, 30).map((e) => e.seq)).toEqual(all.slice(59, 89).map((e) => e.seq));
    expect(hot.getBySeq(101)?.seq).toBe(101);
    expect(hot.getById('id-26')?.seq).toBe(26);
  });
});

describe('hot tier rows: stored lines in pooled chunks', () => {
  const ev = (seq: number, extra: Partial<StoredEvent> = {}): StoredEvent => ({
    seq,
    id: `id-${seq}`,
    stream: `S-${seq % 3}`,
    version: Math.floor(seq / 3) + 1,
    type: 'T',
    time: new Date(Date.UTC(2026, 0, 1) + seq * 60_000).toISOString(),
    recordedAt: '2026-01-01T00:00:00.000Z',
    tenant: 'default',
    ...extra,
    data: extra.data ?? { seq, note: 'é ✓ "quoted"' },
  });

  it('hands out a fresh parse of the line on every read, equal to what was added', () => {
    const hot = new HotTier();
    const e = ev(1, { actor: 'ann', tags: ['x', 'y'], meta: { m: 1 } });
    hot.add(e);
    const a = hot.getBySeq(1)!;
    expect(a).toEqual(e);
    expect(hot.getById('id-1')).not.toBe(a);
    (a.data as { seq: number }).seq = 99;
    expect(hot.getBySeq(1)).toEqual(e);
  });

  it('packs lines into chunks that go back to the pool when their generation is sealed away', () => {
    const pool = new ChunkPool();
    const rows = new LineRows(pool);
    const big = 'z'.repeat(CHUNK_BYTES + 10);
    const events = Array.from({ length: 3000 }, (_, i) => ev(i + 1, { data: { text: 'x'.repeat(900) } }));
    events.push(ev(3001, { data: { big } }));
    for (const e of events) rows.push(e);
    expect(rows.length).toBe(3001);
    expect(rows.event(2999)).toEqual(events[2999]);
    expect(rows.event(3000)).toEqual(events[3000]); // larger than a chunk: a buffer of its own
    expect(rows.id(1234)).toBe('id-1235');
    rows.release();
    // Lines never span chunks: count the chunks greedy packing fills; the oversized line's own
    // buffer is not pooled.
    let chunks = 0;
    let used = CHUNK_BYTES;
    for (const e of events.slice(0, -1)) {
      const n = Buffer.byteLength(JSON.stringify(e));
      if (used + n > CHUNK_BYTES) [chunks, used] = [chunks + 1, 0];
      used += n;
    }
    expect(chunks).toBeGreaterThanOrEqual(3);
    expect(pool.free).toBe(chunks);
    expect(() => rows.event(0)).toThrow(/after release/);
    const next = new LineRows(pool);
    next.push(ev(5000));
    expect(pool.free).toBe(chunks - 1);
    expect(next.event(0).seq).toBe(5000);
  });

  it('copies a written batch of lines in runs: every row reads back, and the batch buffer is free once flushed', () => {
    const rows = new LineRows(new ChunkPool());
    // As FileStore encodes a group: each line followed by a newline, lines big enough to cross
    // chunk boundaries, one larger than a chunk in the middle.
    const events = Array.from({ length: 2500 }, (_, i) =>
      ev(i + 1, {
        data: { text: (i === 1200 ? 'b' : 'x').repeat(i === 1200 ? CHUNK_BYTES + 5 : 700 + (i % 300)) },
      }),
    );
    const lines = events.map((e) => Buffer.from(JSON.stringify(e)));
    const buf = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
    let start = 0;
    for (let i = 0; i < events.length; i++) {
      rows.push(events[i]!, { buf, start, length: lines[i]!.length });
      start += lines[i]!.length + 1;
    }
    rows.flush();
    buf.fill(0x7b); // the next group's bytes
    for (const i of [0, 1, 1199, 1200, 1201, 1499, 2499]) expect(rows.event(i)).toEqual(events[i]);
    expect([...Array(2500).keys()].every((i) => rows.id(i) === `id-${i + 1}`)).toBe(true);
  });

  it('a row read before the flush is read whole (the read copies what is pending)', () => {
    const hot = new HotTier();
    const e = [ev(1), ev(2)];
    const buf = Buffer.from(e.map((x) => JSON.stringify(x) + '\n').join(''));
    const first = Buffer.byteLength(JSON.stringify(e[0]));
    hot.add(e[0]!, { buf, start: 0, length: first });
    hot.add(e[1]!, { buf, start: first + 1, length: buf.length - first - 2 });
    expect(hot.getBySeq(2)).toEqual(e[1]);
    buf.fill(0x20);
    expect(hot.getById('id-1')).toEqual(e[0]);
    hot.flush();
    expect(hot.getBySeq(1)).toEqual(e[0]);
  });

  it('files actors and correlation ids by hash, yet a query answers only the one asked for', () => {
    // Two actors with the same 32-bit key hash.
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const a = `actor-${i}`;
      const other = seen.get(keyHash32(a));
      if (other !== undefined) pair = [other, a];
      else seen.set(keyHash32(a), a);
    }
    const hot = new HotTier();
    for (let seq = 1; seq <= 6; seq++)
      hot.add(ev(seq, { actor: pair[seq % 2], correlationId: pair[seq % 2] }));
    for (const f of [{ actor: pair[0] }, { correlationId: pair[1] }]) {
      const want = [1, 2, 3, 4, 5, 6].filter((s) => pair[s % 2] === (f.actor ?? f.correlationId));
      expect(
        hot.query(f, 'asc', 10).events.map((e) => e.seq),
        JSON.stringify(f),
      ).toEqual(want);
    }
  });

  it('reads the keys of a line in another field order by parsing it (the byte scanner takes only its own shape)', () => {
    const hot = new HotTier();
    const plain = ev(1, { actor: 'ann' });
    // Same fields, another order: JSON.stringify keeps insertion order, so the line differs.
    const { data, ...envelope } = plain;
    const reordered = { data, ...envelope, seq: 2, id: 'id-2', actor: 'bob', tags: ['t'] } as StoredEvent;
    hot.add(plain);
    hot.add(reordered);
    expect(hot.query({ actor: 'bob' }, 'asc', 10).events.map((e) => e.seq)).toEqual([2]);
    expect(hot.query({ tags: ['t'] }, 'asc', 10).events.map((e) => e.seq)).toEqual([2]);
    expect(hot.stream(plain.stream).map((e) => e.seq)).toEqual([1, 2]);
    expect(hot.timeBounds()).toEqual({ min: Date.parse(plain.time), max: Date.parse(plain.time) });
    expect(hot.getById('id-2')?.actor).toBe('bob');
  });
});
