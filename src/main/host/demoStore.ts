import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createDemoStore } from '../engine/demo/createDemoStore';

/** Where a store-less `npm start` keeps its demo: `$XDG_DATA_HOME/chronoscope/demo`, else ~/.local/share. */
export function defaultDemoDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'chronoscope', 'demo');
}

/** Creates the demo store on first run (DEMO.md marks a finished one); later runs just reuse it. */
export async function ensureDemoStore(
  dir: string,
  options: { events?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<{ created: boolean }> {
  if (existsSync(join(dir, 'DEMO.md'))) return { created: false };
  await createDemoStore(dir, { events: options.events ?? 100_000, onProgress: options.onProgress });
  return { created: true };
}
