import type { ApiBisect, ApiPosition, ApiStateAt, CallContext, ParsedParams } from '../../shared/api';
import type { JsonValue } from '../../shared/event';
import { diffJson, globalReducer, parseStatePredicate, streamReducer } from '../../shared/projection';
import type { EventStore } from '../engine/types';
import { bisectAnyStream, bisectGlobal, bisectStream } from '../engine/timetravel/bisect';
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
 * One adaptive snapshot store per API instance: scrubbing back and forth, diffs and bisect probes
 * start from the nearest earlier state instead of from seq 1. A snapshot never changes an answer.
 */
export function timeTravelHandlers(store: EventStore, snapshots: SnapshotStore = defaultSnapshots()) {
  async function fold(stream: string | undefined, at: Position, ctx: CallContext): Promise<ApiStateAt> {
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
      const where = parseStatePredicate(p.where);
      const progress = { signal: ctx.signal, onProgress: (d: number, t: number) => ctx.progress(d, t) };
      const r =
        p.stream !== undefined
          ? await bisectStream(store, p.stream, where, {
              ...(p.verify !== undefined ? { verify: p.verify } : {}),
              ...progress,
            })
          : p.streams !== undefined
            ? await bisectAnyStream(
                store,
                p.streams.endsWith('*') ? { streamPrefix: p.streams.slice(0, -1) } : { stream: p.streams },
                where,
                progress,
              )
            : await bisectGlobal(store, where, { verify: p.verify ?? false, ...progress });
      return { where: where.source, ...(r as Omit<ApiBisect, 'where'>) };
    },
  };
}

/** Sparse snapshots while folding plus one at every bisect probe, bounded so a long session stays small. */
function defaultSnapshots(): SnapshotStore {
  return new MemorySnapshotStore({ kind: 'adaptive', every: 5000 }, { maxEntries: 2000 });
}
