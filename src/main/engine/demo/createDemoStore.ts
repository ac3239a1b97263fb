import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventInput } from '../../../shared/event';
import { ChronoscopeError } from '../../../shared/errors';
import { FileStore, type FileStoreOptions } from '../file/FileStore';
import { createShop, type PlantedBug, type ShopOptions } from './shop';

export interface DemoOptions extends ShopOptions {
  /** Events per append call. */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  store?: Partial<FileStoreOptions>;
}

/**
 * Fills a new file store with the demo shop and writes `DEMO.md` beside it describing the planted
 * bug. Appends in batches and yields between them, so a UI stays responsive while it runs.
 */
export async function createDemoStore(
  dir: string,
  options: DemoOptions = {},
): Promise<{ events: number; plantedBug: PlantedBug; lastSeq: number }> {
  const shop = createShop(options);
  const total = options.events ?? 300_000;
  const batchSize = options.batchSize ?? 2000;
  const store = await FileStore.open(dir, { ...options.store, create: true });
  try {
    if (store.lastSeq() > 0)
      throw new ChronoscopeError(
        'INVALID_ARGUMENT',
        `${dir} already holds a store with ${store.lastSeq()} events; demo needs an empty folder`,
      );
    let batch: EventInput[] = [];
    let done = 0;
    for (const e of shop.events) {
      batch.push(e);
      if (batch.length === batchSize) {
        if (options.signal?.aborted) throw new ChronoscopeError('CANCELLED', 'demo creation cancelled');
        await store.append(batch);
        done += batch.length;
        batch = [];
        options.onProgress?.(done, total);
      }
    }
    if (batch.length) await store.append(batch);
    done += batch.length;
    options.onProgress?.(done, total);
    await store.flushSeals();
    writeFileSync(
      join(dir, 'DEMO.md'),
      `# Chronoscope demo store\n\n${done} events of a simulated online shop.\n\nPlanted bug: ${shop.plantedBug.description}\n\nStream: ${shop.plantedBug.stream}\nEvent id: ${shop.plantedBug.eventId}\n`,
      { mode: 0o600 },
    );
    return { events: done, plantedBug: shop.plantedBug, lastSeq: store.lastSeq() };
  } finally {
    await store.close();
  }
}
