import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../../src/main/engine/file/FileStore';
import { matchesFilter } from '../../src/shared/query';
import type { EventInput, StoredEvent } from '../../src/shared/event';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chronoscope-search-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Texts where a raw-bytes test could go wrong: case, escapes, non-ASCII that lower-cases to ASCII. */
const NOTES = [
  'plain kettle',
  'KETTLE in capitals',
  'k\u212Aettle with a Kelvin sign', // U+212A lower-cases to "k"
  '\u0130stanbul', // İ lower-cases to "i" + U+0307
  'say "hi" \\ then',
  'tab\there',
  'emoji 🙂 kettle',
  'lone \ud800 surrogate',
  '',
];

function inputs(n: number): EventInput[] {
  return Array.from({ length: n }, (_, i) => ({
    stream: `S-${i % 7}`,
    type: i % 2 ? 'A' : 'B',
    data: { note: NOTES[i % NOTES.length]!, n: i * 1.5, list: [i % 3 ? 'x' : 'KETTLE', 1e21 * (i % 2)] },
  }));
}

describe('full-text search over sealed segments (raw prefilter)', () => {
  it('returns exactly what matchesFilter accepts, before and after rebuilding the index', async () => {
    const store = await FileStore.open(dir, { segmentMaxBytes: 4096, blockBytes: 512, sealInWorker: true });
    try {
      await store.append(inputs(200));
      await store.sealActive();
      const all: StoredEvent[] = await store.readAll(1, 10_000);
      expect(all.length).toBe(200);
      const needles = [
        'kettle',
        'KeTtLe',
        'k',
        'i',
        'ke',
        '"hi"',
        '\\',
        'hi" \\',
        '🙂',
        'e+21',
        '1.5',
        '\t',
        'istanbul',
        'zzz',
      ];
      const check = async () => {
        for (const search of needles)
          for (const order of ['asc', 'desc'] as const) {
            const want = all.filter((e) => matchesFilter(e, { search }));
            const got: number[] = [];
            let cursor: string | undefined;
            do {
              const p = await store.query({ search }, { limit: 7, order, cursor });
              got.push(...p.events.map((e) => e.seq));
              cursor = p.nextCursor;
            } while (cursor);
            const seqs = want.map((e) => e.seq);
            expect(got, `${JSON.stringify(search)} ${order}`).toEqual(
              order === 'asc' ? seqs : seqs.reverse(),
            );
          }
      };
      await check();
      const r = await store.rebuildIndex();
      expect(r.events).toBe(200);
      await check();
      expect((await store.verify()).ok).toBe(true);
    } finally {
      await store.close();
    }
  });
});
