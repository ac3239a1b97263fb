/**
 * State at a position (DESIGN §4): the nearest snapshot ≤ the position plus a fold of the events
 * after it. A position is a seq, a time, a stream version, or several (all bounds apply). A time T
 * means the longest prefix of the log (or stream) whose events all have time ≤ T, so it is always
 * a state that really existed, even when writers' clocks are not monotone.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ChronoscopeError } from '../../../shared/errors';
import type { StoredEvent } from '../../../shared/event';
import { globalReducer, streamReducer, type Projection } from '../../../shared/projection';
import type { EventFilter } from '../../../shared/query';
import type { EventStore } from '../types';
import { isBatchProjection, type AnyProjection, type BatchProjection } from './batchProjection';
import { snapshotKey, type Snapshot, type SnapshotKey, type SnapshotStore } from './snapshots';

/** Where to stop folding; omitted bounds mean "the head". */
export interface Position {
  seq?: number;
  time?: string;
  version?: number;
}

/** The event a state stands after (seq 0 and no event: the initial state). */
export interface ResolvedPosition {
  seq: number;
  version?: number;
  time?: string;
  eventId?: string;
}

export interface StateAt<S> {
  state: S;
  position: ResolvedPosition;
  /** Events applied by this call (not counting those inside the snapshot it started from). */
  folded: number;
  /** Seq of the snapshot the fold started from, if any. */
  fromSnapshot?: number;
}

export interface StateAtOptions {
  snapshots?: SnapshotStore;
  /** This call is a bisect probe: adaptive snapshot stores keep its result. */
  probe?: boolean;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Global folds only: fold just the events matching this filter. */
  filter?: EventFilter;
  /** Events per page for global folds (default 2,000); the thread is yielded between pages. */
  pageSize?: number;
}

const bad = (field: string, why: string): never => {
  throw new ChronoscopeError('INVALID_ARGUMENT', `position.${field}: ${why}`, { field: `position.${field}` });
};

/** Resolves `seq` and `time` bounds into one inclusive seq bound (Infinity = no bound). */
async function seqBound(store: EventStore, p: Position, filter: EventFilter): Promise<number> {
  if (p.seq !== undefined && (!Number.isSafeInteger(p.seq) || p.seq < 0))
    bad('seq', 'must be an integer ≥ 0');
  if (p.version !== undefined && (!Number.isSafeInteger(p.version) || p.version < 0))
    bad('version', 'must be an integer ≥ 0');
  let bound = p.seq ?? Infinity;
  if (p.time !== undefined) {
    const t = Date.parse(p.time);
    if (Number.isNaN(t)) bad('time', `"${p.time}" is not an ISO-8601 date-time`);
    // The first event later than T (the time index answers it); the prefix ends just before it.
    const since = new Date(t + 1).toISOString();
    const page = await store.query({ ...filter, since }, { order: 'asc', limit: 1 });
    if (page.events[0]) bound = Math.min(bound, page.events[0].seq - 1);
  }
  return bound;
}

/** Applies one event, turning a throw into an error that names the event (and keeps the stack). */
export function applyEvent<S>(p: Projection<S>, state: S, e: StoredEvent): S {
  try {
    return p.apply(state, e);
  } catch (err) {
    const cause = err as Error;
    throw new ChronoscopeError(
      'INVALID_ARGUMENT',
      `projection ${p.name} threw at seq ${e.seq} (${e.type} ${e.stream} v${e.version}, id ${e.id}): ${cause?.message ?? String(err)}`,
      { projection: p.name, seq: e.seq, eventId: e.id, stream: e.stream, stack: cause?.stack },
    );
  }
}

const at = (e: StoredEvent, withVersion: boolean): ResolvedPosition => ({
  seq: e.seq,
  ...(withVersion ? { version: e.version } : {}),
  time: e.time,
  eventId: e.id,
});

const fromSnap = (s: Snapshot<unknown>): ResolvedPosition => {
  const { state: _state, ...pos } = s;
  return pos;
};

/** Most events handed to a batch projection in one round trip (bounds one call's time and memory). */
const BATCH = 2000;

/**
 * The batch path (user projections in a worker): one round trip per run of events, cut wherever
 * the snapshot store wants a snapshot, so both paths leave the same snapshots behind.
 */
async function foldBatched<S>(
  p: BatchProjection<S>,
  run: { state: S; pos: ResolvedPosition; folded: number },
  events: StoredEvent[],
  withVersion: boolean,
  snaps: SnapshotStore | undefined,
  key: SnapshotKey,
): Promise<void> {
  let start = 0;
  for (let i = 0; i < events.length; i++) {
    run.folded++;
    const prevTime = i > 0 ? events[i - 1]!.time : run.pos.time;
    const snapHere = snaps?.wants('fold', run.folded, { key, time: events[i]!.time, prevTime }) ?? false;
    if (!snapHere && i < events.length - 1 && i + 1 - start < BATCH) continue;
    run.state = await p.foldBatch(run.state, events.slice(start, i + 1));
    run.pos = at(events[i]!, withVersion);
    start = i + 1;
    if (snapHere) await snaps!.put(key, { ...run.pos, state: run.state });
  }
}

const keyOf = <S>(p: AnyProjection<S>, stream: string) => snapshotKey(p as Projection<unknown>, stream);

/** State of one stream at a position: reads only the stream's events after the nearest snapshot. */
export async function streamStateAt<S = ReturnType<typeof streamReducer.init>>(
  store: EventStore,
  stream: string,
  position: Position = {},
  projection?: AnyProjection<S>,
  options: StateAtOptions = {},
): Promise<StateAt<S>> {
  const p = (projection ?? streamReducer) as AnyProjection<S>;
  const maxSeq = await seqBound(store, position, { stream });
  const maxVersion = position.version ?? Number.MAX_SAFE_INTEGER;
  const snaps = options.snapshots;
  const key = keyOf(p, stream);
  const snap = await snaps?.nearest<S>(key, maxSeq, maxVersion);
  let state = snap ? snap.state : await p.init();
  let pos: ResolvedPosition = snap ? fromSnap(snap) : { seq: 0, version: 0 };
  let folded = 0;
  const events = await store.readStream(stream, (snap?.version ?? 0) + 1, maxVersion);
  if (isBatchProjection(p)) {
    const end = events.findIndex((e) => e.seq > maxSeq);
    const run = { state, pos, folded };
    await foldBatched(p, run, end < 0 ? events : events.slice(0, end), true, snaps, key);
    ({ state, pos, folded } = run);
  } else
    for (const e of events) {
      if (e.seq > maxSeq) break;
      state = applyEvent(p, state, e);
      const prevTime = pos.time;
      pos = at(e, true);
      folded++;
      if (snaps?.wants('fold', folded, { key, time: e.time, prevTime }))
        await snaps.put(key, { ...pos, state });
    }
  if (options.probe && snaps?.wants('probe', folded, { key })) await snaps.put(key, { ...pos, state });
  return { state, position: pos, folded, ...(snap ? { fromSnapshot: snap.seq } : {}) };
}

/** The snapshot key's stream part for a global fold, distinct per filter. */
export function globalScope(filter?: EventFilter): string {
  return filter && Object.keys(filter).length ? `*?${JSON.stringify(filter)}` : '*';
}

/** State of the whole log (or of the events matching a filter) at a position, in awaited pages. */
export async function globalStateAt<S = ReturnType<typeof globalReducer.init>>(
  store: EventStore,
  position: Position = {},
  projection?: AnyProjection<S>,
  options: StateAtOptions = {},
): Promise<StateAt<S>> {
  const p = (projection ?? globalReducer) as AnyProjection<S>;
  if (position.version !== undefined) bad('version', 'applies to one stream; use seq or time globally');
  const filter = options.filter;
  const maxSeq = Math.min(await seqBound(store, position, filter ?? {}), store.lastSeq());
  const pageSize = options.pageSize ?? 2000;
  const snaps = options.snapshots;
  const key = keyOf(p, globalScope(filter));
  const snap = await snaps?.nearest<S>(key, maxSeq);
  let state = snap ? snap.state : await p.init();
  let pos: ResolvedPosition = snap ? fromSnap(snap) : { seq: 0 };
  const base = snap?.seq ?? 0;
  let from = base + 1;
  let folded = 0;
  while (from <= maxSeq) {
    if (options.signal?.aborted) throw new ChronoscopeError('CANCELLED', 'state-at cancelled');
    const limit = Math.min(pageSize, maxSeq - from + 1);
    const page = filter
      ? (await store.query({ ...filter, fromSeq: from, toSeq: maxSeq }, { order: 'asc', limit })).events
      : await store.readAll(from, limit);
    if (page.length === 0) break;
    if (isBatchProjection(p)) {
      const end = page.findIndex((e) => e.seq > maxSeq);
      const run = { state, pos, folded };
      await foldBatched(p, run, end < 0 ? page : page.slice(0, end), false, snaps, key);
      ({ state, pos, folded } = run);
    } else
      for (const e of page) {
        if (e.seq > maxSeq) break;
        state = applyEvent(p, state, e);
        const prevTime = pos.time;
        pos = at(e, false);
        folded++;
        if (snaps?.wants('fold', folded, { key, time: e.time, prevTime }))
          await snaps.put(key, { ...pos, state });
      }
    from = page[page.length - 1]!.seq + 1;
    options.onProgress?.(Math.min(from - 1, maxSeq) - base, maxSeq - base);
    await nextTurn(); // never hold the thread for more than one page
  }
  if (options.probe && snaps?.wants('probe', folded, { key })) await snaps.put(key, { ...pos, state });
  return { state, position: pos, folded, ...(snap ? { fromSnapshot: snap.seq } : {}) };
}
