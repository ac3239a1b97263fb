import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { ChronoscopeError } from '../../shared/errors';

/**
 * Where better-sqlite3's native module comes from. Node and Electron have different ABIs: under
 * Electron, `npm start` builds the module for Electron's ABI once (bin/electronNative.mjs) and names
 * it in CHRONOSCOPE_SQLITE_BINDING; everywhere else the package's own build is used.
 */
export function sqliteBinding(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const path = env.CHRONOSCOPE_SQLITE_BINDING;
  if (!path) return undefined;
  if (!existsSync(path))
    throw new ChronoscopeError(
      'INVALID_ARGUMENT',
      `CHRONOSCOPE_SQLITE_BINDING names ${path}, which does not exist (rebuild it, or unset the variable)`,
      { field: 'CHRONOSCOPE_SQLITE_BINDING' },
    );
  return path;
}

/** Opens an SQLite database with the native module this process needs (see sqliteBinding). */
export function openDatabase(path: string, options: Database.Options = {}): Database.Database {
  const nativeBinding = sqliteBinding();
  return new Database(path, nativeBinding ? { ...options, nativeBinding } : options);
}
