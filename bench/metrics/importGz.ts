import { join } from 'node:path';
import { FileStore } from '../../src/main/engine/file/FileStore';
import { importFiles } from '../../src/main/engine/ingest/importer';
import type { RunContext } from '../context';
import { errorCell } from '../rows';

/** Writes the workload as a camelCase `.jsonl.gz` foreign log (untimed), then times importFiles into a fresh store. */
export async function importRow(ctx: RunContext): Promise<void> {
  if (!ctx.wants('import-gz')) return;
  let store: FileStore | undefined;
  try {
    const file = join(ctx.tmp, 'foreign.jsonl.gz');
    ctx.log('import-gz: writing the foreign log');
    const { lines } = await ctx.workload.writeForeignLog(file);
    store = await FileStore.open(join(ctx.tmp, 'import-store'));
    ctx.log('import-gz: importing');
    const t0 = performance.now();
    const sum = await importFiles(store, [file], { format: 'auto' });
    const ms = performance.now() - t0;
    const details = {
      lines: sum.lines,
      imported: sum.imported,
      duplicates: sum.duplicates,
      quarantined: sum.quarantined,
      format: sum.files[0]?.format,
      ms,
    };
    if (sum.imported !== lines)
      throw Object.assign(new Error(`imported ${sum.imported} of ${lines} lines`), { details });
    ctx.table.set('import-gz', 'ours', { value: lines / (ms / 1000), details });
    ctx.log(`import-gz: ${Math.round(lines / (ms / 1000))} lines/s (${sum.files[0]?.format})`);
  } catch (err) {
    ctx.table.set('import-gz', 'ours', errorCell(err));
  } finally {
    await store?.close().catch(() => {});
  }
}
