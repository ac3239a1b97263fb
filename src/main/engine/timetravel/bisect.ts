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
import { MemorySnapshotStore, type SnapshotStore } from './snapshots';
import { applyEvent, globalStateAt, streamStateAt, type StateAt } from './stateAt';

/** A state predicate: parsed (parseStatePredicate) or a plain function. */
export type Predicate<S> = StatePredicate | ((state: S) => boolean);

export interface BisectOptions<S> {
  projection?: Projection<S>;
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

/** Walks every state once, noting where the predicate first holds and where it turns false again. */
function monotonicity<S>(
  events: StoredEvent[],
  p: Projection<S>,
  holds: (s: S) => boolean,
  at: (e: StoredEvent) => string,
) {
  let state = p.init();
  let prev = holds(state);
  let first: StoredEvent | undefined;
  let back: StoredEvent | undefined;
  for (const e of events) {
    state = applyEvent(p, state, e);
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
  const p = (options.projection ?? streamReducer) as Projection<S>;
  const holds = testOf(predicate);
  const snapshots = options.snapshots ?? new MemorySnapshotStore({ kind: 'adaptive', every: 256 });
  const last = (await store.query({ stream }, { order: 'desc', limit: 1 })).events[0];
  const head = last?.version ?? 0;
  const r = await search(
    head,
    p.init(),
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
    const m = monotonicity(events, p, holds, (e) => `version ${e.version} (seq ${e.seq})`);
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
  const p = (options.projection ?? globalReducer) as Projection<S>;
  const holds = testOf(predicate);
  const snapshots = options.snapshots ?? new MemorySnapshotStore({ kind: 'adaptive', every: 10_000 });
  const filter = options.streams;
  const head = store.lastSeq();
  const opts = { snapshots, probe: true, filter, signal: options.signal };
  const r = await search(head, p.init(), (seq) => globalStateAt(store, { seq }, p, opts), holds);
  const notes: string[] = [];
  if (!r.holdsAtHead) notes.push(`the predicate does not hold at the head (seq ${head})`);
  const found = r.holdsAtHead;
  const event = found && r.hi > 0 ? await store.getBySeq(r.hi) : undefined;
  let monotone: boolean | undefined;
  if (options.verify) {
    // One more fold, through everything, watching every state (O(n) events, no snapshots).
    let prev = holds(p.init());
    let first = 0;
    let back = 0;
    const watch: Projection<S> = {
      ...p,
      apply: (s, e) => {
        const next = p.apply(s, e);
        const now = holds(next);
        if (now && !prev && !first) first = e.seq;
        if (!now && prev && !back) back = e.seq;
        prev = now;
        return next;
      },
    };
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
  const p = (options.projection ?? streamReducer) as Projection<S>;
  const holds = testOf(predicate);
  const states = new Map<string, S>();
  const head = store.lastSeq();
  const notes: string[] = [];
  if (holds(p.init()))
    notes.push('the predicate holds on an empty stream state: every stream matches at once');
  let applied = 0;
  let cursor: string | undefined;
  do {
    if (options.signal?.aborted) throw new ChronoscopeError('CANCELLED', 'bisect cancelled');
    const page = await store.query(filter, { order: 'asc', limit: options.pageSize ?? 2000, cursor });
    for (const e of page.events) {
      if (!matchesFilter(e, filter)) continue; // defensive: the index is the oracle's equal
      const before = states.get(e.stream) ?? p.init();
      const after = applyEvent(p, before, e);
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
  const none = { lo: 0, hi: 0, loState: p.init(), hiState: p.init(), folds: 1, applied };
  return result(false, undefined, none, notes, undefined, {});
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
