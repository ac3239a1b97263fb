import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/main/engine/file/FileStore';
import type { EventInput } from '../../src/shared/event';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chronoscope-rotate-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const batch = (n: number, from: number): EventInput[] =>
  Array.from({ length: n }, (_, i) => ({
    stream: `S-${(from + i) % 13}`,
    type: 'Noted',
    data: { i: from + i, text: 'x'.repeat(400) },
  }));
const plainSegments = () =>
  readdirSync(join(dir, 'segments'))
    .filter((n) => /^\d{12}\.jsonl$/.test(n))
    .sort();
const until = async (ok: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('rotation while the append queue is idle', () => {
  it('starts the next segment once an append has filled the active one, before any other append', async () => {
    const store = await FileStore.open(dir, { segmentMaxBytes: 32 << 10, sealInWorker: false });
    try {
      // ~90 KB: over the limit, but a segment is only rotated before a write, never inside one.
      const r = await store.append(batch(200, 0));
      expect(r.lastSeq).toBe(200);
      const sealed = () => readdirSync(join(dir, 'segments')).includes('000000000001-000000000200.jsonl.gz');
      await until(sealed);
      // No append has come since: the queue rotated on its own, at the next seq, and the full
      // segment went to the sealer.
      expect(sealed()).toBe(true);
      await store.flushSeals();
      expect(plainSegments()).toEqual(['000000000201.jsonl']);
      // The next append writes into the new segment as it is: no second rotation, no gap.
      await store.append(batch(10, 200));
      expect(plainSegments()).toEqual(['000000000201.jsonl']);
      expect((await store.readAll(195, 20)).map((e) => e.seq)).toEqual(
        Array.from({ length: 16 }, (_, i) => 195 + i),
      );
    } finally {
      await store.close();
    }
  });

  it('leaves a store that is closed right after a filling append whole, with nothing half-made', async () => {
    const store = await FileStore.open(dir, { segmentMaxBytes: 32 << 10 });
    await store.append(batch(200, 0));
    await store.close();
    const again = await FileStore.open(dir);
    try {
      expect(again.report).toMatchObject({ tornTailBytes: 0, removedTmp: [], problems: [] });
      expect((await again.stats()).events).toBe(200);
      expect(readdirSync(join(dir, 'segments')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
      await again.append(batch(5, 200));
      expect((await again.readAll(199, 10)).map((e) => e.seq)).toEqual([199, 200, 201, 202, 203, 204, 205]);
    } finally {
      await again.close();
    }
  });
});
