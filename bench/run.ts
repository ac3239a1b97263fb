/**
 * `npm run bench`: measures Chronoscope against its goals and against baselines on the same W1M
 * events in one run, prints a Markdown table and writes bench/results/<timestamp>.json.
 * Flags: --events N, --only k1,k2, --baselines naive,sqlite-rows,postgres,limit|none, --soak
 * [--soak-seconds S] [--soak-rate R], --warm-up-ms MS, --json-only, --out DIR, --seed N.
 */
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { measureLimits } from './baselines/limit';
import { stopAllPgServersSync } from './baselines/pgServer';
import { PostgresSubject } from './baselines/postgres';
import { parseOptions, RunContext } from './context';
import { diskRow, rssFileRow, rssMemoryRow } from './metrics/footprint';
import { importRow } from './metrics/importGz';
import { ingestAll } from './metrics/ingest';
import { compareReadCounts, READ_ROWS, readRows } from './metrics/reads';
import { openRow, rebuildRow } from './metrics/reopen';
import { soakRows } from './metrics/soak';
import { TIMETRAVEL_ROWS, timeTravelRows } from './metrics/timetravel';
import { UI_ROWS, uiRows } from './metrics/ui';
import { TYPES } from './workload';
import { OursSubject } from './ours';
import { buildRows, gitInfo, machineInfo, renderTable, writeResults, fmt } from './report';
import { BASELINES, ROWS, type Column } from './rows';

const OURS_ONLY: Record<string, string> = {
  'soak-rss': 'soak runs ours only',
  'soak-append-p99': 'soak runs ours only',
  'open-first-page': 'ours only: baselines keep a server or file open, nothing to recover',
  'rebuild-index': 'ours only: no index separable from the data',
  'rss-file': 'ours only (measured in a child process)',
  'rss-memory': 'ours only (memory backend)',
  'ui-filter-first-rows': 'ours only: the app over our engine',
  'ui-scroll-frame': 'ours only: the app over our engine',
  'import-gz': 'ours only: baselines have no importer',
};

/** Gives every cell still empty an explicit reason, so no row is ever silently missing a value. */
function fillBlanks(ctx: RunContext): void {
  for (const row of ROWS) {
    const all: Column[] = ['ours', ...BASELINES];
    if (!ctx.wants(row.key)) {
      const why = row.key.startsWith('soak') && !ctx.opts.soak ? 'run with --soak' : 'not selected (--only)';
      for (const c of all) ctx.table.set(row.key, c, { na: why });
      continue;
    }
    for (const c of BASELINES) {
      if (!ctx.opts.baselines.has(c)) ctx.table.fill(row.key, [c], 'not run (--baselines)');
      const reason = ctx.unavailable.get(c);
      if (reason) ctx.table.fill(row.key, [c], reason);
    }
    if (OURS_ONLY[row.key]) ctx.table.fill(row.key, [...BASELINES], OURS_ONLY[row.key]!);
    ctx.table.fill(row.key, ['limit'], 'no physical ceiling defined for this row');
    if (row.key === 'ingest-vs-ceiling') ctx.table.fill(row.key, all, 'needs the limit baseline');
    ctx.table.fill(row.key, all, 'not measured (an earlier step failed)');
  }
}

async function main(): Promise<void> {
  let opts;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const ctx = new RunContext(opts);
  const date = new Date().toISOString();
  const t0 = performance.now();
  const loadAtStart = loadavg().map((x) => Math.round(x * 100) / 100);
  const abort = (sig: string) => {
    process.stderr.write(`bench: ${sig}: stopping PostgreSQL servers and removing ${ctx.tmp}\n`);
    stopAllPgServersSync();
    rmSync(ctx.tmp, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', () => abort('SIGINT'));
  process.once('SIGTERM', () => abort('SIGTERM'));
  ctx.log(`W1M: ${opts.events} events, scratch ${ctx.tmp}`);
  try {
    const subjectRows = ['ingest', 'ingest-vs-ceiling', 'disk-per-1k', ...READ_ROWS.map((r) => r.key)];
    const needSubjects = subjectRows.some((k) => ctx.wants(k));
    const needStore =
      needSubjects ||
      ['open-first-page', 'rss-file', 'rebuild-index', ...TIMETRAVEL_ROWS, ...UI_ROWS].some((k) =>
        ctx.wants(k),
      );
    if (ctx.has('limit') && ['ingest', 'ingest-vs-ceiling', 'disk-per-1k'].some((k) => ctx.wants(k))) {
      ctx.log('limit: measuring JSON, gzip and write+fsync ceilings');
      ctx.limits = await measureLimits(ctx.workload, ctx.tmp, (s) => ctx.log(s));
    }
    if (needStore) await ingestAll(ctx, needSubjects, (s) => readRows(ctx, s));
    compareReadCounts(ctx);
    await diskRow(ctx);
    const ours = ctx.subjects.find((s): s is OursSubject => s instanceof OursSubject);
    await timeTravelRows(ctx, ours); // after diskRow: its snapshots would count as index bytes
    await closeSubjects(ctx);
    if (ours) {
      await openRow(ctx, ours.dir);
      await rssFileRow(ctx, ours.dir);
      await rebuildRow(ctx, ours.dir);
      await uiRows(ctx, ours.dir, TYPES);
    }
    await rssMemoryRow(ctx);
    await importRow(ctx);
    await soakRows(ctx);
  } finally {
    await closeSubjects(ctx);
    stopAllPgServersSync();
    rmSync(ctx.tmp, { recursive: true, force: true });
  }
  fillBlanks(ctx);
  const rows = buildRows(ctx.table);
  const doc = {
    date,
    machine: { ...machineInfo(), loadAvgAtStart: loadAtStart },
    git: gitInfo(),
    events: opts.events,
    workload: ctx.workload.shape,
    options: { ...opts, only: opts.only && [...opts.only], baselines: [...opts.baselines] },
    durationSeconds: (performance.now() - t0) / 1000,
    limits: ctx.limits ?? null,
    info: ctx.info,
    notes: ctx.notes,
    rows,
  };
  const path = writeResults(opts.outDir, doc);
  if (opts.jsonOnly) {
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  } else {
    const m = doc.machine;
    process.stdout.write(`\nChronoscope bench — ${date} — ${opts.events.toLocaleString('en-US')} events — `);
    process.stdout.write(`${m.cpus} × ${m.cpuModel}, ${m.memoryGB} GB, Node ${m.node}, `);
    process.stdout.write(`load avg ${loadAtStart[0]} at start, ${m.loadAvg[0]} at end\n\n`);
    process.stdout.write(renderTable(rows));
    const l = ctx.limits;
    if (l)
      process.stdout.write(
        `\nceilings (limit): JSON stringify+parse ${fmt(l.jsonEventsPerSec)} ev/s; gzip -6 ${fmt(l.gzipMBPerSec)} MB/s; ` +
          `write+fsync ${fmt(l.writeFsyncMBPerSec)} MB/s; raw JSON ${fmt(l.rawBytesPer1k / 1024)} KB per 1,000 events\n`,
      );
    for (const n of ctx.notes) process.stdout.write(`note: ${n}\n`);
    process.stdout.write(`\nresults: ${path} (${doc.durationSeconds.toFixed(0)} s)\n`);
  }
}

/** Closes every open subject (stopping the PostgreSQL server) and records that it stopped. */
async function closeSubjects(ctx: RunContext): Promise<void> {
  for (const s of ctx.subjects.splice(0)) {
    try {
      await s.close();
      if (s instanceof PostgresSubject) Object.assign(ctx.info.postgres ?? {}, { stopped: s.server.stopped });
    } catch (err) {
      ctx.notes.push(`closing ${s.name} failed: ${(err as Error).message}`);
    }
  }
}

await main();
