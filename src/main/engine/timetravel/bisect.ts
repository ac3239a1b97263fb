/**
 * Bisect (DESIGN §4): the first position where a predicate on state holds. Binary search assumes
 * the predicate is monotone (once true, stays true), needs O(log n) folds, and with an adaptive
 * snapshot store each probe folds only from the nearest earlier probe. Where it can, it checks
 * that assumption and says so when it fails.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ChronoscopeError } from '../../../shared/errors';
import type { StoredEvent } from '../../../shared/event';
import {
  diffJson,
  globalReducer,
  streamReducer,
  type DiffEntry,
  type GlobalState,
  type Projection,
  type StatePredicate,
  type StreamState,
} from '../../../shared/projection';
import { matchesFilter, type EventFilter } from '../../../shared/query';
import type { EventStore } from '../types';
import { isBatchProjection, type AnyProjection, type BatchProjection } from './batchProjection';
import { MemorySnapshotStore, type SnapshotStore } from './snapshots';
import { applyEvent, globalStateAt, streamStateAt, type StateAt } from './stateAt';

/** A state predicate: parsed (parseStatePredicate) or a plain function. */
export type Predicate<S> = StatePredicate | ((state: S) => boolean);

export interface BisectOptions<S> {
  /** A built-in reducer or a user projection (BatchProjection, folded in its worker). */
  projection?: AnyProjection<S>;
  /** Default: a fresh adaptive in-memory store (a snapshot at every probe). */
  snapshots?: SnapshotStore;
  /** Also fold once through everything to check monotonicity (default: on for streams, off globally). */
  verify?: boolean;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface BisectResult<S> {
  found: boolean;
  /** Seq of the event that flipped the predicate (0: holds before any event). */
  seq: number;
  version?: number;
  stream?: string;
  event?: StoredEvent;
  stateBefore?: S;
  stateAfter?: S;
  diff: DiffEntry[];
  /** States computed (probes); O(log n) for bisect, 1 for the any-stream pass. */
  folds: number;
  /** Events applied across all folds. */
  applied: number;
  /** true: checked; false: a counterexample was seen; undefined: not checked. */
  monotone?: boolean;
  notes: string[];
}

const testOf = <S>(p: Predicate<S>) => (typeof p === 'function' ? p : (s: S) => p.test(s));

/** Binary search over positions 0..head, where probe(k) gives the state at position k. */
async function search<S>(
  head: number,
  init: S,
  probe: (k: number) => Promise<StateAt<S>>,
  holds: (s: S) => boolean,
): Promise<{
  lo: number;
  hi: number;
  loState: S;
  hiState: S;
  folds: number;
  applied: number;
  holdsAtHead: boolean;
}> {
  let folds = 0;
  let applied = 0;
  const run = async (k: number) => {
    const r = await probe(k);
    folds++;
    applied += r.folded;
    return r.state;
  };
  if (holds(init)) return { lo: -1, hi: 0, loState: init, hiState: init, folds, applied, holdsAtHead: true };
  let lo = 0;
  let hi = head;
  let loState = init;
  let hiState = head > 0 ? await run(head) : init;
  if (head === 0 || !holds(hiState)) return { lo, hi, loState, hiState, folds, applied, holdsAtHead: false };
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const s = await run(mid);
    if (holds(s)) [hi, hiState] = [mid, s];
    else [lo, loState] = [mid, s];
  }
  return { lo, hi, loState, hiState, folds, applied, holdsAtHead: true };
}

/** The state after each event, from either kind of projection (batch ones in chunks, off-thread). */
async function* statesAfter<S>(p: AnyProjection<S>, state: S, events: StoredEvent[]) {
  if (!isBatchProjection(p)) {
    for (const e of events) yield (state = applyEvent(p, state, e));
    return;
  }
  for (let i = 0; i < events.length; i += 2000) {
    const steps = await p.foldSteps(state, events.slice(i, i + 2000));
    yield* steps;
    state = steps[steps.length - 1] ?? state;
  }
}

/** Walks every state once, noting where the predicate first holds and where it turns false again. */
async function monotonicity<S>(
  events: StoredEvent[],
  p: AnyProjection<S>,
  holds: (s: S) => boolean,
  at: (e: StoredEvent) => string,
) {
  const init = await p.init();
  let prev = holds(init);
  let first: StoredEvent | undefined;
  let back: StoredEvent | undefined;
  let i = 0;
  for await (const state of statesAfter(p, init, events)) {
    const e = events[i++]!;
    const now = holds(state);
    if (now && !prev && !first) first = e;
    if (!now && prev && !back) back = e;
    prev = now;
  }
  const notes: string[] = [];
  if (back) notes.push(`not monotone: the predicate turns false again at ${at(back)}`);
  return { first, back, notes };
}

/** First version of `stream` at which the predicate holds (binary search over its versions). */
export async function bisectStream<S = StreamState>(
  store: EventStore,
  stream: string,
  predicate: Predicate<S>,
  options: BisectOptions<S> = {},
): Promise<BisectResult<S>> {
  const p = (options.projection ?? streamReducer) as AnyProjection<S>;
  const holds = testOf(predicate);
  const snapshots = options.snapshots ?? new MemorySnapshotStore({ kind: 'adaptive', every: 256 });
  const last = (await store.query({ stream }, { order: 'desc', limit: 1 })).events[0];
  const head = last?.version ?? 0;
  const r = await search(
    head,
    await p.init(),
    (v) => streamStateAt(store, stream, { version: v }, p, { snapshots, probe: true }),
    holds,
  );
  const notes: string[] = [];
  if (head === 0) notes.push(`stream ${stream} has no events`);
  else if (!r.holdsAtHead) notes.push(`the predicate does not hold at the head (version ${head})`);
  const found = r.holdsAtHead;
  const event = found && r.hi > 0 ? (await store.readStream(stream, r.hi, r.hi))[0] : undefined;
  let monotone: boolean | undefined;
  if (options.verify ?? true) {
    const events = await store.readStream(stream);
    const m = await monotonicity(events, p, holds, (e) => `version ${e.version} (seq ${e.seq})`);
    monotone = m.back === undefined && (m.first?.version ?? 0) === (found ? r.hi : 0);
    if (m.first && m.first.version !== r.hi)
      notes.push(
        `not monotone: the predicate first holds at version ${m.first.version} (seq ${m.first.seq}); bisect's boundary is version ${r.hi}`,
      );
    notes.push(...m.notes);
  }
  return result(found, event, r, notes, monotone, { stream, version: found ? r.hi : undefined });
}

/** First seq at which a global projection's state (default: the generic global reducer) satisfies the predicate. */
export async function bisectGlobal<S = GlobalState>(
  store: EventStore,
  predicate: Predicate<S>,
  options: BisectOptions<S> & { streams?: EventFilter } = {},
): Promise<BisectResult<S>> {
  const p = (options.projection ?? globalReducer) as AnyProjection<S>;
  const holds = testOf(predicate);
  const snapshots = options.snapshots ?? new MemorySnapshotStore({ kind: 'adaptive', every: 10_000 });
  const filter = options.streams;
  const head = store.lastSeq();
  const opts = { snapshots, probe: true, filter, signal: options.signal };
  const r = await search(head, await p.init(), (seq) => globalStateAt(store, { seq }, p, opts), holds);
  const notes: string[] = [];
  if (!r.holdsAtHead) notes.push(`the predicate does not hold at the head (seq ${head})`);
  const found = r.holdsAtHead;
  const event = found && r.hi > 0 ? await store.getBySeq(r.hi) : undefined;
  let monotone: boolean | undefined;
  if (options.verify) {
    // One more fold, through everything, watching every state (O(n) events, no snapshots).
    let prev = holds(await p.init());
    let first = 0;
    let back = 0;
    const see = (next: S, e: StoredEvent) => {
      const now = holds(next);
      if (now && !prev && !first) first = e.seq;
      if (!now && prev && !back) back = e.seq;
      prev = now;
      return next;
    };
    const watch: AnyProjection<S> = isBatchProjection(p)
      ? watchedBatch(p, see)
      : { ...p, apply: (s, e) => see(p.apply(s, e), e) };
    const v = await globalStateAt(store, {}, watch, {
      filter,
      signal: options.signal,
      onProgress: options.onProgress,
    });
    r.applied += v.folded;
    monotone = back === 0 && first === (found ? r.hi : 0);
    if (first && first !== r.hi)
      notes.push(`not monotone: the predicate first holds at seq ${first}; bisect's boundary is seq ${r.hi}`);
    if (back) notes.push(`not monotone: the predicate turns false again at seq ${back}`);
  }
  return result(found, event, r, notes, monotone, {});
}

/** A batch projection that shows `see` the state after every event it folds. */
function watchedBatch<S>(p: BatchProjection<S>, see: (s: S, e: StoredEvent) => S): BatchProjection<S> {
  return {
    name: p.name,
    scope: p.scope,
    codeHash: p.codeHash,
    init: () => p.init(),
    foldSteps: (s, events) => p.foldSteps(s, events),
    foldStreams: (states, events) => p.foldStreams(states, events),
    foldBatch: async (s, events) => {
      const steps = await p.foldSteps(s, events);
      steps.forEach((x, i) => see(x, events[i]!));
      return steps[steps.length - 1] ?? s;
    },
  };
}

/**
 * The first event after which SOME stream matching `filter` (e.g. streamPrefix 'Order-') has a
 * state satisfying the predicate. One forward pass folding every matching stream's state in a Map
 * and testing only the stream the event touched: O(n) applications, exact, and no monotonicity
 * assumption. Bisecting this question instead would need, per probe, the state of every matching
 * stream at that seq — each probe is itself an O(n) fold over all of them — so O(n log n) work
 * for an answer that is only right if the predicate never turns back.
 */
export async function bisectAnyStream<S = StreamState>(
  store: EventStore,
  filter: EventFilter,
  predicate: Predicate<S>,
  options: Omit<BisectOptions<S>, 'snapshots' | 'verify'> & { pageSize?: number } = {},
): Promise<BisectResult<S>> {
  const p = (options.projection ?? streamReducer) as AnyProjection<S>;
  const holds = testOf(predicate);
  const states = new Map<string, S>();
  const head = store.lastSeq();
  const notes: string[] = [];
  const init = await p.init();
  if (holds(init)) notes.push('the predicate holds on an empty stream state: every stream matches at once');
  let applied = 0;
  let cursor: string | undefined;
  do {
    if (options.signal?.aborted) throw new ChronoscopeError('CANCELLED', 'bisect cancelled');
    const page = await store.query(filter, { order: 'asc', limit: options.pageSize ?? 2000, cursor });
    const events = page.events.filter((e) => matchesFilter(e, filter)); // defensive: the index is the oracle's equal
    const afters = isBatchProjection(p) ? await pageSteps(p, states, events) : undefined;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const before = states.get(e.stream) ?? init;
      const after = afters ? afters[i]! : applyEvent(p as Projection<S>, before, e);
      states.set(e.stream, after);
      applied++;
      if (holds(after)) {
        const r = { lo: 0, hi: 1, loState: before, hiState: after, folds: 1, applied };
        return result(true, e, r, notes, undefined, { stream: e.stream, version: e.version });
      }
    }
    cursor = page.nextCursor;
    const last = page.events[page.events.length - 1];
    if (last) options.onProgress?.(last.seq, head);
    await nextTurn();
  } while (cursor);
  notes.push(`no stream matching the filter satisfies the predicate (${states.size} streams folded)`);
  const none = { lo: 0, hi: 0, loState: init, hiState: init, folds: 1, applied };
  return result(false, undefined, none, notes, undefined, {});
}

/** Per event of a page, its stream's state after it: one round trip, sending only the page's streams. */
async function pageSteps<S>(
  p: BatchProjection<S>,
  states: Map<string, S>,
  events: StoredEvent[],
): Promise<S[]> {
  const touched: Record<string, S> = {};
  for (const e of events) {
    const s = states.get(e.stream);
    if (s !== undefined && !Object.prototype.hasOwnProperty.call(touched, e.stream))
      Object.defineProperty(touched, e.stream, {
        value: s,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return events.length ? (await p.foldStreams(touched, events)).steps : [];
}

function result<S>(
  found: boolean,
  event: StoredEvent | undefined,
  r: { lo: number; hi: number; loState: S; hiState: S; folds: number; applied: number },
  notes: string[],
  monotone: boolean | undefined,
  extra: { stream?: string; version?: number },
): BisectResult<S> {
  const out: BisectResult<S> = {
    found,
    seq: event?.seq ?? 0,
    diff: [],
    folds: r.folds,
    applied: r.applied,
    notes,
  };
  if (monotone !== undefined) out.monotone = monotone;
  if (extra.stream !== undefined) out.stream = extra.stream;
  if (found && r.lo === -1) notes.push('the predicate already holds on the initial state, before any event');
  else if (found) {
    if (extra.version !== undefined) out.version = extra.version;
    if (event) out.event = event;
    out.stateBefore = r.loState;
    out.stateAfter = r.hiState;
    out.diff = diffJson(r.loState, r.hiState);
  }
  return out;
}
