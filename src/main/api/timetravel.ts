import type { ApiBisect, ApiPosition, ApiStateAt, CallContext, ParsedParams } from '../../shared/api';
import type { JsonValue } from '../../shared/event';
import { diffJson, globalReducer, parseStatePredicate, streamReducer } from '../../shared/projection';
import type { EventStore } from '../engine/types';
import { bisectAnyStream, bisectGlobal, bisectStream } from '../engine/timetravel/bisect';
import { compileJsPredicate } from '../engine/timetravel/jsPredicate';
import { openSnapshotStore } from '../engine/timetravel/openSnapshots';
import { MemorySnapshotStore, type SnapshotStore } from '../engine/timetravel/snapshots';
import { globalStateAt, streamStateAt, type Position, type StateAt } from '../engine/timetravel/stateAt';

/** Drops undefined bounds, so `{ seq: undefined }` means "the head" everywhere. */
function position(p: { seq?: number; time?: string; version?: number }): Position {
  const out: Position = {};
  if (p.seq !== undefined) out.seq = p.seq;
  if (p.time !== undefined) out.time = p.time;
  if (p.version !== undefined) out.version = p.version;
  return out;
}

/**
 * The time-travel methods of the handler table (DESIGN §4) over the built-in generic reducers.
 * Snapshots come from the store's own catalogue (SQLite in chronoscope.db for a file store, so they
 * outlive the session; memory for a memory store): scrubbing back and forth, diffs and bisect probes
 * start from the nearest earlier state instead of from seq 1. A snapshot never changes an answer.
 */
export function timeTravelHandlers(store: EventStore, given?: SnapshotStore) {
  let opened: Promise<SnapshotStore> | undefined;
  const snapshotStore = (): Promise<SnapshotStore> =>
    (opened ??= given
      ? Promise.resolve(given)
      : // A catalogue that cannot be opened (a damaged or foreign db) must not stop time travel.
        openSnapshotStore(store).catch(() => new MemorySnapshotStore({ kind: 'adaptive', every: 1000 })));

  async function fold(stream: string | undefined, at: Position, ctx: CallContext): Promise<ApiStateAt> {
    const snapshots = await snapshotStore();
    const r: StateAt<unknown> =
      stream !== undefined
        ? await streamStateAt(store, stream, at, undefined, { snapshots, signal: ctx.signal })
        : await globalStateAt(store, at, undefined, {
            snapshots,
            signal: ctx.signal,
            onProgress: (done, total) => ctx.progress(done, total),
          });
    const out: ApiStateAt = {
      scope: stream !== undefined ? 'stream' : 'global',
      projection: stream !== undefined ? streamReducer.name : globalReducer.name,
      state: r.state as JsonValue,
      position: r.position as ApiPosition,
      folded: r.folded,
    };
    if (stream !== undefined) out.stream = stream;
    if (r.fromSnapshot !== undefined) out.fromSnapshot = r.fromSnapshot;
    return out;
  }

  return {
    /** Closes the snapshot catalogue (the event store is the host's to close). */
    close: async () => {
      if (opened && !given) await (await opened).close();
    },
    stateAt: (p: ParsedParams<'stateAt'>, ctx: CallContext) => fold(p.stream, position(p.at), ctx),

    diff: async (p: ParsedParams<'diff'>, ctx: CallContext) => {
      const a = await fold(p.stream, position(p.from), ctx);
      const b = await fold(p.stream, position(p.to), ctx);
      return {
        scope: a.scope,
        ...(p.stream !== undefined ? { stream: p.stream } : {}),
        from: a.position,
        to: b.position,
        entries: diffJson(a.state, b.state),
        folded: a.folded + b.folded,
      };
    },

    bisect: async (p: ParsedParams<'bisect'>, ctx: CallContext): Promise<ApiBisect> => {
      const where = p.language === 'js' ? compileJsPredicate(p.where) : parseStatePredicate(p.where);
      const snapshots = await snapshotStore();
      const progress = { signal: ctx.signal, onProgress: (d: number, t: number) => ctx.progress(d, t) };
      const r =
        p.stream !== undefined
          ? await bisectStream(store, p.stream, where, {
              ...(p.verify !== undefined ? { verify: p.verify } : {}),
              snapshots,
              ...progress,
            })
          : p.streams !== undefined
            ? await bisectAnyStream(
                store,
                p.streams.endsWith('*') ? { streamPrefix: p.streams.slice(0, -1) } : { stream: p.streams },
                where,
                progress,
              )
            : await bisectGlobal(store, where, { verify: p.verify ?? false, snapshots, ...progress });
      return { where: where.source, ...(r as Omit<ApiBisect, 'where'>) };
    },
  };
}
