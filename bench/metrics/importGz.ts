import { join } from 'node:path';
import type { RunContext } from '../context';
import { errorCell } from '../rows';
import { runChild } from '../spawnChild';

interface ImportResult {
  ms: number;
  lines: number;
  imported: number;
  duplicates: number;
  quarantined: number;
  format?: string;
}

/**
 * Writes the workload as a camelCase `.jsonl.gz` foreign log (untimed), then times importFiles into
 * a fresh store in a child process, as `chronoscope import` runs: not in the harness's process,
 * whose heap (the other subjects, the workload) its collections would also have to mark.
 */
export async function importRow(ctx: RunContext): Promise<void> {
  if (!ctx.wants('import-gz')) return;
  try {
    const file = join(ctx.tmp, 'foreign.jsonl.gz');
    ctx.log('import-gz: writing the foreign log');
    const { lines } = await ctx.workload.writeForeignLog(file);
    ctx.log('import-gz: importing (child process)');
    const r = await runChild<ImportResult>([
      'import',
      JSON.stringify({ file, dir: join(ctx.tmp, 'import-store') }),
    ]);
    const details = { ...r, process: 'child' };
    if (r.imported !== lines)
      throw Object.assign(new Error(`imported ${r.imported} of ${lines} lines`), { details });
    ctx.table.set('import-gz', 'ours', { value: lines / (r.ms / 1000), details });
    ctx.log(`import-gz: ${Math.round(lines / (r.ms / 1000))} lines/s (${r.format})`);
  } catch (err) {
    ctx.table.set('import-gz', 'ours', errorCell(err));
  }
}
