import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Where child writers run from, and the module they import, for the fault suites that spawn them. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const FILE_STORE_MODULE = fileURLToPath(
  new URL('../../../src/main/engine/file/FileStore.ts', import.meta.url),
);

/** Resolves once the child has exited (at once if it already has). */
export function exited(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((r) => c.once('close', () => r()));
}
