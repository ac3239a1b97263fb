import { FileStore } from '../../src/main/engine/file/FileStore';
import type { RunContext } from '../context';
import { errorCell } from '../rows';
import { runChild } from '../spawnChild';
import { summarise } from '../stats';

/** Open an existing store and return the first page, in a fresh child each time (3 runs, median reported). */
export async function openRow(ctx: RunContext, dir: string): Promise<void> {
  if (!ctx.wants('open-first-page')) return;
  try {
    const runs: number[] = [];
    let report: unknown;
    for (let i = 0; i < 3; i++) {
      const r = await runChild<{ ms: number; events: number; report: unknown }>([
        'open',
        JSON.stringify({ dir }),
      ]);
      if (r.events === 0) throw new Error('first page came back empty');
      runs.push(r.ms);
      report = r.report;
    }
    const s = summarise(runs);
    ctx.table.set('open-first-page', 'ours', { value: s.p50, details: { runs, openReport: report } });
    ctx.log(`open-first-page: ${s.p50.toFixed(0)} ms (runs ${runs.map((x) => x.toFixed(0)).join(', ')})`);
  } catch (err) {
    ctx.table.set('open-first-page', 'ours', errorCell(err));
  }
}

/** FileStore#rebuildIndex on the benchmark store: drop the index, rebuild it from sealed segments alone. */
export async function rebuildRow(ctx: RunContext, dir: string): Promise<void> {
  if (!ctx.wants('rebuild-index')) return;
  let store: FileStore | undefined;
  try {
    ctx.log('rebuild-index: starting');
    store = await FileStore.open(dir);
    const t0 = performance.now();
    const r = await store.rebuildIndex();
    const s = (performance.now() - t0) / 1000;
    const stats = await store.stats();
    ctx.table.set('rebuild-index', 'ours', {
      value: s,
      details: {
        ...r,
        hotEvents: stats.storage.hotEvents,
        note: 'rebuilds sealed segments; the active segment stays in the hot tier',
      },
    });
    ctx.log(`rebuild-index: ${s.toFixed(2)} s for ${r.events} events in ${r.segments} segments`);
  } catch (err) {
    ctx.table.set('rebuild-index', 'ours', errorCell(err));
  } finally {
    await store?.close().catch(() => {});
  }
}
