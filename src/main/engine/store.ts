import { ChronoscopeError } from '../../shared/errors';
import type { ChronoscopeConfig } from './config';
import { FileStore } from './file/FileStore';
import { MemoryStore } from './memory/MemoryStore';
import type { EventStore } from './types';

export type { EventStore } from './types';

export interface OpenOptions {
  /** Store folder (file backend); overrides config.store. */
  path?: string;
  readOnly?: boolean;
  /** Create the folder when missing (default true for read-write). */
  create?: boolean;
}

/** Opens the configured backend: the one place that chooses between implementations. */
export async function openStore(config: ChronoscopeConfig, options: OpenOptions = {}): Promise<EventStore> {
  if (config.backend === 'memory') return new MemoryStore();
  const path = options.path ?? config.store;
  if (!path)
    throw new ChronoscopeError(
      'INVALID_ARGUMENT',
      'no store path given (pass one, or set "store" in chronoscope.config.json)',
    );
  return FileStore.open(path, {
    ...config.file,
    readOnly: options.readOnly ?? false,
    create: options.create ?? true,
  });
}
