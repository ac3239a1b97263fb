import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RunContext } from '../context';
import { errorCell } from '../rows';
import type { SoakResult } from '../soakLoop';
import { runChild } from '../spawnChild';

/** `--soak`: sustained ingest in a child process (its RSS is the store's, not the harness's). */
export async function soakRows(ctx: RunContext): Promise<void> {
  if (!ctx.wants('soak-rss') && !ctx.wants('soak-append-p99')) return;
  const { soakRate: rate, soakSeconds: seconds, seed, events } = ctx.opts;
  try {
    const dir = join(ctx.tmp, 'soak');
    mkdirSync(dir, { recursive: true });
    ctx.log(`soak: ${rate} ev/s for ${seconds} s`);
    const r = await runChild<SoakResult>(
      ['soak', JSON.stringify({ dir, rate, seconds, seed, events })],
      (seconds + 600) * 1000,
    );
    const common = { achievedRate: r.achievedRate, maxLagMs: r.maxLagMs, events: r.events, seconds };
    ctx.table.set('soak-rss', 'ours', {
      value: r.rssDriftPct,
      details: { ...common, medianMB: r.rssMedianMB, warmupSeconds: r.warmupSeconds, samples: r.rssSamples },
    });
    ctx.table.set('soak-append-p99', 'ours', {
      value: r.append.p99,
      details: { ...common, ...r.append, measuredFrom: 'scheduled time', service: r.service },
    });
    ctx.log(
      `soak: achieved ${Math.round(r.achievedRate)} ev/s, append p99 ${r.append.p99.toFixed(1)} ms, RSS ±${r.rssDriftPct.toFixed(1)} %`,
    );
  } catch (err) {
    ctx.table.set('soak-rss', 'ours', errorCell(err));
    ctx.table.set('soak-append-p99', 'ours', errorCell(err));
  }
}
