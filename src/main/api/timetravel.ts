import type { ApiBisect, ApiPosition, ApiStateAt, CallContext, ParsedParams } from '../../shared/api';
import { ChronoscopeError } from '../../shared/errors';
import type { JsonValue } from '../../shared/event';
import { diffJson, globalReducer, parseStatePredicate, streamReducer } from '../../shared/projection';
import type { EventFilter } from '../../shared/query';
import type { EventStore } from '../engine/types';
import type { BatchProjection } from '../engine/timetravel/batchProjection';
import { bisectAnyStream, bisectGlobal, bisectStream } from '../engine/timetravel/bisect';
import { compileJsPredicate } from '../engine/timetravel/jsPredicate';
import { openSnapshotStore, type OpenSnapshotOptions } from '../engine/timetravel/openSnapshots';
import { MemorySnapshotStore, type SnapshotStore } from '../engine/timetravel/snapshots';
import { globalStateAt, streamStateAt, type Position, type StateAt } from '../engine/timetravel/stateAt';
import { loadUserProjection } from '../engine/timetravel/userProjection';
import type { UserModule } from '../engine/timetravel/UserModule';

/** Drops undefined bounds, so `{ seq: undefined }` means "the head" everywhere. */
function position(p: { seq?: number; time?: string; version?: number }): Position {
  const out: Position = {};
  if (p.seq !== undefined) out.seq = p.seq;
  if (p.time !== undefined) out.time = p.time;
  if (p.version !== undefined) out.version = p.version;
  return out;
}

type Loaded = { module: UserModule; projection: BatchProjection<unknown> };

/**
 * The time-travel methods of the handler table (DESIGN §4): the built-in generic reducers, or a
 * user projection module (`projection: <path>`, loaded once per path in its worker and watched, so
 * an edit reloads it and its old snapshots stop counting). Snapshots come from the store's own
 * catalogue (SQLite in chronoscope.db for a file store, so they outlive the session; memory for a
 * memory store). A snapshot never changes an answer.
 */
export function timeTravelHandlers(store: EventStore, snapshotOptions: OpenSnapshotOptions = {}) {
  let opened: Promise<SnapshotStore> | undefined;
  const snapshotStore = (): Promise<SnapshotStore> =>
    // A catalogue that cannot be opened (a damaged or foreign db) must not stop time travel.
    (opened ??= openSnapshotStore(store, snapshotOptions).catch(
      () => new MemorySnapshotStore({ kind: 'adaptive', every: 1000 }),
    ));

  const modules = new Map<string, Promise<Loaded>>();
  const userProjection = async (file: string | undefined): Promise<BatchProjection<unknown> | undefined> => {
    if (file === undefined) return undefined;
    let loading = modules.get(file);
    if (!loading) {
      loading = loadUserProjection(file, { watch: true });
      modules.set(file, loading);
      loading.catch(() => modules.delete(file)); // a compile error is retried on the next call
    }
    return (await loading).projection;
  };

  async function fold(
    stream: string | undefined,
    at: Position,
    file: string | undefined,
    ctx: CallContext,
  ): Promise<ApiStateAt> {
    const snapshots = await snapshotStore();
    const p = await userProjection(file);
    if (p?.scope === 'stream' && stream === undefined)
      throw new ChronoscopeError('INVALID_ARGUMENT', `projection ${p.name} is per stream: give a stream`, {
        field: 'stream',
      });
    // A global user projection over one stream: the global fold filtered to that stream.
    const filter: EventFilter | undefined =
      p?.scope === 'global' && stream !== undefined ? { stream } : undefined;
    const r: StateAt<unknown> =
      stream !== undefined && !filter
        ? await streamStateAt(store, stream, at, p, { snapshots, signal: ctx.signal })
        : await globalStateAt(store, at, p, {
            snapshots,
            signal: ctx.signal,
            ...(filter ? { filter } : {}),
            onProgress: (done, total) => ctx.progress(done, total),
          });
    const out: ApiStateAt = {
      scope: stream !== undefined ? 'stream' : 'global',
      projection: p?.name ?? (stream !== undefined ? streamReducer.name : globalReducer.name),
      state: r.state as JsonValue,
      position: r.position as ApiPosition,
      folded: r.folded,
    };
    if (stream !== undefined) out.stream = stream;
    if (r.fromSnapshot !== undefined) out.fromSnapshot = r.fromSnapshot;
    return out;
  }

  return {
    /** Closes the snapshot catalogue and the projection workers (the event store is the host's). */
    close: async () => {
      const loaded = await Promise.allSettled([...modules.values()]);
      modules.clear();
      for (const l of loaded) if (l.status === 'fulfilled') await l.value.module.close();
      if (opened) await (await opened).close();
    },

    stateAt: (p: ParsedParams<'stateAt'>, ctx: CallContext) =>
      fold(p.stream, position(p.at), p.projection, ctx),

    diff: async (p: ParsedParams<'diff'>, ctx: CallContext) => {
      const a = await fold(p.stream, position(p.from), p.projection, ctx);
      const b = await fold(p.stream, position(p.to), p.projection, ctx);
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
      const projection = await userProjection(p.projection);
      if (projection?.scope === 'stream' && p.stream === undefined && p.streams === undefined)
        throw new ChronoscopeError(
          'INVALID_ARGUMENT',
          `projection ${projection.name} is per stream: give stream or streams`,
          { field: 'stream' },
        );
      if (projection?.scope === 'global' && (p.stream !== undefined || p.streams !== undefined))
        throw new ChronoscopeError(
          'INVALID_ARGUMENT',
          `projection ${projection.name} is global: bisect it over the whole log`,
          { field: 'stream' },
        );
      const common = {
        signal: ctx.signal,
        onProgress: (d: number, t: number) => ctx.progress(d, t),
        ...(projection ? { projection } : {}),
      };
      const r =
        p.stream !== undefined
          ? await bisectStream(store, p.stream, where, {
              ...(p.verify !== undefined ? { verify: p.verify } : {}),
              snapshots,
              ...common,
            })
          : p.streams !== undefined
            ? await bisectAnyStream(
                store,
                p.streams.endsWith('*') ? { streamPrefix: p.streams.slice(0, -1) } : { stream: p.streams },
                where,
                common,
              )
            : await bisectGlobal(store, where, { verify: p.verify ?? false, snapshots, ...common });
      return { where: where.source, ...(r as Omit<ApiBisect, 'where'>) };
    },
  };
}
