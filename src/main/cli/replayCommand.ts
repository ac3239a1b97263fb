/**
 * `chronoscope replay`: a range or filter through a user projection or handler (speed, JS
 * breakpoints, per-event errors, a resumable checkpoint; Ctrl-C stops cleanly and keeps it), or,
 * with --upcaster and --projection, the upcaster try-out on a scratch copy of the log.
 */
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { ChronoscopeError } from '../../shared/errors';
import { renderDiff } from '../../shared/projection';
import type { EventStore } from '../engine/types';
import { Replay, type ErrorDecision } from '../engine/timetravel/replay';
import { tryUpcaster } from '../engine/timetravel/upcasterTryout';
import { UserModule } from '../engine/timetravel/UserModule';
import { projectionOf } from '../engine/timetravel/userProjection';
import { filterFromFlags, type FilterFlags } from './filterFlags';
import { progressBar } from './progress';
import { renderTree, type WithStore } from './timetravelCommands';

type Out = (s: string) => void;

interface ReplayFlags extends FilterFlags {
  module?: string;
  upcaster?: string;
  projection?: string;
  from?: string;
  to?: string;
  speed: string;
  break?: string[];
  checkpoint?: string;
  resume?: boolean;
  onError?: string;
  timeout: string;
  json?: boolean;
}

function num(v: string | undefined, flag: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min)
    throw new ChronoscopeError('INVALID_ARGUMENT', `${flag} "${v}": expected a number ≥ ${min}`, {
      field: flag,
    });
  return n;
}

async function ask(question: string, answers: Record<string, string>): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    while (true) {
      const a = (await rl.question(question)).trim().toLowerCase();
      if (answers[a]) return answers[a];
    }
  } finally {
    rl.close();
  }
}

async function runReplay(store: EventStore, o: ReplayFlags, out: Out): Promise<void> {
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY);
  const onError = o.onError ?? (interactive ? 'ask' : 'abort');
  if (!['ask', 'skip', 'abort'].includes(onError))
    throw new ChronoscopeError('INVALID_ARGUMENT', `--on-error "${onError}": expected ask, skip or abort`);
  if (o.resume && !o.checkpoint)
    throw new ChronoscopeError('INVALID_ARGUMENT', '--resume needs --checkpoint <file>');
  const m = await UserModule.load(o.module!, {
    kind: 'any',
    watch: true,
    timeoutMs: num(o.timeout, '--timeout', 1),
  });
  m.on('reloaded', (r) => process.stderr.write(`reloaded ${r.file} (code ${r.codeHash.slice(0, 12)})\n`));
  m.on('reload-failed', (e) =>
    process.stderr.write(`reload failed, the old code keeps running:\n${e.message}\n`),
  );
  m.on('log', (line) => process.stderr.write(`[module] ${line}\n`));
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const filter = filterFromFlags(o);
  const replay = new Replay(store, m, {
    filter,
    from: num(o.from, '--from', 1),
    to: num(o.to, '--to', 0),
    speed: o.speed === 'max' ? undefined : num(o.speed, '--speed', 0.001),
    breakpoints: (o.break ?? []).map((expr) => ({ expr })),
    checkpointFile: o.checkpoint,
    resume: o.resume,
    onError: onError === 'ask' ? 'pause' : (onError as 'skip' | 'abort'),
    signal: ac.signal,
  });
  const bar = progressBar('replay', 1000, '‰');
  replay.on('progress', (p) =>
    bar.update(Math.round(p.fraction * 1000), `seq ${p.position}, ${p.processed} events`),
  );
  replay.on('paused', (p) => {
    if (p.reason !== 'breakpoint' || !p.next) return;
    const e = p.next;
    process.stderr.write(
      `\nbreakpoint ${p.breakpoint?.expr ?? ''} at seq ${e.seq}: ${e.type} ${e.stream} v${e.version} ${JSON.stringify(e.data)}\n`,
    );
    if (!interactive) return replay.resume(); // without a terminal, a breakpoint logs and goes on
    void (async () => {
      while (replay.status === 'paused') {
        const a = await ask('[c]ontinue [s]tep [b]ack [p]rint state [q]uit > ', {
          c: 'c',
          s: 's',
          b: 'b',
          p: 'p',
          q: 'q',
        });
        if (a === 'c') replay.resume();
        else if (a === 's') await replay.step();
        else if (a === 'b')
          await replay.stepBack().catch((err: Error) => process.stderr.write(`${err.message}\n`));
        else if (a === 'p') process.stderr.write(`${renderTree(replay.state)}\n`);
        else return ac.abort();
      }
    })();
  });
  replay.on('failed', (f) => {
    process.stderr.write(`\n${f.error.message}\n${String(f.error.details?.stack ?? '')}\n`);
    if (onError !== 'ask') return;
    void ask('[r]etry (edit the module first: it reloads) [s]kip [a]bort > ', {
      r: 'retry',
      s: 'skip',
      a: 'abort',
    }).then((d) => replay.status === 'error' && replay.decide(d as ErrorDecision));
  });
  try {
    const r = await replay.run();
    bar.stop();
    if (o.json) return out(`${JSON.stringify(r, null, 2)}\n`);
    out(
      `${r.status === 'done' ? 'replayed' : 'stopped after'} ${r.processed} events (last seq ${r.position})${r.skipped.length ? `, skipped ${r.skipped.join(', ')}` : ''}\n`,
    );
    for (const n of r.notes) out(`note: ${n}\n`);
    if (m.kind === 'projection') out(`${m.name} state:\n${renderTree(r.state)}\n`);
    if (r.status === 'aborted') {
      if (o.checkpoint) out(`checkpoint saved to ${o.checkpoint}; continue with --resume\n`);
      process.exitCode = ac.signal.aborted ? 130 : 1;
    }
  } finally {
    bar.stop();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await m.close();
  }
}

async function runUpcaster(store: EventStore, o: ReplayFlags, out: Out): Promise<void> {
  if (!o.projection)
    throw new ChronoscopeError('INVALID_ARGUMENT', '--upcaster needs --projection <file> to compare with');
  const timeoutMs = num(o.timeout, '--timeout', 1);
  const up = await UserModule.load(o.upcaster!, { kind: 'upcaster', timeoutMs });
  try {
    const pm = await UserModule.load(o.projection, { kind: 'projection', timeoutMs });
    try {
      const bar = progressBar('upcast', store.lastSeq());
      const r = await tryUpcaster(store, up, projectionOf(pm), {
        filter: filterFromFlags(o),
        onProgress: (n) => bar.update(n),
      }).finally(() => bar.stop());
      if (o.json) out(`${JSON.stringify(r, null, 2)}\n`);
      else {
        out(
          `${r.originalEvents} events upcast to ${r.upcastEvents} (${r.dropped} dropped, ${r.added} added) in a scratch store\n`,
        );
        out(
          `${r.projection} (${r.scope}): ${r.differences.length} of ${r.streamsCompared} ${r.scope === 'global' ? 'states' : 'streams'} differ\n`,
        );
        for (const d of r.differences.slice(0, 20)) {
          out(`\n${d.stream} (${d.originalEvents} → ${d.upcastEvents} events):\n${renderDiff(d.diff)}\n`);
        }
        if (r.differences.length > 20)
          out(`\n… and ${r.differences.length - 20} more (use --json for all)\n`);
      }
      if (r.differences.length) process.exitCode = 1; // like diff(1): differences are worth a non-zero exit in CI
    } finally {
      await pm.close();
    }
  } finally {
    await up.close();
  }
}

/** Adds `replay`; `addFilterFlags` is cli.ts's, so the filter flags read the same on every command. */
export function registerReplayCommand(
  program: Command,
  withStore: WithStore,
  addFilterFlags: (cmd: Command) => Command,
  out: Out = (s) => void process.stdout.write(s),
): void {
  const many = (v: string, prev: string[] = []) => [...prev, v];
  addFilterFlags(
    program
      .command('replay')
      .argument('<store>', 'store folder')
      .option(
        '-m, --module <file>',
        'JS/TS module exporting init()+apply(state, event), or handle(event, ctx)',
      )
      .option('--upcaster <file>', 'try an upcast(event) module on a scratch copy (with --projection)')
      .option('--projection <file>', 'projection whose states --upcaster compares')
      .option('--from <seq>', 'first seq')
      .option('--to <seq>', 'last seq')
      .option('--speed <n>', 'events per second, or max', 'max')
      .option(
        '--break <expr>',
        'pause before events where this JS holds, e.g. "e.type === \'RefundIssued\'"',
        many,
      )
      .option('--checkpoint <file>', 'save progress here (resumable)')
      .option('--resume', 'continue from --checkpoint')
      .option('--on-error <what>', 'when the module throws: ask, skip or abort (default: ask on a terminal)')
      .option('--timeout <ms>', 'time limit per batch of user code', '5000')
      .option('--json', 'machine-readable result')
      .description('replay events through your projection or handler, or try an upcaster'),
  ).action(async (path: string, o: ReplayFlags) => {
    if (!o.module === !o.upcaster)
      throw new ChronoscopeError('INVALID_ARGUMENT', 'give --module or --upcaster (one of them)');
    await withStore(path, { readOnly: true }, (store) =>
      o.module ? runReplay(store, o, out) : runUpcaster(store, o, out),
    );
  });
}
