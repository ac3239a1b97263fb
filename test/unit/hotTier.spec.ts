import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../../src/main/engine/file/FileStore';
import { HotTier } from '../../src/main/engine/file/HotTier';
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
