#!/usr/bin/env node
// `npm start`: the Electron app when its binary is installed, otherwise the web host in the browser.
// Usage: npm start [-- <store folder>] [--web] [--port N]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';
import { electronVersion, ensureElectronBinding } from './electronNative.mjs';
import { mallocTuned, withMallocEnv } from './mallocEnv.mjs';

// The app is long-running: run it with the malloc tuning (mallocEnv.mjs), starting over once if needed.
if (!mallocTuned()) {
  const child = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      stdio: 'inherit',
      env: withMallocEnv(),
    },
  );
  // Ctrl+C reaches the child from the terminal itself; only a SIGTERM sent to this process is passed on.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  await new Promise(() => {});
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const forceWeb = args.includes('--web');
const portIdx = args.indexOf('--port');
const port = portIdx >= 0 ? Number(args[portIdx + 1]) : 0;
const storeArg = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--port');

/** The Electron binary's path when it is installed (electron's index.js throws when it is not). */
function electronBinary() {
  try {
    const p = createRequire(import.meta.url)('electron');
    return typeof p === 'string' && existsSync(p) && statSync(p).isFile() ? p : undefined;
  } catch {
    return undefined;
  }
}

function build() {
  process.stdout.write('Building the app (electron-vite build)…\n');
  const r = spawnSync(
    process.execPath,
    [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  if (r.status !== 0) throw new Error('electron-vite build failed');
}

register();
const { defaultDemoDir, ensureDemoStore } = await import('../src/main/host/demoStore.ts');

let storePath = storeArg ? resolve(storeArg) : undefined;
if (!storePath) {
  storePath = defaultDemoDir();
  const events = Number(process.env.CHRONOSCOPE_DEMO_EVENTS ?? 100_000);
  const { created } = await ensureDemoStore(storePath, {
    events,
    onProgress: (done, total) =>
      process.stdout.write(`\rCreating the demo store in ${storePath}: ${done}/${total} events`),
  });
  if (created) process.stdout.write('\n');
}

const electron = forceWeb ? undefined : electronBinary();
// Electron loads native modules for its own ABI: build better-sqlite3 for it once, else use the browser.
const version = electron ? electronVersion(root) : undefined;
const binding = electron && version ? ensureElectronBinding(root, version) : undefined;
if (electron && !binding) process.stdout.write('Falling back to the browser mode.\n');
if (electron && binding) {
  if (!existsSync(join(root, 'out/main/index.js'))) build();
  const child = spawn(electron, [root], {
    stdio: 'inherit',
    env: withMallocEnv({ ...process.env, CHRONOSCOPE_STORE: storePath, CHRONOSCOPE_SQLITE_BINDING: binding }),
  });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  if (!existsSync(join(root, 'out/renderer/index.html'))) build();
  const { serve } = await import('../src/main/host/serve.ts');
  const { defaultRecentFile } = await import('../src/main/host/recentStores.ts');
  const host = await serve({ storePath, port, recentFile: defaultRecentFile() });
  process.stdout.write(
    `Electron is not installed here, so Chronoscope runs in your browser.\nOpen ${host.url}\n(Ctrl+C stops it.)\n`,
  );
  if (!process.env.CHRONOSCOPE_NO_OPEN) {
    const opener = spawn('xdg-open', [host.url], { stdio: 'ignore', detached: true });
    opener.on('error', () => {});
    opener.unref();
  }
  const stop = async () => {
    await host.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
