import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../../src/main/engine/file/FileStore';
import { newStreamsOnly, SqliteIndex } from '../../src/main/engine/file/SqliteIndex';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chronoscope-keys-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('stream names in the catalogue', () => {
  it('a stream is named once, by the segment it begins in, and prefix queries find it in every later one', async () => {
    const store = await FileStore.open(dir, { segmentMaxBytes: 4096 });
    for (let k = 0; k < 40; k++)
      await store.append([
        { stream: `Cart-${k % 5}`, type: 'Added', data: { k } },
        { stream: `Order-${k}`, type: 'Placed' },
      ]);
    await store.sealActive();
    const all = await store.query({ streamPrefix: 'Cart-' }, { limit: 1000 });
    expect(all.events).toHaveLength(40);
    expect(new Set(all.events.map((e) => e.stream)).size).toBe(5);
    expect((await store.stats()).streams).toBe(45);
    await store.close();
  });

  it('once repair has recorded a lost seq, every seal names all its streams again', () => {
    const ix = new SqliteIndex(join(dir, 'x.db'), false);
    expect(newStreamsOnly(ix)).toBe(true);
    ix.recordLost([{ seq: 7, file: 'seg', reason: 'damaged line', repairedAt: '2026-01-01T00:00:00.000Z' }]);
    expect(newStreamsOnly(ix)).toBe(false);
    ix.close();
  });
});
