import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventStore } from '../../src/main/engine/types';
import { MemoryStore } from '../../src/main/engine/memory/MemoryStore';
import { FileStore, type FileStoreOptions } from '../../src/main/engine/file/FileStore';

/** A backend under test: how to make a fresh store and, where it persists, reopen it. */
export interface BackendFactory {
  name: string;
  create(): Promise<{ store: EventStore; reopen?: () => Promise<EventStore>; cleanup(): Promise<void> }>;
}

export const memoryBackend: BackendFactory = {
  name: 'memory',
  async create() {
    const store = new MemoryStore();
    return { store, cleanup: async () => store.close() };
  },
};

export function tempDir(prefix = 'chronoscope-test-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The file backend, tuned so a few hundred events already span several sealed segments. */
export function fileBackend(
  name: string,
  options: Partial<FileStoreOptions>,
  sealEachAppend = false,
): BackendFactory {
  return {
    name,
    async create() {
      const t = tempDir();
      const open = async () => {
        const s = await FileStore.open(t.dir, options);
        if (!sealEachAppend) return s;
        // Seal after every append so reads go through SQLite and blocked gzip, not the hot tier.
        const append = s.append.bind(s);
        s.append = async (ev, o) => {
          const r = await append(ev, o);
          if (r.appended > 0) await s.sealActive();
          return r;
        };
        return s;
      };
      let store = await open();
      return {
        store,
        reopen: async () => (store = await open()),
        cleanup: async () => {
          await store.close();
          t.remove();
        },
      };
    },
  };
}

export const backends: BackendFactory[] = [
  memoryBackend,
  fileBackend('file (hot tier)', {}),
  // A tiny hot-tier budget too: several hot generations at once, and appends waiting for seals.
  fileBackend('file (small segments)', { segmentMaxBytes: 2048, hotTierMaxBytes: 32 << 10 }),
  // No index budget either: cached indexes give way at once, and the id table keeps its ids in
  // its spill file from the first seals on (rewritten in the background while appends probe it).
  fileBackend('file (sealed after every append)', { indexCacheBytes: 0 }, true),
];
