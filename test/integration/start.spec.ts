import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { MALLOC_ENV } from '../../bin/mallocEnv.mjs';
import { FileStore } from '../../src/main/engine/file/FileStore';

let dir: string | undefined;
/** Processes to stop if the test ends early (a failed expectation must not leave a server running). */
const running: number[] = [];
afterEach(() => {
  for (const pid of running.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Pids whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

it.runIf(process.platform === 'linux')(
  'npm start serves the app from a process with the malloc tuning, and SIGTERM stops it',
  async () => {
    dir = mkdtempSync(join(tmpdir(), 'chronoscope-start-'));
    const store = await FileStore.open(dir);
    await store.append([{ stream: 'Order-1', type: 'OrderPlaced', data: {} }]);
    await store.close();
    const env: NodeJS.ProcessEnv = { ...process.env, CHRONOSCOPE_NO_OPEN: '1' };
    delete env.MALLOC_MMAP_THRESHOLD_;
    const launcher = spawn(process.execPath, ['bin/start.mjs', dir, '--web'], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    running.push(launcher.pid!);
    let out = '';
    launcher.stdout.setEncoding('utf8');
    const url = await new Promise<string>((resolve, reject) => {
      launcher.stdout.on('data', (d: string) => {
        out += d;
        const m = /Open (http:\/\/127\.0\.0\.1:\d+\S*)/.exec(out);
        if (m) resolve(m[1]!);
      });
      launcher.on('exit', (code) => reject(new Error(`start exited with ${code}: ${out}`)));
    });
    // The token is swapped for a cookie and a redirect: anything but a refusal means it serves.
    expect((await fetch(url, { redirect: 'manual' })).status).toBeLessThan(400);
    const [host] = childrenOf(launcher.pid!);
    expect(host).toBeDefined();
    running.push(host!);
    const environ = readFileSync(`/proc/${host}/environ`, 'utf8').split('\0');
    for (const [k, v] of Object.entries(MALLOC_ENV)) expect(environ).toContain(`${k}=${v}`);
    const exited = new Promise<number | null>((resolve) => launcher.on('exit', (code) => resolve(code)));
    launcher.kill('SIGTERM');
    expect(await exited).toBe(0);
    await expect(fetch(url)).rejects.toThrow();
  },
  180_000,
);
