/**
 * Upcaster try-out: replays the (filtered) log through `upcast(event)` into a scratch in-memory
 * store — the original is only read — then folds a projection over both and reports, stream by
 * stream, where the states differ. This is how a schema migration is checked before it ships.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ChronoscopeError } from '../../../shared/errors';
import { eventInputSchema, type EventInput, type StoredEvent } from '../../../shared/event';
import { diffJson, type DiffEntry } from '../../../shared/projection';
import type { EventFilter } from '../../../shared/query';
import { parseConfig } from '../config';
import { openStore } from '../store';
import type { EventStore } from '../types';
import type { BatchProjection } from './batchProjection';
import type { UserModule } from './UserModule';

export interface StreamDifference {
  stream: string;
  originalEvents: number;
  upcastEvents: number;
  /** Absent on one side: the stream has no events there. */
  original?: unknown;
  upcast?: unknown;
  diff: DiffEntry[];
}

export interface UpcastComparison {
  projection: string;
  scope: 'stream' | 'global';
  originalEvents: number;
  upcastEvents: number;
  dropped: number;
  /** Events the upcaster added (it returned more than one for an event). */
  added: number;
  streamsCompared: number;
  /** Streams (or, for a global projection, the one '*' entry) whose states differ. */
  differences: StreamDifference[];
}

export interface TryUpcasterOptions {
  filter?: EventFilter;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  pageSize?: number;
}

const INPUT_KEYS = Object.keys(eventInputSchema.shape) as (keyof EventInput)[];

/** What the upcaster returned for one event, as an append input (store-assigned fields dropped). */
function toInput(value: unknown, original: StoredEvent, index: number, file: string): EventInput {
  const what = `upcaster ${file}: output ${index + 1} for seq ${original.seq} (${original.type} ${original.stream})`;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ChronoscopeError('INVALID_EVENT', `${what}: not an event object`, { seq: original.seq });
  const v = value as Record<string, unknown>;
  const input: Record<string, unknown> = {};
  for (const k of INPUT_KEYS) if (v[k] !== undefined) input[k] = v[k];
  // A second output that kept the original id would be a duplicate: let the store give it one.
  if (index > 0 && input.id === original.id) delete input.id;
  const r = eventInputSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ChronoscopeError('INVALID_EVENT', `${what}: ${issue.path.join('.')}: ${issue.message}`, {
      seq: original.seq,
      field: issue.path.join('.'),
    });
  }
  return input as EventInput;
}

/** Pages of the events matching `filter`, in seq order. */
async function* pages(store: EventStore, filter: EventFilter, size: number, signal?: AbortSignal) {
  let cursor: string | undefined;
  do {
    if (signal?.aborted) throw new ChronoscopeError('CANCELLED', 'upcaster try-out cancelled');
    const page = await store.query(filter, { order: 'asc', limit: size, cursor });
    if (page.events.length) yield page.events;
    cursor = page.nextCursor;
    await nextTurn();
  } while (cursor);
}

/** Folds every page: per stream (a map of states and event counts) or one global state. */
async function foldAll<S>(p: BatchProjection<S>, source: AsyncIterable<StoredEvent[]>) {
  const states = new Map<string, S>();
  const counts = new Map<string, number>();
  let global = p.scope === 'global' ? await p.init() : undefined;
  for await (const events of source) {
    for (const e of events) counts.set(e.stream, (counts.get(e.stream) ?? 0) + 1);
    if (p.scope === 'global') global = await p.foldBatch(global as S, events);
    else {
      const touched: Record<string, S> = {};
      for (const e of events)
        if (states.has(e.stream))
          Object.defineProperty(touched, e.stream, { value: states.get(e.stream), enumerable: true });
      const r = await p.foldStreams(touched, events);
      for (const [k, v] of Object.entries(r.states)) states.set(k, v);
    }
  }
  return { states, counts, global };
}

export async function tryUpcaster<S>(
  store: EventStore,
  upcaster: UserModule,
  projection: BatchProjection<S>,
  options: TryUpcasterOptions = {},
): Promise<UpcastComparison> {
  if (upcaster.kind !== 'upcaster')
    throw new ChronoscopeError(
      'INVALID_ARGUMENT',
      `${upcaster.file}: not an upcaster (export upcast(event))`,
      {
        file: upcaster.file,
      },
    );
  const filter = options.filter ?? {};
  const size = options.pageSize ?? 1000;
  const scratch = await openStore(parseConfig({ backend: 'memory' }));
  try {
    let [originalEvents, dropped, added] = [0, 0, 0];
    const total = store.lastSeq();
    for await (const events of pages(store, filter, size, options.signal)) {
      const r = await upcaster.upcast(events);
      if (!r.ok) throw upcaster.failure('upcasting', events, r.error).error;
      const inputs: EventInput[] = [];
      r.value.forEach((out, i) => {
        const e = events[i]!;
        if (out === null || out.length === 0) return void dropped++;
        added += out.length - 1;
        out.forEach((v, j) => inputs.push(toInput(v, e, j, upcaster.file)));
      });
      originalEvents += events.length;
      if (inputs.length) await scratch.append(inputs);
      options.onProgress?.(events[events.length - 1]!.seq, total);
    }
    const a = await foldAll(projection, pages(store, filter, size, options.signal));
    const b = await foldAll(projection, pages(scratch, {}, size, options.signal));
    const differences: StreamDifference[] = [];
    let compared = 1;
    if (projection.scope === 'global') {
      const diff = diffJson(a.global, b.global);
      if (diff.length)
        differences.push({
          stream: '*',
          originalEvents,
          upcastEvents: scratch.lastSeq(),
          original: a.global,
          upcast: b.global,
          diff,
        });
    } else {
      const streams = [...new Set([...a.states.keys(), ...b.states.keys()])].sort();
      compared = streams.length;
      for (const stream of streams) {
        const [x, y] = [a.states.get(stream), b.states.get(stream)];
        const diff = diffJson(x, y);
        if (!diff.length) continue;
        const d: StreamDifference = {
          stream,
          originalEvents: a.counts.get(stream) ?? 0,
          upcastEvents: b.counts.get(stream) ?? 0,
          diff,
        };
        if (a.states.has(stream)) d.original = x;
        if (b.states.has(stream)) d.upcast = y;
        differences.push(d);
      }
    }
    return {
      projection: projection.name,
      scope: projection.scope,
      originalEvents,
      upcastEvents: scratch.lastSeq(),
      dropped,
      added,
      streamsCompared: compared,
      differences,
    };
  } finally {
    await scratch.close();
  }
}
