/**
 * Electron security (DESIGN §6, issue #9), asserted on the BUILT bundles rather than the sources:
 * main and preload are built with electron-vite into a private folder, then the main bundle is run
 * under plain Node against a recording test double of `electron` (the Electron binary cannot be
 * installed here, DESIGN §7), and the window options, handlers and hooks it actually installs are
 * exercised. The preload bundle runs in a vm with a fake `require`. Mutants of the built bundle
 * (sandbox flipped, 'unsafe-eval' added) prove the checks fail when a setting is flipped.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/main/engine/file/FileStore';
import { IPC_CHANNEL, JOB_CHANNEL, type PreloadApi } from '../../src/shared/ipc';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SUPPORT = fileURLToPath(new URL('./support/', import.meta.url));

/**
 * The preload's whole surface, an allowlist: a member added to PreloadApi fails to compile here until
 * it is listed, so every widening of what the page can reach gets a look (and a check below).
 */
const EXPOSED = ['call', 'onJob', 'pathForFile'] as const satisfies readonly (keyof PreloadApi)[];
type Unlisted = Exclude<keyof PreloadApi, (typeof EXPOSED)[number]>;
const _everyKeyListed: [Unlisted] extends [never] ? true : never = true;
void _everyKeyListed;

let buildDir: string;
let tmp: string;
let storeDir: string;

beforeAll(async () => {
  // A private output folder: never races another engineer's `electron-vite build` into out/.
  buildDir = join(ROOT, 'node_modules', '.cache', `chronoscope-electron-bundle-${process.pid}`);
  mkdirSync(buildDir, { recursive: true });
  // Only main and preload: the renderer is not under test here and is the slow part of a build.
  writeFileSync(
    join(buildDir, 'electron.vite.config.mjs'),
    `import base from ${JSON.stringify(join(ROOT, 'electron.vite.config.ts'))};\nexport default { main: base.main, preload: base.preload };\n`,
  );
  const script = `import { build } from 'electron-vite';
await build({ root: ${JSON.stringify(ROOT)}, configFile: ${JSON.stringify(join(buildDir, 'electron.vite.config.mjs'))},
  build: { outDir: ${JSON.stringify(join(buildDir, 'out'))} }, logLevel: 'warn', ignoreConfigWarning: true });`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`electron-vite build failed:\n${r.stderr}`);
  // Node stops looking for package.json at a node_modules boundary: mark the bundle as ESM, as out/ is.
  writeFileSync(join(buildDir, 'out', 'package.json'), '{"type":"module"}\n');
  tmp = mkdtempSync(join(tmpdir(), 'chronoscope-electron-'));
  storeDir = join(tmp, 'store');
  const s = await FileStore.open(storeDir);
  await s.append([{ stream: 'Order-1', type: 'OrderPlaced', data: { total: 5 } }]);
  await s.close();
}, 120_000);

afterAll(() => {
  if (buildDir) rmSync(buildDir, { recursive: true, force: true });
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface Probe {
  windows: number;
  errors: string[];
  options?: { webPreferences?: Record<string, unknown> } & Record<string, unknown>;
  loaded?: { file?: string; url?: string }[];
  handledEvents?: string[];
  willNavigatePrevented?: boolean[];
  willAttachWebviewPrevented?: boolean[];
  windowOpen?: { url: string; result: { action?: string } }[] | null;
  openedExternally?: string[];
  headerHooks: number;
  headers?: Record<string, string[]>;
  permissions: unknown[];
  ipcChannels: string[];
  ipcStats?: { ok: boolean };
  ipcBad?: { ok: boolean; error?: { code: string } };
  ipcJunk?: { ok: boolean; error?: { code: string } };
  quitHandlers: string[];
  exitCode?: number;
}

/** Runs a built main bundle against the Electron double in a child process and returns what it observed. */
function probe(bundle: string): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', join(SUPPORT, 'electronHooks.mjs'), join(SUPPORT, 'electronProbe.mjs'), bundle],
      {
        cwd: tmp, // no chronoscope.config.json here: defaults
        env: { ...process.env, CHRONOSCOPE_STORE: storeDir, ELECTRON_RENDERER_URL: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.stderr.on('data', (c: Buffer) => (err += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('PROBE '));
      if (!line) reject(new Error(`probe exited ${code} without a report:\n${out}\n${err}`));
      else resolve(JSON.parse(line.slice(6)) as Probe);
    });
  });
}

/** CSP directives by name. */
function parseCsp(csp: string): Map<string, string[]> {
  return new Map(
    csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name!.toLowerCase(), values]),
  );
}

/** Everything DESIGN §6 asks of the desktop host, as a list of violations (empty when all hold). */
function securityProblems(p: Probe): string[] {
  const out: string[] = [];
  if (p.errors.length) out.push(`startup errors: ${p.errors.join('; ')}`);
  if (p.windows !== 1) out.push(`${p.windows} windows created`);
  const wp = p.options?.webPreferences ?? {};
  if (wp.contextIsolation !== true) out.push(`contextIsolation is ${String(wp.contextIsolation)}`);
  if (wp.sandbox !== true) out.push(`sandbox is ${String(wp.sandbox)}`);
  if (wp.nodeIntegration !== false) out.push(`nodeIntegration is ${String(wp.nodeIntegration)}`);
  if (wp.webSecurity === false) out.push('webSecurity is disabled');
  for (const k of [
    'nodeIntegrationInWorker',
    'nodeIntegrationInSubFrames',
    'allowRunningInsecureContent',
    'experimentalFeatures',
    'webviewTag',
  ])
    if (wp[k] === true) out.push(`${k} is enabled`);
  if (typeof wp.preload !== 'string' || !/preload[/\\]index\.cjs$/.test(wp.preload))
    out.push(`preload is ${String(wp.preload)}`);
  const loaded = p.loaded ?? [];
  if (loaded.length !== 1 || !loaded[0]!.file?.endsWith('index.html') || loaded[0]!.url)
    out.push(`loads ${JSON.stringify(loaded)} instead of the local renderer file`);
  if (!p.willNavigatePrevented?.length || p.willNavigatePrevented.includes(false))
    out.push('navigation is not blocked');
  if (!p.willAttachWebviewPrevented?.length || p.willAttachWebviewPrevented.includes(false))
    out.push('webviews are not blocked');
  if (!p.windowOpen) out.push('no window-open handler');
  for (const w of p.windowOpen ?? [])
    if (w.result?.action !== 'deny') out.push(`window.open(${w.url}) → ${JSON.stringify(w.result)}`);
  for (const u of p.openedExternally ?? [])
    if (!/^https?:\/\//.test(u)) out.push(`opened ${u} outside the app`);
  const csp = p.headers?.['Content-Security-Policy'];
  if (p.headerHooks < 1 || !csp || csp.length !== 1) out.push(`CSP header ${JSON.stringify(csp)}`);
  else {
    const d = parseCsp(csp[0]!);
    if (d.get('default-src')?.join(' ') !== "'self'")
      out.push(`default-src ${d.get('default-src')?.join(' ')}`);
    const scripts = d.get('script-src') ?? d.get('default-src') ?? [];
    for (const bad of ["'unsafe-eval'", "'unsafe-inline'", "'wasm-unsafe-eval'", '*', 'data:', 'blob:'])
      if (scripts.includes(bad)) out.push(`script-src allows ${bad}`);
    for (const [name, values] of d)
      for (const v of values)
        if (/^(https?:|wss?:|\*|[a-z0-9.-]+\.[a-z]{2,})/i.test(v) && !v.startsWith("'"))
          out.push(`${name} allows remote ${v}`);
    if (d.get('object-src')?.join(' ') !== "'none'") out.push('object-src is not none');
    if (d.get('frame-ancestors')?.join(' ') !== "'none'") out.push('frame-ancestors is not none');
  }
  if (p.permissions.length < 1 || p.permissions.some((granted) => granted !== false))
    out.push('permission requests are not denied');
  if (p.ipcChannels.length !== 1 || p.ipcChannels[0] !== IPC_CHANNEL)
    out.push(`IPC channels ${p.ipcChannels.join(', ')}`);
  if (p.ipcStats?.ok !== true) out.push('the IPC channel does not serve the handler table');
  if (p.ipcBad?.ok !== false || p.ipcBad.error?.code !== 'INVALID_ARGUMENT')
    out.push(`bad IPC call → ${JSON.stringify(p.ipcBad)}`);
  if (p.ipcJunk?.ok !== false || p.ipcJunk.error?.code !== 'INVALID_ARGUMENT')
    out.push(`junk IPC request → ${JSON.stringify(p.ipcJunk)}`);
  return out;
}

const mainBundle = () => join(buildDir, 'out', 'main', 'index.js');

/** A copy of the built main bundle with one exact text replaced, beside the original so its imports resolve. */
function mutant(name: string, from: string, to: string): string {
  const src = readFileSync(mainBundle(), 'utf8');
  expect(src.split(from).length - 1, `"${from}" occurs once in the built bundle`).toBe(1);
  const path = join(buildDir, 'out', 'main', `mutant-${name}.js`);
  writeFileSync(path, src.replace(from, to));
  return path;
}

describe('Electron security of the built main bundle', () => {
  let p: Probe;
  beforeAll(async () => {
    p = await probe(mainBundle());
    console.info(
      `electron probe: webPreferences ${JSON.stringify(p.options?.webPreferences)}; handlers ${p.handledEvents?.join(', ')}; CSP ${p.headers?.['Content-Security-Policy']?.[0]}`,
    );
  }, 90_000);

  it('creates one window with contextIsolation, sandbox, no Node integration and web security on', () => {
    expect(p.errors).toEqual([]);
    expect(p.windows).toBe(1);
    expect(p.options!.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    });
    expect(p.options!.webPreferences!.webSecurity).not.toBe(false);
    expect(existsSync(join(buildDir, 'out', 'preload', 'index.cjs'))).toBe(true);
  });

  it('blocks navigation, webviews and new windows; only http(s) links go to the system browser', () => {
    expect(p.willNavigatePrevented).toEqual([true]);
    expect(p.willAttachWebviewPrevented).toEqual([true]);
    expect(p.windowOpen!.map((w) => w.result)).toEqual(p.windowOpen!.map(() => ({ action: 'deny' })));
    expect(p.openedExternally).toEqual(['https://evil.example/x', 'http://evil.example/']);
  });

  it('replaces any response CSP with a strict one: no eval, no inline script, no remote origins', () => {
    expect(p.headers!['Content-Security-Policy']).toHaveLength(1);
    expect(p.headers!['Content-Security-Policy']![0]).not.toContain('unsafe-eval');
    expect(p.headers!['X-Content-Type-Options']).toEqual(['nosniff']);
  });

  it('serves only the handler table over one IPC channel, with typed errors for junk, and closes the store on quit', () => {
    expect(p.ipcChannels).toEqual([IPC_CHANNEL]);
    expect(p.ipcJunk).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(p.quitHandlers).toEqual(expect.arrayContaining(['window-all-closed', 'will-quit']));
    expect(p.exitCode).toBe(0);
  });

  it('passes every check of DESIGN §6', () => {
    expect(securityProblems(p)).toEqual([]);
  });

  it('the checks catch a flipped sandbox and an added unsafe-eval in the bundle (so they can fail)', async () => {
    const sandboxOff = await probe(mutant('sandbox', 'sandbox: true', 'sandbox: false'));
    expect(securityProblems(sandboxOff)).toContain('sandbox is false');
    const evalOn = await probe(mutant('eval', "script-src 'self'", "script-src 'self' 'unsafe-eval'"));
    expect(securityProblems(evalOn)).toContain("script-src allows 'unsafe-eval'");
  }, 90_000);
});

describe('the built preload', () => {
  it('requires only electron and exposes only the typed API as window.chronoscope, never ipcRenderer', async () => {
    const code = readFileSync(join(buildDir, 'out', 'preload', 'index.cjs'), 'utf8');
    const required: string[] = [];
    const exposed: [string, Record<string, unknown>][] = [];
    const invoked: unknown[][] = [];
    const listeners = new Map<string, ((...a: unknown[]) => void)[]>();
    const ipcRenderer = {
      invoke: async (...a: unknown[]) => void invoked.push(a),
      on: (ch: string, fn: (...a: unknown[]) => void) =>
        listeners.set(ch, [...(listeners.get(ch) ?? []), fn]),
      removeListener: (ch: string, fn: (...a: unknown[]) => void) =>
        listeners.set(
          ch,
          (listeners.get(ch) ?? []).filter((f) => f !== fn),
        ),
    };
    const pathsAsked: unknown[] = [];
    const webUtils = { getPathForFile: (f: unknown) => (pathsAsked.push(f), '/dropped/file.jsonl') };
    const electron = {
      webUtils,
      ipcRenderer,
      contextBridge: { exposeInMainWorld: (k: string, v: Record<string, unknown>) => exposed.push([k, v]) },
    };
    const module = { exports: {} };
    runInNewContext(code, {
      require: (id: string) => {
        required.push(id);
        if (id !== 'electron') throw new Error(`a sandboxed preload cannot require ${id}`);
        return electron;
      },
      module,
      exports: module.exports,
    });
    expect(required).toEqual(['electron']);
    expect(exposed.map(([k]) => k)).toEqual(['chronoscope']);
    const api = exposed[0]![1];
    expect(Object.keys(api).sort()).toEqual([...EXPOSED].sort());
    for (const v of Object.values(api)) {
      expect(typeof v).toBe('function');
      expect(v).not.toBe(ipcRenderer.invoke);
    }
    await (api.call as (m: string, p: unknown) => Promise<unknown>)('stats', {});
    expect(invoked).toEqual([[IPC_CHANNEL, { method: 'stats', params: {} }]]);
    // Job updates reach the page without Electron's event object (it carries the sender).
    const got: unknown[][] = [];
    const off = (api.onJob as (l: (...a: unknown[]) => void) => () => void)((...a) => got.push(a));
    expect([...listeners.keys()]).toEqual([JOB_CHANNEL]);
    listeners.get(JOB_CHANNEL)![0]!({ sender: 'secret' }, { job: 'j1', progress: 0.5 });
    expect(got).toEqual([[{ job: 'j1', progress: 0.5 }]]);
    off();
    expect(listeners.get(JOB_CHANNEL)).toEqual([]);
    // A dropped file's path, and nothing else of webUtils.
    expect((api.pathForFile as (f: unknown) => string)('FILE')).toBe('/dropped/file.jsonl');
    expect(pathsAsked).toEqual(['FILE']);
  });
});
