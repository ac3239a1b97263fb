import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/main/engine/file/FileStore';
import { MemoryStore } from '../../src/main/engine/memory/MemoryStore';
import { FILL_TO_COLLECT, scheduleIdleScavenge } from '../../src/main/engine/idleScavenge';
import type { EventInput } from '../../src/shared/event';

/** Young-generation collections asked for by code (gc({ type: 'minor' })), counted as they are reported. */
function forcedMinorCollections(): { count: () => number; stop: () => void } {
  let n = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const d = (e as unknown as { detail: { kind: number; flags: number } }).detail;
      if (
        d.kind === constants.NODE_PERFORMANCE_GC_MINOR &&
        d.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED
      )
        n++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return { count: () => n, stop: () => obs.disconnect() };
}

const turn = () => new Promise<void>((r) => setImmediate(r));
/** GC entries reach observers after the collection: wait (bounded) until `done` holds. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
}

/** Fills the young generation past the collection threshold with short-lived objects (a collection may come first: it keeps going). */
function garbage(): number {
  const young = () => getHeapSpaceStatistics().find((x) => x.space_name === 'new_space')!;
  let sum = 0;
  // space_size counts both semi-spaces; allocation fills used + available.
  const full = (y: ReturnType<typeof young>) =>
    y.space_used_size / (y.space_used_size + y.space_available_size);
  for (let y = young(); full(y) < FILL_TO_COLLECT + 0.1; y = young())
    for (let i = 0; i < 10_000; i++) sum += [i, { i }].length;
  return sum;
}

function batch(k: number): EventInput[] {
  return Array.from({ length: 500 }, (_, i) => ({
    stream: `S-${(k * 500 + i) % 97}`,
    type: 'Tick',
    data: { k, i, note: 'x'.repeat(64) },
  }));
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chronoscope-idlegc-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('young-generation collections at idle moments', () => {
  it('collects when asked while idle with the young generation well filled, and not when nearly empty', async () => {
    const gcs = forcedMinorCollections();
    garbage();
    scheduleIdleScavenge(() => true);
    await turn();
    await until(() => gcs.count() > 0);
    expect(gcs.count()).toBe(1);
    // Just collected, the young generation is nearly empty: nothing worth collecting.
    scheduleIdleScavenge(() => true);
    await turn();
    await new Promise((r) => setTimeout(r, 50));
    gcs.stop();
    expect(gcs.count()).toBe(1);
  });

  it('does not collect when work arrived before the pause came', async () => {
    const gcs = forcedMinorCollections();
    garbage();
    scheduleIdleScavenge(() => false);
    await turn();
    garbage();
    scheduleIdleScavenge(() => false);
    await turn();
    await new Promise((r) => setTimeout(r, 50));
    gcs.stop();
    expect(gcs.count()).toBe(0);
  });

  for (const backend of ['file', 'memory'] as const) {
    it(`a ${backend} store collects in the pauses between appends`, async () => {
      const store = backend === 'file' ? await FileStore.open(dir) : new MemoryStore();
      const gcs = forcedMinorCollections();
      for (let k = 0; k < 20; k++) {
        await store.append(batch(k));
        await turn();
        await turn();
      }
      await until(() => gcs.count() > 0);
      gcs.stop();
      await store.close();
      expect(gcs.count()).toBeGreaterThan(0);
    });
  }
});
