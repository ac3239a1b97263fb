import type { NormalisedEvent, StoredEvent } from '../../shared/event';
import { ChronoscopeError } from '../../shared/errors';
import type { AppendOptions } from './types';

/** What the sequencer needs to know about events already durable in the store. */
export interface SequencerSource {
  /** Current version of a stream (0 when it has no events). */
  streamVersion(stream: string): number;
  /** The durable event with this id, if any. */
  eventById(id: string): StoredEvent | undefined;
  /**
   * Optional batch pre-check: the subset of ids that MAY exist (false positives allowed, no false
   * negatives). Lets a disk-backed source answer a whole batch with one index probe.
   */
  mayExist?(ids: string[]): Set<string>;
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

  constructor(lastSeq: number, source: SequencerSource) {
    this.#lastSeq = lastSeq;
    this.#groupSeq = lastSeq;
    this.#source = source;
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Assigns one append call's events, or throws (CONCURRENCY_CONFLICT, DUPLICATE_ID) leaving the group untouched. */
  assign(batch: NormalisedEvent[], opts: AppendOptions | undefined, recordedAt: string): AssignedBatch {
    const results: StoredEvent[] = [];
    const fresh: StoredEvent[] = [];
    const localIds = new Map<string, StoredEvent>();
    const localVersions = new Map<string, number>();
    let duplicates = 0;
    const maybe = this.#source.mayExist?.(batch.map((e) => e.id));
    const existing = (id: string) =>
      localIds.get(id) ??
      this.#ids.get(id) ??
      (maybe && !maybe.has(id) ? undefined : this.#source.eventById(id));
    const version = (s: string) =>
      localVersions.get(s) ?? this.#versions.get(s) ?? this.#source.streamVersion(s);

    if (opts?.expectedVersion !== undefined) {
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
    let seq = this.#groupSeq;
    let checkedVersion = false;
    for (const e of batch) {
      const prior = existing(e.id);
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
        results.push(prior);
        continue;
      }
      const current = version(e.stream);
      if (opts?.expectedVersion !== undefined && !checkedVersion) {
        checkedVersion = true;
        if (current !== opts.expectedVersion) {
          throw new ChronoscopeError(
            'CONCURRENCY_CONFLICT',
            `stream ${e.stream} is at version ${current}, expected ${opts.expectedVersion}`,
            { stream: e.stream, expected: opts.expectedVersion, actual: current },
          );
        }
      }
      const stored: StoredEvent = {
        seq: ++seq,
        id: e.id,
        stream: e.stream,
        version: current + 1,
        type: e.type,
        time: e.time,
        recordedAt,
        tenant: e.tenant,
        data: e.data,
      };
      if (e.actor !== undefined) stored.actor = e.actor;
      if (e.correlationId !== undefined) stored.correlationId = e.correlationId;
      if (e.causationId !== undefined) stored.causationId = e.causationId;
      if (e.tags !== undefined) stored.tags = e.tags;
      if (e.schemaVersion !== undefined) stored.schemaVersion = e.schemaVersion;
      if (e.meta !== undefined) stored.meta = e.meta;
      localIds.set(e.id, stored);
      localVersions.set(e.stream, current + 1);
      fresh.push(stored);
      results.push(stored);
    }
    // Only now, with the whole call accepted, does it join the group.
    this.#groupSeq = seq;
    for (const [k, v] of localIds) this.#ids.set(k, v);
    for (const [k, v] of localVersions) this.#versions.set(k, v);
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
