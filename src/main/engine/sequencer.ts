import type { NormalisedEvent, StoredEvent } from '../../shared/event';
import { ChronoscopeError } from '../../shared/errors';
import { EncodedEvent, EncodedStoredEvent } from './encodedEvent';
import type { Interner } from './interner';
import type { AppendOptions } from './types';

/**
 * A stream's version as the sequencer keeps it: `version` is durable, `pending` (-1 when none) is
 * what the commit group under way has assigned. One object per stream, so an append finds both
 * with one lookup (two maps of every stream cost two probes of a big map per event).
 */
export interface StreamCell {
  version: number;
  pending: number;
}

/** What the sequencer needs to know about events already durable in the store. */
export interface SequencerSource {
  /** The stream's cell; the source creates it on first use with the stream's current version (0 when new). */
  streamCell(stream: string): StreamCell;
  /** The stream's cell if it has been created, without creating it (a refused append must not add cells). */
  knownCell(stream: string): StreamCell | undefined;
  /** The durable event with this id, if any (a disk-backed source should pre-check cheaply: most ids are new). */
  eventById(id: string): StoredEvent | undefined;
}

export interface AssignedBatch {
  /** Events to write, in seq order. */
  fresh: StoredEvent[];
  /** One stored event per input, in input order (duplicates resolve to the existing event). */
  results: StoredEvent[];
  duplicates: number;
}

/** Written so the engine cannot drop the cells' prefetching reads in assign as dead code. */
let _prefetchSink = 0;

/**
 * Assigns seq and version to batches of a commit group. Assignments stay provisional until the
 * group's bytes are durable: `commit()` makes them the store's, `abort()` forgets them, so a failed
 * write never leaves a gap or a phantom version behind.
 */
export class Sequencer {
  #lastSeq: number;
  #groupSeq: number;
  /** Cells the group under way has assigned to (written at commit, reset at abort). */
  #touched: StreamCell[] = [];
  /**
   * The group's events by id. A new map for every group instead of clear(): a long-lived map's
   * tables end up in V8's old generation, and a cleared table still points at the group's events,
   * which then outlived every young collection until the next full one (see lazyResult in
   * appendQueue: the two together promoted 869 MB of a 1M-line import, 134 MB without either).
   */
  #ids = new Map<string, StoredEvent>();
  readonly #source: SequencerSource;
  readonly #intern?: Interner;

  /** `intern`: share one string per distinct name in stored events (a store holding every event). */
  constructor(lastSeq: number, source: SequencerSource, intern?: Interner) {
    this.#lastSeq = lastSeq;
    this.#groupSeq = lastSeq;
    this.#source = source;
    this.#intern = intern;
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Assigns one append call's events, or throws (CONCURRENCY_CONFLICT, DUPLICATE_ID) leaving the group untouched. */
  assign(batch: NormalisedEvent[], opts: AppendOptions | undefined, recordedAt: string): AssignedBatch {
    const expected = opts?.expectedVersion;
    if (expected !== undefined) {
      const streams = new Set(batch.map((e) => e.stream));
      if (streams.size > 1) {
        throw new ChronoscopeError(
          'INVALID_ARGUMENT',
          'expectedVersion needs every event of the append to be in one stream',
          {
            streams: [...streams].slice(0, 5),
          },
        );
      }
    }
    // Assignments go straight into the group's maps (no per-call maps to merge: appends are hot);
    // a refused call is undone from its own fresh events, so the group is left as it was.
    const ids = this.#ids;
    const source = this.#source;
    const cells: StreamCell[] = [];
    const results: StoredEvent[] = new Array<StoredEvent>(batch.length);
    const fresh: StoredEvent[] = [];
    let duplicates = 0;
    let seq = this.#groupSeq;
    let checkedVersion = false;
    // The batch's lookups first, each kind in a loop of its own: they are memory-bound (a big map
    // of streams, the sealed id table), and a tight loop of independent lookups lets the CPU wait
    // for several cache misses at once. Interleaved with the rest of the work they were ~6 % of an
    // append's time more (paired batches, 300k events).
    const known = new Array<StoredEvent | undefined>(batch.length);
    const knownCells = new Array<StreamCell | undefined>(batch.length);
    for (let i = 0; i < batch.length; i++) known[i] = source.eventById(batch[i]!.id);
    let touched = 0;
    for (let i = 0; i < batch.length; i++) {
      const c = source.knownCell(batch[i]!.stream);
      knownCells[i] = c;
      // Read here, the cell's own line is fetched with the others instead of one by one below.
      if (c !== undefined) touched |= c.pending;
    }
    _prefetchSink ^= touched;
    try {
      for (let i = 0; i < batch.length; i++) {
        const e = batch[i]!;
        // The group's own ids first: an id appended earlier in the group is not in the source yet.
        const prior = ids.get(e.id) ?? known[i];
        if (prior) {
          if (prior.stream !== e.stream || prior.type !== e.type) {
            throw new ChronoscopeError(
              'DUPLICATE_ID',
              `event id ${e.id} already belongs to a ${prior.type} in ${prior.stream}`,
              {
                id: e.id,
                seq: prior.seq,
              },
            );
          }
          duplicates++;
          results[i] = prior;
          continue;
        }
        const stream = e.stream;
        const cell = knownCells[i] ?? source.streamCell(stream);
        const current = cell.pending >= 0 ? cell.pending : cell.version;
        if (expected !== undefined && !checkedVersion) {
          checkedVersion = true;
          if (current !== expected) {
            throw new ChronoscopeError(
              'CONCURRENCY_CONFLICT',
              `stream ${e.stream} is at version ${current}, expected ${expected}`,
              { stream: e.stream, expected, actual: current },
            );
          }
        }
        // Built in envelope field order, so JSON.stringify of it is its stored line (storedLine).
        const intern = this.#intern;
        const sq = ++seq;
        const sn = intern ? intern.get(stream) : stream;
        const ty = intern ? intern.get(e.type) : e.type;
        const te = intern ? intern.get(e.tenant) : e.tenant;
        let stored: StoredEvent;
        if (e instanceof EncodedEvent && !intern) {
          // Data and meta stay text: the file store writes them as they are (see EncodedStoredEvent).
          stored = new EncodedStoredEvent(sq, e.id, sn, current + 1, ty, e.time, recordedAt, te, e);
        } else if (
          e.actor !== undefined &&
          e.correlationId !== undefined &&
          e.causationId === undefined &&
          e.tags === undefined &&
          e.schemaVersion === undefined
        ) {
          // The usual shape as one literal: every field in the object itself. Fields added one by one
          // past a literal's own go to a separate property array (~40 bytes more an event held).
          stored = {
            seq: sq,
            id: e.id,
            stream: sn,
            version: current + 1,
            type: ty,
            time: e.time,
            recordedAt,
            tenant: te,
            actor: intern ? intern.get(e.actor) : e.actor,
            correlationId: intern ? intern.get(e.correlationId) : e.correlationId,
            data: e.data,
          };
        } else {
          stored = {
            seq: sq,
            id: e.id,
            stream: sn,
            version: current + 1,
            type: ty,
            time: e.time,
            recordedAt,
            tenant: te,
          } as StoredEvent;
          if (e.actor !== undefined) stored.actor = intern ? intern.get(e.actor) : e.actor;
          if (e.correlationId !== undefined)
            stored.correlationId = intern ? intern.get(e.correlationId) : e.correlationId;
          if (e.causationId !== undefined) stored.causationId = e.causationId;
          if (e.tags !== undefined) stored.tags = e.tags;
          if (e.schemaVersion !== undefined) stored.schemaVersion = e.schemaVersion;
          stored.data = e.data;
        }
        if (!(stored instanceof EncodedStoredEvent) && e.meta !== undefined) stored.meta = e.meta;
        ids.set(e.id, stored);
        if (cell.pending < 0) this.#touched.push(cell);
        cell.pending = current + 1;
        cells.push(cell);
        fresh.push(stored);
        results[i] = stored;
      }
    } catch (err) {
      for (let k = fresh.length - 1; k >= 0; k--) {
        const f = fresh[k]!;
        ids.delete(f.id);
        // The version before this call (equal to the durable one when the group had none yet).
        cells[k]!.pending = f.version - 1;
      }
      throw err;
    }
    // Only now, with the whole call accepted, does it join the group.
    this.#groupSeq = seq;
    return { fresh, results, duplicates };
  }

  /** Sets the last durable seq, once recovery has found it. Only valid with no group under way. */
  reset(lastSeq: number): void {
    this.#lastSeq = lastSeq;
    this.#groupSeq = lastSeq;
    this.#settle(false);
  }

  /** The group's bytes are durable and indexed: its assignments become the store's. */
  commit(): void {
    this.#lastSeq = this.#groupSeq;
    this.#settle(true);
  }

  /** The group's write failed: forget every provisional assignment. */
  abort(): void {
    this.#groupSeq = this.#lastSeq;
    this.#settle(false);
  }

  #settle(keep: boolean): void {
    for (const c of this.#touched) {
      if (keep) c.version = c.pending;
      c.pending = -1;
    }
    this.#touched = [];
    this.#ids = new Map();
  }
}
