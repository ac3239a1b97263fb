import type { NormalisedEvent, StoredEvent } from '../../shared/event';
import { ChronoscopeError } from '../../shared/errors';
import type { Interner } from './interner';
import type { AppendOptions } from './types';

/** What the sequencer needs to know about events already durable in the store. */
export interface SequencerSource {
  /** Current version of a stream (0 when it has no events). */
  streamVersion(stream: string): number;
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

/**
 * Assigns seq and version to batches of a commit group. Assignments stay provisional until the
 * group's bytes are durable: `commit()` makes them the store's, `abort()` forgets them, so a failed
 * write never leaves a gap or a phantom version behind.
 */
export class Sequencer {
  #lastSeq: number;
  #groupSeq: number;
  readonly #versions = new Map<string, number>();
  readonly #ids = new Map<string, StoredEvent>();
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
    const versions = this.#versions;
    const results: StoredEvent[] = new Array<StoredEvent>(batch.length);
    const fresh: StoredEvent[] = [];
    let duplicates = 0;
    let seq = this.#groupSeq;
    let checkedVersion = false;
    try {
      for (let i = 0; i < batch.length; i++) {
        const e = batch[i]!;
        const prior = ids.get(e.id) ?? this.#source.eventById(e.id);
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
        let current = versions.get(stream);
        if (current === undefined) current = this.#source.streamVersion(stream);
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
        if (
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
        if (e.meta !== undefined) stored.meta = e.meta;
        ids.set(e.id, stored);
        versions.set(stream, current + 1);
        fresh.push(stored);
        results[i] = stored;
      }
    } catch (err) {
      for (let k = fresh.length - 1; k >= 0; k--) {
        const f = fresh[k]!;
        ids.delete(f.id);
        // The version before this call (equal to the source's when the group had no entry yet).
        versions.set(f.stream, f.version - 1);
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
    this.#versions.clear();
    this.#ids.clear();
  }

  /** The group's bytes are durable and indexed: its assignments become the store's. */
  commit(): void {
    this.#lastSeq = this.#groupSeq;
    this.#versions.clear();
    this.#ids.clear();
  }

  /** The group's write failed: forget every provisional assignment. */
  abort(): void {
    this.#groupSeq = this.#lastSeq;
    this.#versions.clear();
    this.#ids.clear();
  }
}
