import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
/** Where electron-vite puts the renderer the web host serves. */
export const RENDERER_DIR = join(root, 'out', 'renderer');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Builds the renderer when it is missing or older than its sources, so browser tests and the
 * benchmark's UI rows run this code, not an old build. Returns what the build printed on failure.
 */
export function ensureRendererBuilt(
  log: (msg: string) => void = () => {},
): { ok: true } | { ok: false; output: string } {
  const index = join(RENDERER_DIR, 'index.html');
  const sources = Math.max(
    newestMtime(join(root, 'src', 'renderer')),
    newestMtime(join(root, 'src', 'shared')),
    statSync(join(root, 'electron.vite.config.ts')).mtimeMs,
  );
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return { ok: true };
  log('building the renderer (electron-vite build)');
  const r = spawnSync(
    process.execPath,
    [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  return r.status === 0 ? { ok: true } : { ok: false, output: `${r.stderr ?? ''}${r.stdout ?? ''}` };
}
