import type { RunContext } from '../context';
import { errorCell } from '../rows';
import { runChild } from '../spawnChild';

/** Bytes on disk per 1,000 events for ours and every baseline (the limit column: gzip of the raw JSON alone). */
export async function diskRow(ctx: RunContext): Promise<void> {
  if (!ctx.wants('disk-per-1k')) return;
  const n = ctx.workload.shape.events;
  for (const s of ctx.subjects) {
    try {
      const bytes = await s.diskBytes();
      ctx.table.set('disk-per-1k', s.name, { value: ((bytes / n) * 1000) / 1024, details: { bytes } });
      ctx.log(`disk ${s.name}: ${(bytes / (1 << 20)).toFixed(1)} MB`);
    } catch (err) {
      ctx.table.set('disk-per-1k', s.name, errorCell(err));
    }
  }
  if (ctx.limits) {
    ctx.table.set('disk-per-1k', 'limit', {
      value: ctx.limits.gzipBytesPer1k / 1024,
      details: {
        what: 'gzip -6 of the raw JSON lines alone, no index',
        rawKBPer1k: ctx.limits.rawBytesPer1k / 1024,
      },
    });
  }
}

interface RssResult {
  rssMB: number;
  baseMB: number;
  heapMB: number;
}

/** RSS of a child process holding the (closed by the caller) file store open after some reads. */
export async function rssFileRow(ctx: RunContext, dir: string): Promise<void> {
  if (!ctx.wants('rss-file')) return;
  try {
    ctx.log('rss-file: child opens the store');
    const r = await runChild<RssResult>([
      'rss-file',
      JSON.stringify({ dir, events: ctx.opts.events, seed: ctx.opts.seed }),
    ]);
    ctx.table.set('rss-file', 'ours', { value: r.rssMB, details: { ...r } });
    ctx.log(`rss-file: ${r.rssMB.toFixed(0)} MB (empty child ${r.baseMB.toFixed(0)} MB)`);
  } catch (err) {
    ctx.table.set('rss-file', 'ours', errorCell(err));
  }
}

/** RSS of a child process whose MemoryStore holds the whole workload. */
export async function rssMemoryRow(ctx: RunContext): Promise<void> {
  if (!ctx.wants('rss-memory')) return;
  try {
    ctx.log('rss-memory: child loads every event into a MemoryStore');
    const r = await runChild<RssResult>([
      'rss-memory',
      JSON.stringify({ events: ctx.opts.events, seed: ctx.opts.seed }),
    ]);
    ctx.table.set('rss-memory', 'ours', { value: r.rssMB, details: { ...r } });
    ctx.log(`rss-memory: ${r.rssMB.toFixed(0)} MB`);
  } catch (err) {
    ctx.table.set('rss-memory', 'ours', errorCell(err));
  }
}
