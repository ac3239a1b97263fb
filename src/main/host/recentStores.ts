import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ApiRecentStore } from '../../shared/api';

const KEEP = 12;

/** `$XDG_DATA_HOME/chronoscope/recent-stores.json` (else ~/.local/share): the stores a user opened, newest first. */
export function defaultRecentFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'chronoscope', 'recent-stores.json');
}

/** Reads the list; a missing or damaged file is an empty list (it is a convenience, never worth failing for). */
export function readRecent(file: string): ApiRecentStore[] {
  try {
    const v: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (!Array.isArray(v)) return [];
    return v
      .filter(
        (r): r is ApiRecentStore =>
          typeof r === 'object' && r !== null && typeof r.path === 'string' && typeof r.openedAt === 'string',
      )
      .slice(0, KEEP);
  } catch {
    return [];
  }
}

/** Puts `path` first and writes the list (tmp + rename, private to the user). */
export function rememberStore(file: string, path: string, now = new Date()): ApiRecentStore[] {
  const list = [
    { path, openedAt: now.toISOString() },
    ...readRecent(file).filter((r) => r.path !== path),
  ].slice(0, KEEP);
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(list, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // A read-only home must not stop the store from opening.
  }
  return list;
}
