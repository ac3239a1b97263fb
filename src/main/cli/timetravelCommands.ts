/**
 * The time-travel commands (`state`, `diff`, `bisect`): thin wrappers over engine/timetravel so
 * the CLI shows exactly what the UI will. `--projection <file>` folds a user projection (in its
 * worker) instead of the generic reducers; `replay` lives in replayCommand.ts.
 */
import type { Command } from 'commander';
import { ChronoscopeError } from '../../shared/errors';
import { diffJson, parseStatePredicate, renderDiff } from '../../shared/projection';
import type { EventStore } from '../engine/types';
import { compileJsPredicate } from '../engine/timetravel/jsPredicate';
import { bisectAnyStream, bisectGlobal, bisectStream, type BisectResult } from '../engine/timetravel/bisect';
import {
  globalStateAt,
  streamStateAt,
  type Position,
  type ResolvedPosition,
  type StateAt,
} from '../engine/timetravel/stateAt';
import type { BatchProjection } from '../engine/timetravel/batchProjection';
import { loadUserProjection } from '../engine/timetravel/userProjection';
import { progressBar } from './progress';

/** How the CLI opens a store for a command (cli.ts's withStore has this shape). */
export type WithStore = <T>(
  path: string | undefined,
  opts: { readOnly?: boolean; create?: boolean },
  fn: (s: EventStore) => Promise<T>,
) => Promise<T>;

type Out = (s: string) => void;

function int(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new ChronoscopeError('INVALID_ARGUMENT', `${flag} "${v}": expected an integer ≥ 0`, {
      field: flag,
    });
  return n;
}

/** A JSON value as an indented tree: one key per line, scalars as JSON. */
export function renderTree(v: unknown, depth = 0): string {
  const pad = '  '.repeat(depth);
  const entries = Array.isArray(v)
    ? v.map((x, i) => [String(i), x] as const)
    : v !== null && typeof v === 'object'
      ? Object.keys(v).map((k) => [k, (v as Record<string, unknown>)[k]] as const)
      : undefined;
  if (!entries) return `${pad}${JSON.stringify(v)}`;
  if (entries.length === 0) return `${pad}${Array.isArray(v) ? '[]' : '{}'}`;
  return entries
    .map(([k, x]) =>
      x !== null && typeof x === 'object' && Object.keys(x).length > 0
        ? `${pad}${k}:\n${renderTree(x, depth + 1)}`
        : `${pad}${k}: ${JSON.stringify(x) ?? 'undefined'}`,
    )
    .join('\n');
}

const describe = (p: ResolvedPosition) =>
  p.seq === 0
    ? 'the initial state (no events)'
    : `seq ${p.seq}${p.version !== undefined ? ` (version ${p.version})` : ''} ${p.time ?? ''}`.trim();

/** Folds to one position, with a progress bar on a terminal for global folds. */
async function fold(
  store: EventStore,
  stream: string | undefined,
  pos: Position,
  p?: BatchProjection<unknown>,
): Promise<StateAt<unknown>> {
  if (p?.scope === 'stream' && stream === undefined)
    throw new ChronoscopeError('INVALID_ARGUMENT', `projection ${p.name} is per stream: give --stream`, {
      field: '--stream',
    });
  // A global user projection over one stream: the global fold filtered to that stream.
  const filter = p?.scope === 'global' && stream !== undefined ? { stream } : undefined;
  if (stream !== undefined && !filter) return streamStateAt(store, stream, pos, p);
  const bar = process.stderr.isTTY ? progressBar('fold', store.lastSeq()) : undefined;
  try {
    return await globalStateAt(store, pos, p, { filter, onProgress: (n) => bar?.update(n) });
  } finally {
    bar?.stop();
  }
}

/** Runs `fn` with the user projection of `--projection` (closing its worker after), or none. */
async function withProjection<T>(
  file: string | undefined,
  fn: (p?: BatchProjection<unknown>) => Promise<T>,
): Promise<T> {
  if (file === undefined) return fn(undefined);
  const { module, projection } = await loadUserProjection(file);
  try {
    return await fn(projection);
  } finally {
    await module.close();
  }
}

const PROJECTION_FLAG = [
  '--projection <file>',
  'fold your JS/TS projection (init/apply) instead of the generic reducer',
] as const;

function printBisect(r: BisectResult<unknown>, out: Out, color: boolean, what: string): void {
  if (!r.found) out(`not found: no position where ${what}\n`);
  else if (!r.event) out(`${what} already holds before any event\n`);
  else {
    const e = r.event;
    out(
      `first holds at seq ${e.seq}${r.stream ? ` (${r.stream} version ${e.version})` : ''}: ${e.type} ${e.id} ${e.time}\n`,
    );
    out(`event data: ${JSON.stringify(e.data)}\n`);
    if (e.meta) out(`event meta: ${JSON.stringify(e.meta)}\n`);
    out(`the change it caused:\n${renderDiff(r.diff, { color })}\n`);
  }
  out(`${r.folds} fold${r.folds === 1 ? '' : 's'}, ${r.applied} events applied\n`);
  for (const n of r.notes) out(`note: ${n}\n`);
}

/** Adds `state`, `diff` and `bisect` to the program; `out` is injectable for tests. */
export function registerTimeTravelCommands(
  program: Command,
  withStore: WithStore,
  out: Out = (s) => void process.stdout.write(s),
): void {
  const color = () => Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;

  program
    .command('state')
    .argument('<store>', 'store folder')
    .option('-s, --stream <stream>', 'one stream (default: the global state)')
    .option('--at <seq>', 'state after the last event with seq ≤ this')
    .option('--at-time <iso>', 'state after the last event at or before this time')
    .option('--at-version <v>', 'stream version (with --stream)')
    .option('--json', 'print JSON instead of a tree')
    .option(...PROJECTION_FLAG)
    .description('the state of a stream (generic reducer) or of the whole log at a position')
    .action(
      async (
        path: string,
        o: {
          stream?: string;
          at?: string;
          atTime?: string;
          atVersion?: string;
          json?: boolean;
          projection?: string;
        },
      ) => {
        const pos: Position = {
          seq: int(o.at, '--at'),
          version: int(o.atVersion, '--at-version'),
          time: o.atTime,
        };
        await withStore(path, { readOnly: true }, async (store) => {
          const r = await withProjection(o.projection, (p) => fold(store, o.stream, pos, p));
          if (o.json) return out(`${JSON.stringify({ position: r.position, state: r.state }, null, 2)}\n`);
          out(`${o.stream ?? 'global'} at ${describe(r.position)} (${r.folded} events folded)\n`);
          out(`${renderTree(r.state)}\n`);
        });
      },
    );

  program
    .command('diff')
    .argument('<store>', 'store folder')
    .option('-s, --stream <stream>', 'one stream (default: the global state)')
    .requiredOption('--from <seq>', 'earlier position (seq)')
    .requiredOption('--to <seq>', 'later position (seq)')
    .option('--json', 'print the diff entries as JSON')
    .option(...PROJECTION_FLAG)
    .description('what changed in a state between two positions: added / removed / changed')
    .action(
      async (
        path: string,
        o: { stream?: string; from: string; to: string; json?: boolean; projection?: string },
      ) => {
        const from = int(o.from, '--from')!;
        const to = int(o.to, '--to')!;
        await withStore(path, { readOnly: true }, async (store) => {
          const [a, b] = await withProjection(o.projection, async (p) => [
            await fold(store, o.stream, { seq: from }, p),
            await fold(store, o.stream, { seq: to }, p),
          ]);
          const d = diffJson(a.state, b.state);
          if (o.json) return out(`${JSON.stringify(d, null, 2)}\n`);
          out(`${o.stream ?? 'global'}: ${describe(a.position)} → ${describe(b.position)}\n`);
          out(`${renderDiff(d, { color: color() })}\n`);
        });
      },
    );

  program
    .command('bisect')
    .argument('<store>', 'store folder')
    .option('-s, --stream <stream>', 'bisect one stream over its versions')
    .option(
      '--streams <pattern>',
      "the first event after which ANY stream matching (e.g. 'Order-*') satisfies it",
    )
    .requiredOption('-w, --where <predicate>', "condition on the state, e.g. 'total < 0', 'exists(coupon)'")
    .option('--json', 'machine-readable output')
    .option('--js', "--where is a JS expression over `state`, e.g. 'state.total < 0 && !state.coupon'")
    .option(...PROJECTION_FLAG)
    .description(
      'find the first position where a condition on the state holds, and the event that flipped it',
    )
    .action(
      async (
        path: string,
        o: {
          stream?: string;
          streams?: string;
          where: string;
          json?: boolean;
          js?: boolean;
          projection?: string;
        },
      ) => {
        if (o.stream !== undefined && o.streams !== undefined)
          throw new ChronoscopeError('INVALID_ARGUMENT', 'give --stream or --streams, not both');
        const pred = o.js ? compileJsPredicate(o.where) : parseStatePredicate(o.where);
        await withStore(path, { readOnly: true }, async (store) => {
          const r = await withProjection(o.projection, async (projection) => {
            if (projection?.scope === 'stream' && !o.stream && !o.streams)
              throw new ChronoscopeError(
                'INVALID_ARGUMENT',
                `projection ${projection.name} is per stream: give --stream or --streams`,
              );
            if (projection?.scope === 'global' && (o.stream || o.streams))
              throw new ChronoscopeError(
                'INVALID_ARGUMENT',
                `projection ${projection.name} is global: drop --stream/--streams`,
              );
            const opts = projection ? { projection } : {};
            return o.stream
              ? await bisectStream(store, o.stream, pred, opts)
              : o.streams
                ? await bisectAnyStream(
                    store,
                    o.streams.endsWith('*')
                      ? { streamPrefix: o.streams.slice(0, -1) }
                      : { stream: o.streams },
                    pred,
                    opts,
                  )
                : await bisectGlobal(store, pred, opts);
          });
          if (o.json) out(`${JSON.stringify(r, null, 2)}\n`);
          else printBisect(r as BisectResult<unknown>, out, color(), `"${pred.source}"`);
          if (!r.found) process.exitCode = 1;
        });
      },
    );
}
