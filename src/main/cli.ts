import { Command, Option } from 'commander';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';
import { ChronoscopeError, isChronoscopeError } from '../shared/errors';
import type { EventInput, StoredEvent } from '../shared/event';
import { configJsonSchema, loadConfig, type ChronoscopeConfig } from './engine/config';
import { createDemoStore } from './engine/demo/createDemoStore';
import { FileStore } from './engine/file/FileStore';
import type { FileVerifyReport } from './engine/file/verify';
import { importFiles } from './engine/ingest/importer';
import { openStore } from './engine/store';
import type { EventStore } from './engine/types';
import { filterFromFlags, type FilterFlags } from './cli/filterFlags';
import { printEvents, type OutputFormat } from './cli/output';
import { progressBar } from './cli/progress';
import { registerFollowCommand } from './cli/followCommand';
import { registerTimeTravelCommands } from './cli/timetravelCommands';
import { registerReplayCommand } from './cli/replayCommand';
import { defaultRecentFile } from './host/recentStores';

interface GlobalOpts {
  config?: string;
  backend?: 'file' | 'memory';
  segmentMaxBytes?: string;
  compressionLevel?: string;
}

const program = new Command();
program
  .name('chronoscope')
  .description('A local workbench for event-sourced systems: browse, search, tail and verify event logs.')
  .option('-c, --config <file>', 'config file (default: ./chronoscope.config.json when present)')
  .addOption(new Option('--backend <name>', 'storage backend').choices(['file', 'memory']))
  .option('--segment-max-bytes <n>', 'seal the active segment at this size')
  .option('--compression-level <n>', 'gzip level 0-9 for sealed segments')
  .showHelpAfterError();

/** Config file first, then CLI flags on top (DESIGN §3). */
function effectiveConfig(): ChronoscopeConfig {
  const g = program.opts<GlobalOpts>();
  const { config } = loadConfig(g.config);
  if (g.backend) config.backend = g.backend;
  const int = (v: string, flag: string) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0)
      throw new ChronoscopeError('INVALID_ARGUMENT', `${flag} "${v}": expected a non-negative integer`);
    return n;
  };
  if (g.segmentMaxBytes) config.file.segmentMaxBytes = int(g.segmentMaxBytes, '--segment-max-bytes');
  if (g.compressionLevel) config.file.compressionLevel = int(g.compressionLevel, '--compression-level');
  return config;
}

async function withStore<T>(
  path: string | undefined,
  opts: { readOnly?: boolean; create?: boolean },
  fn: (s: EventStore) => Promise<T>,
): Promise<T> {
  const config = effectiveConfig();
  const store = await openStore(config, {
    path: path ?? config.store,
    readOnly: opts.readOnly,
    create: opts.create ?? false,
  });
  reportRepairs(store);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function reportRepairs(store: EventStore): void {
  if (!(store instanceof FileStore)) return;
  const r = store.report;
  if (r.tornTailBytes)
    process.stderr.write(`recovered: cut a torn tail of ${r.tornTailBytes} bytes from ${r.tornTailFile}\n`);
  if (r.removedTmp.length) process.stderr.write(`recovered: removed stale ${r.removedTmp.join(', ')}\n`);
  if (r.rebuiltIndex) process.stderr.write(`recovered: rebuilt the index (${r.rebuildReason})\n`);
  if (r.indexedSegments.length) process.stderr.write(`recovered: indexed ${r.indexedSegments.join(', ')}\n`);
  for (const p of r.problems)
    process.stderr.write(
      `warning: ${p.file}${p.offset !== undefined ? ` at ${p.offset}` : ''}: ${p.problem}\n`,
    );
}

const fmtOption = () =>
  new Option('-f, --format <format>', 'output format').choices(['table', 'json', 'jsonl']).default('table');

function addFilterFlags(cmd: Command): Command {
  const many = (v: string, prev: string[] = []) => [...prev, v];
  return cmd
    .option('-t, --type <type>', 'event type (repeat or comma-separate for any of several)', many)
    .option('-s, --stream <stream>', 'stream id; a trailing * matches a prefix')
    .option('--tenant <tenant>', 'tenant')
    .option('--actor <actor>', 'actor')
    .option('--correlation <id>', 'correlation id')
    .option('--causation <id>', 'causation id')
    .option('--tag <tag>', 'tag the event must carry (repeatable: all must match)', many)
    .option('--since <time>', 'from this time (ISO, or a duration ago: 2h, 3d)')
    .option('--until <time>', 'before this time (ISO, or a duration ago)')
    .option('--from-seq <seq>', 'from this seq (inclusive)')
    .option('--to-seq <seq>', 'up to this seq (inclusive)')
    .option(
      '-w, --where <expr>',
      'JSON predicate on data (or meta.*): path=value, path>3, path~text, path? ... (repeatable)',
      many,
    )
    .option('-q, --search <text>', 'case-insensitive text search in data');
}

program
  .command('init')
  .argument('<store>', 'folder for the new store')
  .description('create an empty store')
  .action(async (path: string) => {
    if (existsSync(join(path, 'segments')))
      throw new ChronoscopeError('INVALID_ARGUMENT', `${path} already holds a store`);
    await withStore(path, { create: true }, async () => {});
    process.stdout.write(`created store ${resolve(path)}\n`);
  });

addFilterFlags(
  program
    .command('query')
    .argument('[store]', 'store folder')
    .description('find events; every filter is a flag')
    .option('-n, --limit <n>', 'max events to print (all pages up to this)', '100')
    .option('--desc', 'newest first')
    .option('--explain', 'print the chosen index and candidates scanned on stderr')
    .addOption(fmtOption()),
).action(
  async (
    path: string | undefined,
    o: FilterFlags & { limit: string; desc?: boolean; explain?: boolean; format: OutputFormat },
  ) => {
    const limit = Number(o.limit);
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new ChronoscopeError('INVALID_ARGUMENT', `--limit "${o.limit}": expected a positive integer`);
    await withStore(path, { readOnly: true }, async (store) => {
      const filter = filterFromFlags(o);
      const events: StoredEvent[] = [];
      let cursor: string | undefined;
      const t0 = performance.now();
      do {
        const page = await store.query(filter, {
          order: o.desc ? 'desc' : 'asc',
          limit: Math.min(1000, limit - events.length),
          cursor,
        });
        events.push(...page.events);
        cursor = page.nextCursor;
        if (o.explain)
          process.stderr.write(
            `plan: index=${page.plan.index} estimate=${page.plan.estimate} scanned=${page.plan.scanned}\n`,
          );
      } while (cursor && events.length < limit);
      printEvents(events, o.format);
      if (o.explain)
        process.stderr.write(`${events.length} events in ${(performance.now() - t0).toFixed(1)} ms\n`);
    });
  },
);

addFilterFlags(
  program
    .command('histogram')
    .argument('[store]', 'store folder')
    .option('-b, --buckets <n>', 'number of time buckets', '40')
    .option('--json', 'machine-readable output')
    .description('matching events per time bucket, drawn as bars; bursts are marked'),
).action(async (path: string | undefined, o: FilterFlags & { buckets: string; json?: boolean }) => {
  await withStore(path, { readOnly: true }, async (store) => {
    const h = await store.histogram(filterFromFlags(o), { buckets: Number(o.buckets) });
    if (o.json) return void process.stdout.write(`${JSON.stringify(h, null, 2)}\n`);
    const max = Math.max(1, ...h.counts);
    const width = Math.max(10, Math.min(60, (process.stdout.columns || 100) - 40));
    const bursts = new Set(h.bursts);
    const lines = h.counts.map((c, i) => {
      const start = new Date(Date.parse(h.from) + i * h.bucketMs)
        .toISOString()
        .replace('T', ' ')
        .slice(0, 19);
      const bar = '█'.repeat(Math.round((c / max) * width)) || (c > 0 ? '▏' : '');
      return `${start}  ${String(c).padStart(8)}  ${bar}${bursts.has(i) ? '  ◀ burst' : ''}`;
    });
    process.stdout.write(
      `${lines.join('\n')}\n${h.total} events, ${h.counts.length} buckets of ${h.bucketMs / 1000} s\n`,
    );
  });
});

program
  .command('get')
  .argument('<store>', 'store folder')
  .argument('<id>', 'event id (or #seq)')
  .description('print one event by id, or by seq as #123')
  .addOption(fmtOption().default('json'))
  .action(async (path: string, id: string, o: { format: OutputFormat }) => {
    await withStore(path, { readOnly: true }, async (store) => {
      const e = id.startsWith('#') ? await store.getBySeq(Number(id.slice(1))) : await store.getEvent(id);
      if (!e) throw new ChronoscopeError('NOT_FOUND', `no event ${id}`);
      printEvents([e], o.format);
    });
  });

program
  .command('stream')
  .argument('<store>', 'store folder')
  .argument('<stream>', 'stream id')
  .option('--from <version>', 'first version', '1')
  .option('--to <version>', 'last version')
  .addOption(fmtOption())
  .description("print one stream's events in version order")
  .action(async (path: string, stream: string, o: { from: string; to?: string; format: OutputFormat }) => {
    await withStore(path, { readOnly: true }, async (store) => {
      printEvents(
        await store.readStream(stream, Number(o.from), o.to === undefined ? undefined : Number(o.to)),
        o.format,
      );
    });
  });

program
  .command('tail')
  .argument('[store]', 'store folder')
  .option('-n, --lines <n>', 'how many recent events to print first', '10')
  .option('-f, --follow', 'keep printing new events as they are appended (also by another process)')
  .addOption(
    new Option('--format <format>', 'output format').choices(['table', 'json', 'jsonl']).default('table'),
  )
  .description('print the newest events; with -f, follow the store live (like tail -f)')
  .action(async (path: string | undefined, o: { lines: string; follow?: boolean; format: OutputFormat }) => {
    await withStore(path, { readOnly: true }, async (store) => {
      const recent = (
        await store.query({}, { order: 'desc', limit: Math.max(1, Number(o.lines)) })
      ).events.reverse();
      printEvents(recent, o.format);
      if (!o.follow) return;
      const sub = store.subscribe({ fromSeq: store.lastSeq() + 1 });
      const poll = setInterval(() => void (store as FileStore).refresh?.().catch(() => {}), 250);
      const stop = () => void sub.close();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        for await (const e of sub) printEvents([e], o.format === 'table' ? 'jsonl' : o.format);
      } finally {
        clearInterval(poll);
      }
    });
  });

program
  .command('append')
  .argument('[store]', 'store folder')
  .option('--expected-version <n>', 'optimistic concurrency: the stream must be at this version')
  .option('--batch <n>', 'events per append call', '1000')
  .description('append JSONL events from stdin; prints the last seq')
  .action(async (path: string | undefined, o: { expectedVersion?: string; batch: string }) => {
    await withStore(path, { create: true }, async (store) => {
      const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
      let batch: EventInput[] = [];
      let lineNo = 0;
      let appended = 0;
      let duplicates = 0;
      const flush = async () => {
        if (!batch.length) return;
        const r = await store.append(
          batch,
          o.expectedVersion === undefined ? undefined : { expectedVersion: Number(o.expectedVersion) },
        );
        appended += r.appended;
        duplicates += r.duplicates;
        batch = [];
      };
      for await (const line of rl) {
        lineNo++;
        if (!line.trim()) continue;
        try {
          batch.push(JSON.parse(line));
        } catch (err) {
          throw new ChronoscopeError(
            'INVALID_EVENT',
            `stdin line ${lineNo}: not valid JSON (${(err as Error).message})`,
            { line: lineNo },
          );
        }
        if (batch.length >= Number(o.batch)) await flush();
      }
      await flush();
      process.stdout.write(
        `appended ${appended} events${duplicates ? ` (${duplicates} duplicates skipped)` : ''}; last seq ${store.lastSeq()}\n`,
      );
    });
  });

program
  .command('import')
  .argument('<store>', 'store folder (created if missing)')
  .argument('<files...>', 'JSONL or .jsonl.gz files')
  .addOption(
    new Option('--format <format>', 'input format')
      .choices(['auto', 'native', 'cloudevents', 'snake', 'camel', 'mapping'])
      .default('auto'),
  )
  .option('--mapping <json>', 'user field mapping, e.g. {"type":"kind","stream":"entity.id","time":"ts"}')
  .description('import foreign logs; malformed lines are quarantined with file and line')
  .action(async (path: string, files: string[], o: { format: string; mapping?: string }) => {
    let mapping: unknown;
    if (o.mapping !== undefined) {
      try {
        mapping = JSON.parse(o.mapping);
      } catch (err) {
        throw new ChronoscopeError(
          'INVALID_ARGUMENT',
          `--mapping: not valid JSON (${(err as Error).message})`,
        );
      }
    }
    await withStore(path, { create: true }, async (store) => {
      const total = files.reduce((n, f) => n + (existsSync(f) ? statSync(f).size : 0), 0);
      const bar = progressBar('import', total, 'bytes');
      const done = new Map<string, number>();
      const quarantineDir = join(path, 'quarantine');
      mkdirSync(quarantineDir, { recursive: true, mode: 0o700 });
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      const summary = await importFiles(store, files, {
        format: o.format as never,
        mapping: mapping as never,
        quarantinePath: join(quarantineDir, `import-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`),
        signal: controller.signal,
        onProgress: (p) => {
          done.set(p.file, p.bytesRead);
          bar.update(
            [...done.values()].reduce((a, b) => a + b, 0),
            `${p.imported} imported, ${p.quarantined} quarantined`,
          );
        },
      }).finally(() => bar.stop());
      for (const f of summary.files) {
        process.stdout.write(
          `${f.file}: ${f.format ?? '?'} — ${f.lines} lines, ${f.imported} imported, ${f.duplicates} duplicates, ${f.quarantined} quarantined${f.error ? `; ERROR ${f.error.message}` : ''}\n`,
        );
      }
      process.stdout.write(
        `total: ${summary.imported} imported, ${summary.duplicates} duplicates, ${summary.quarantined} quarantined; last seq ${store.lastSeq()}\n`,
      );
      if (summary.quarantined > 0) {
        process.stdout.write(
          `quarantined lines (first ${Math.min(5, summary.quarantine.length)}; all in ${summary.quarantinePath}):\n`,
        );
        for (const q of summary.quarantine.slice(0, 5))
          process.stdout.write(`  ${q.file}:${q.line}: ${q.reason}\n`);
      }
      if (summary.failedFiles > 0) process.exitCode = 1;
    });
  });

program
  .command('stats')
  .argument('[store]', 'store folder')
  .option('--json', 'machine-readable output')
  .description('counts, time range, storage by tier, latency percentiles')
  .action(async (path: string | undefined, o: { json?: boolean }) => {
    await withStore(path, { readOnly: true }, async (store) => {
      const s = await store.stats();
      if (o.json) return void process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      const mb = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
      const lines = [
        `store      ${s.path ?? '(memory)'}${s.readOnly ? ' (read-only)' : ''}`,
        `events     ${s.events}  (seq ${s.firstSeq}–${s.lastSeq})`,
        `streams    ${s.streams}`,
        `time       ${s.firstTime ?? '-'} → ${s.lastTime ?? '-'}`,
        `storage    hot ${s.storage.hotEvents} events (~${mb(s.storage.hotBytes)}), active segment ${mb(s.storage.activeSegmentBytes)}, ` +
          `${s.storage.sealedSegments} sealed segments ${mb(s.storage.sealedSegmentBytes)}, index ${mb(s.storage.indexBytes)}`,
        `tenants    ${Object.entries(s.tenants)
          .map(([k, v]) => `${k}=${v}`)
          .join('  ')}`,
        'types',
        ...Object.entries(s.types)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `  ${String(v).padStart(9)}  ${k}`),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  });

program
  .command('verify')
  .argument('[store]', 'store folder')
  .option('--json', 'machine-readable output')
  .description('check every checksum, block, seq and index entry; names the file and offset of any damage')
  .action(async (path: string | undefined, o: { json?: boolean }) => {
    await withStore(path, { readOnly: true }, async (store) => {
      const r = await store.verify();
      if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else {
        for (const i of r.issues)
          process.stdout.write(
            `DAMAGE ${i.file}${i.offset !== undefined ? ` @${i.offset}` : ''}${i.seq ? ` seq ${i.seq}` : ''}: ${i.problem}\n`,
          );
        const lost = (r as FileVerifyReport).lost;
        if (lost)
          process.stdout.write(
            `INFO ${lost.count} seqs recorded as lost by repair (not damage): ${lost.ranges.map(([a, b]) => (a === b ? a : `${a}–${b}`)).join(', ')}\n`,
          );
        process.stdout.write(
          `${r.ok ? 'OK' : 'FAILED'}: ${r.checkedEvents} events in ${r.checkedSegments} segments checked, ${r.issues.length} issues\n`,
        );
      }
      if (!r.ok) process.exitCode = 2;
    });
  });

program
  .command('repair')
  .argument('[store]', 'store folder')
  .option('--json', 'machine-readable output')
  .description(
    'cut damaged lines and records out of the segments, keep everything intact, and record exactly which seqs are lost',
  )
  .action(async (path: string | undefined, o: { json?: boolean }) => {
    const config = effectiveConfig();
    const where = path ?? config.store;
    if (!where) throw new ChronoscopeError('INVALID_ARGUMENT', 'repair needs a store folder');
    // No normal open first: repair is for stores that open refuses. It takes the LOCK itself.
    const r = await FileStore.repair(resolve(where), { compressionLevel: config.file.compressionLevel });
    if (o.json) {
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      return;
    }
    const out: string[] = [];
    for (const d of r.damagedLines)
      out.push(
        `cut     ${d.file} @${d.offset}: ${d.length} bytes${d.seq !== undefined ? ` (names seq ${d.seq})` : ''}: ${d.reason}`,
      );
    for (const s of r.sealed)
      out.push(
        `sealed  ${s.file}${s.offset !== undefined ? ` @${s.offset}` : ''}: ${s.problem}; recovered ${s.recoveredEvents}, lost ${s.lostEvents}` +
          `${s.rewrittenAs.length ? `; rewritten as ${s.rewrittenAs.join(', ')}` : ''}${s.quarantinedAs ? `; moved to ${s.quarantinedAs}` : ''}`,
      );
    for (const n of r.indexed) out.push(`indexed ${n}`);
    if (r.plainWritten.length) out.push(`wrote   ${r.plainWritten.join(', ')}`);
    if (r.plainRemoved.length) out.push(`removed ${r.plainRemoved.join(', ')}`);
    for (const n of r.notes) out.push(`note    ${n}`);
    if (!r.changed) out.push('nothing to repair');
    else {
      out.push(`recovered ${r.recoveredEvents} events from damaged files`);
      out.push(r.lost.length ? `LOST ${r.lost.length} events: seqs ${r.lostRanges}` : 'lost nothing');
      for (const l of r.lost.slice(0, 50)) out.push(`  seq ${l.seq} (${l.file}): ${l.reason}`);
      if (r.lost.length > 50) out.push(`  … ${r.lost.length - 50} more (see --json or ${r.quarantineFile})`);
      if (r.quarantineFile) out.push(`quarantined ${r.quarantinedBytes} bytes; report in ${r.quarantineFile}`);
    }
    if (r.knownLost) out.push(`the store has ${r.knownLost} lost seqs recorded in all`);
    process.stdout.write(`${out.join('\n')}\n`);
  });

program
  .command('rebuild-index')
  .argument('[store]', 'store folder')
  .description('drop the SQLite index and rebuild it from the segments alone')
  .action(async (path: string | undefined) => {
    await withStore(path, {}, async (store) => {
      if (!(store instanceof FileStore))
        throw new ChronoscopeError('INVALID_ARGUMENT', 'rebuild-index needs the file backend');
      const t0 = performance.now();
      const r = await store.rebuildIndex();
      process.stdout.write(
        `rebuilt index: ${r.events} events from ${r.segments} sealed segments in ${((performance.now() - t0) / 1000).toFixed(2)} s\n`,
      );
    });
  });

program
  .command('seal')
  .argument('[store]', 'store folder')
  .description('seal the active segment now (compress it to blocked gzip and index it)')
  .action(async (path: string | undefined) => {
    await withStore(path, {}, async (store) => {
      if (!(store instanceof FileStore))
        throw new ChronoscopeError('INVALID_ARGUMENT', 'seal needs the file backend');
      await store.sealActive();
      process.stdout.write(`sealed; ${(await store.stats()).storage.sealedSegments} sealed segments\n`);
    });
  });

program
  .command('demo')
  .argument('<dir>', 'folder for the demo store (must not hold a store)')
  .option('-n, --events <n>', 'number of events', '300000')
  .option('--seed <n>', 'random seed', '1')
  .description('create a realistic demo store: an online shop, with one planted bug')
  .action(async (dir: string, o: { events: string; seed: string }) => {
    const events = Number(o.events);
    if (!Number.isSafeInteger(events) || events < 100)
      throw new ChronoscopeError('INVALID_ARGUMENT', `--events "${o.events}": expected an integer ≥ 100`);
    if (existsSync(join(dir, 'segments')) && readdirSync(join(dir, 'segments')).length)
      throw new ChronoscopeError('INVALID_ARGUMENT', `${dir} already holds a store`);
    const bar = progressBar('demo', events);
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    const config = effectiveConfig();
    const r = await createDemoStore(dir, {
      events,
      seed: Number(o.seed),
      onProgress: (n) => bar.update(n),
      signal: controller.signal,
      store: config.file,
    }).finally(() => bar.stop());
    process.stdout.write(
      `demo store ${resolve(dir)}: ${r.events} events (last seq ${r.lastSeq})\nplanted bug: ${r.plantedBug.description}\n`,
    );
  });

program
  .command('serve')
  .argument('[store]', 'store folder')
  .option('-p, --port <n>', 'port on 127.0.0.1 (default: a free one)', '0')
  .option('--read-only', 'open the store read-only (another process may be writing)')
  .description('serve the app and the JSON API on 127.0.0.1 with a per-run token')
  .action(async (path: string | undefined, o: { port: string; readOnly?: boolean }) => {
    const { serve, DEFAULT_RENDERER_DIR } = await import('./host/serve');
    if (!existsSync(join(DEFAULT_RENDERER_DIR, 'index.html'))) {
      process.stderr.write(`note: the app is not built yet (run \`npm run build\`); the API still works\n`);
    }
    const g = program.opts<GlobalOpts>();
    const s = await serve({
      storePath: path,
      port: Number(o.port),
      readOnly: o.readOnly,
      configPath: g.config,
      recentFile: defaultRecentFile(),
    });
    process.stdout.write(
      `Chronoscope is serving ${path ?? 'the configured store'} at\n  ${s.url}\n(the token in the URL is this run's key; Ctrl-C stops)\n`,
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await s.close();
  });

program
  .command('schema')
  .description('print the JSON Schema of chronoscope.config.json')
  .action(() => {
    process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
  });

registerTimeTravelCommands(program, withStore);
registerFollowCommand(program, withStore);
registerReplayCommand(program, withStore, addFilterFlags);

/** Runs the CLI; errors print one readable line (with the code) and set a non-zero exit code. */
export async function main(argv = process.argv): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (isChronoscopeError(err)) process.stderr.write(`chronoscope: ${err.message} [${err.code}]\n`);
    else process.stderr.write(`chronoscope: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode =
      isChronoscopeError(err, 'INVALID_ARGUMENT') || isChronoscopeError(err, 'INVALID_CONFIG') ? 2 : 1;
  }
}
