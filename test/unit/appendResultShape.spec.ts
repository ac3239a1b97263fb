import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const SCRIPT = join(import.meta.dirname, '../fixtures/v8/resultShapes.ts');

/**
 * Append results must share one V8 shape. Each used to get an accessor pair of its own holding a
 * closure over the call's events; V8 allocates such pairs in the old generation, so a dead result
 * kept its events (and the lines they were cut from) alive until the next full collection, and a
 * 1M-line import promoted hundreds of MB. After the first result, they also fell back to slow
 * dictionary-mode objects. Checked in a child process, where natives syntax is allowed.
 */
it('append results share one shape, before and after their events are read', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'chronoscope-shapes-'));
  try {
    const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', SCRIPT, dir], {
      encoding: 'utf8',
    });
    const { file, memory } = JSON.parse(out.trim().split('\n').pop()!) as {
      file: boolean[];
      memory: boolean[];
    };
    // Results 1–3 are unread, 4–6 read: pairs (1,2), (2,3) and (4,5), (5,6) share a map.
    expect(file).toEqual([true, true, false, true, true]);
    expect(memory).toEqual([true, true, false, true, true]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
