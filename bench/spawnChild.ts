import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { withMallocEnv } from '../bin/mallocEnv.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const CHILD = join(HERE, 'child.ts');

/**
 * Runs one bench/child.ts mode in a fresh Node process, so its RSS and open time are not
 * polluted by the harness's own heap; resolves with the JSON the child prints last on stdout.
 */
export function runChild<T>(args: string[], timeoutMs = 30 * 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      // The malloc tuning the app's launcher gives the app (bin/mallocEnv.mjs): measure what runs.
      env: withMallocEnv(),
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`child ${args[0]} exited with ${code ?? signal}: ${last}`));
      try {
        const msg = JSON.parse(last) as { error?: string } & T;
        if (msg.error) reject(new Error(msg.error));
        else resolve(msg);
      } catch {
        reject(new Error(`child ${args[0]} printed no result: ${last.slice(0, 200)}`));
      }
    });
  });
}
