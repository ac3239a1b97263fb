import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
/** The CLI as users run it (`npx chronoscope`). */
export const BIN = join(import.meta.dirname, '../../bin/chronoscope.mjs');

/** Runs the CLI to completion with optional stdin; a non-zero exit is a result, not a throw. */
export async function cli(
  args: string[],
  input?: string,
): Promise<{ stdout: string; stderr: string; code: number }> {
  const child = exec('node', [BIN, ...args], { maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' } });
  if (input !== undefined) child.child.stdin!.end(input);
  try {
    const r = await child;
    return { stdout: r.stdout, stderr: r.stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}
