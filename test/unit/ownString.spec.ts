import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/main/engine/file/FileStore';
import { encodeCamelLine } from '../../src/main/engine/ingest/camelFast';
import { ownString } from '../../src/main/engine/ownString';

// This file runs in a process of its own (pool: forks): exposing gc here touches no other test.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MiB = 1024 * 1024;

/** Heap in use after two full collections, in bytes (a size, not a time). */
function heapBytes(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const PAD = 'x'.repeat(64 * 1024);
/** A camelCase line whose stream name is a substring of 64 KiB of text, as an import reads it. */
function bigLine(i: number): string {
  const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  return (
    `{"eventId":"${id}","eventType":"Noted","timestamp":"2025-01-01T00:00:00.000Z",` +
    `"payload":{"note":"${PAD}"},"metadata":{"streamId":"Stream-number-${i}"}}`
  );
}

describe('ownString', () => {
  it('is equal to its input, whatever the characters', () => {
    for (const s of [
      '',
      'a',
      'twelve chars',
      'thirteen char',
      'Stream-number-12345',
      'é✓😀',
      '\ud800 lone',
      'x'.repeat(5000),
    ])
      expect(ownString(s)).toBe(s);
  });

  it('does not keep the string it was cut from alive', () => {
    const before = heapBytes();
    const kept: string[] = [];
    for (let i = 0; i < 200; i++) kept.push(ownString(bigLine(i).slice(100, 130)));
    const grownBytes = heapBytes() - before;
    expect(kept[199]).toBe(bigLine(199).slice(100, 130));
    // 200 lines of 64 KiB would be 13 MB; the copies are 30 characters each.
    expect(grownBytes).toBeLessThan(2 * MiB);
  });
});

describe('a stream name cut from an imported line', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chronoscope-ownstring-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function grownByNewStreams(store: {
    appendNormalised(events: never[]): Promise<unknown>;
  }): Promise<number> {
    await store.appendNormalised([encodeCamelLine(bigLine(-1))!] as never[]);
    const before = heapBytes();
    for (let b = 0; b < 4; b++) {
      const batch = [];
      for (let i = 0; i < 50; i++) batch.push(encodeCamelLine(bigLine(b * 50 + i))!);
      await store.appendNormalised(batch as never[]);
    }
    return heapBytes() - before;
  }

  it('does not keep the line alive in the file store (200 streams, 64 KiB lines)', async () => {
    const store = await FileStore.open(dir);
    try {
      // Pinned, the 200 lines would be 13 MB of heap; the store's own growth is far below that.
      const grownBytes = await grownByNewStreams(store);
      expect(grownBytes).toBeLessThan(4 * MiB);
      expect(await store.readStream('Stream-number-150')).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});
