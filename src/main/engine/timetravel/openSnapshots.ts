/**
 * Picks the snapshot store for an event store (DESIGN §4): a file store keeps its snapshots in its
 * own chronoscope.db (SQLite), a memory store in memory. Close the snapshot store with the event store.
 */
import { ChronoscopeError } from '../../../shared/errors';
import { FileStore } from '../file/FileStore';
import { storePaths } from '../file/layout';
import type { EventStore } from '../types';
import {
  MemorySnapshotStore,
  type SnapshotStore,
  type SnapshotStoreOptions,
  type SnapshotStrategy,
} from './snapshots';
import { SqliteSnapshotStore, type SqliteSnapshotOptions } from './sqliteSnapshots';

export interface OpenSnapshotOptions
  extends SnapshotStoreOptions, Pick<SqliteSnapshotOptions, 'autoInvalidate' | 'busyTimeoutMs'> {
  /** Check each persisted snapshot's event id against the log before trusting it (default true). */
  verifyEvents?: boolean;
}

/** Streams are short: a sparse count, plus bisect probes that folded at least 16 events. */
export const DEFAULT_STREAM_STRATEGY: SnapshotStrategy = { kind: 'adaptive', every: 100, minFold: 16 };
/** The log is long: every 10,000 events, plus bisect probes that folded at least 1,000. */
export const DEFAULT_GLOBAL_STRATEGY: SnapshotStrategy = { kind: 'adaptive', every: 10_000, minFold: 1000 };

export async function openSnapshotStore(
  store: EventStore,
  options: OpenSnapshotOptions = {},
): Promise<SnapshotStore> {
  const strategy = options.strategy ?? DEFAULT_STREAM_STRATEGY;
  const globalStrategy = options.globalStrategy ?? DEFAULT_GLOBAL_STRATEGY;
  if (store instanceof FileStore) {
    return SqliteSnapshotStore.open(storePaths(store.path).db, {
      ...options,
      strategy,
      globalStrategy,
      readOnly: store.readOnly,
      autoInvalidate: options.autoInvalidate ?? true,
      ...(options.verifyEvents === false
        ? {}
        : { eventIdAt: async (seq) => (await store.getBySeq(seq))?.id }),
    });
  }
  if (store.backend === 'memory') return new MemorySnapshotStore(strategy, { ...options, globalStrategy });
  throw new ChronoscopeError(
    'INVALID_ARGUMENT',
    `snapshots: no snapshot store for the ${store.backend} backend`,
    {
      field: 'backend',
    },
  );
}
