import type { EventInput, NormalisedEvent, StoredEvent } from '../../shared/event';
import type { EventFilter, QueryOptions, QueryPage } from '../../shared/query';
import type { Histogram, MetricsSnapshot, StoreStats, VerifyReport } from '../../shared/storeTypes';

export type { StoreStats, VerifyIssue, VerifyReport } from '../../shared/storeTypes';

/** Optimistic concurrency: the stream's current version must equal this (0 = the stream must not exist yet). */
export interface AppendOptions {
  expectedVersion?: number;
}

export interface AppendResult {
  /** The stored form of every input, in input order; duplicates of an existing id give the existing event. */
  events: StoredEvent[];
  appended: number;
  duplicates: number;
  /** Highest seq in the store once this call resolved. */
  lastSeq: number;
}

export interface SubscribeOptions {
  /** First seq to deliver; default 1 (everything). Ignored when `name` has a saved checkpoint. */
  fromSeq?: number;
  /** A named subscription: resumes after its persisted checkpoint and advances it as events are consumed. */
  name?: string;
  filter?: EventFilter;
}

/** Catch-up then live delivery, in seq order, never missing or repeating an event. */
export interface Subscription extends AsyncIterable<StoredEvent> {
  /** Seq of the last event handed to the consumer. */
  readonly position: number;
  close(): Promise<void>;
}

/** Is the store well? Degraded means it works but something needs a look (a failed seal, damage found on open). */
export interface StoreHealth {
  status: 'ok' | 'degraded';
  problems: string[];
  lastSeq: number;
  /** Segments waiting to be sealed (file backend): a growing backlog means sealing cannot keep up. */
  sealBacklog: number;
  metrics: MetricsSnapshot;
}

/** One store of events: the contract every backend fulfils (test/conformance checks it). */
export interface EventStore {
  readonly backend: 'memory' | 'file';
  readonly readOnly: boolean;
  /** Appends atomically and durably; resolves only once every event is durable and queryable. */
  append(events: EventInput[], options?: AppendOptions): Promise<AppendResult>;
  /**
   * `append` for events already through normaliseEvent (an importer validates each line itself, to
   * quarantine it alone): the store takes the objects as they are, so the caller must hand over
   * fresh ones and never touch them again.
   */
  appendNormalised(events: NormalisedEvent[], options?: AppendOptions): Promise<AppendResult>;
  getEvent(id: string): Promise<StoredEvent | undefined>;
  getBySeq(seq: number): Promise<StoredEvent | undefined>;
  /** Events of one stream with from ≤ version ≤ to, in version order. */
  readStream(stream: string, fromVersion?: number, toVersion?: number): Promise<StoredEvent[]>;
  query(filter?: EventFilter, options?: QueryOptions): Promise<QueryPage>;
  /** Up to `limit` events with seq ≥ fromSeq, in seq order. */
  readAll(fromSeq?: number, limit?: number): Promise<StoredEvent[]>;
  subscribe(options?: SubscribeOptions): Subscription;
  getCheckpoint(name: string): Promise<number | undefined>;
  setCheckpoint(name: string, seq: number): Promise<void>;
  lastSeq(): number;
  stats(): Promise<StoreStats>;
  /** Matching events per time bucket over the filter's since/until, or the store's whole time span. */
  histogram(filter?: EventFilter, options?: { buckets?: number }): Promise<Histogram>;
  /** Health, latency percentiles per operation and index-use counters. */
  health(): Promise<StoreHealth>;
  verify(): Promise<VerifyReport>;
  close(): Promise<void>;
}
