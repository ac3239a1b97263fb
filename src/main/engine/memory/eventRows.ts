import type { StoredEvent } from '../../../shared/event';

const HOUR = 3_600_000;

/** The keys a MemoryIndex keeps lists for: `type` eagerly, the rest built on first use. */
export type RowKeyKind =
  'type' | 'stream' | 'streamType' | 'tenant' | 'actor' | 'correlation' | 'causation' | 'tag' | 'hour';

/** An index key: a string, or a number (an hour, or a key hash where the rows keep only hashes). */
export type RowKey = string | number;

/** A stored line's bytes handed to the rows that keep lines (buf[start, start + length)). */
export interface LineBytes {
  buf: Buffer;
  start: number;
  length: number;
}

/**
 * How a MemoryIndex holds its events, row by row in seq order. The memory backend keeps the event
 * objects (ObjectRows); the file backend's hot tier keeps their stored lines (LineRows), so that
 * tens of thousands of recent events are a few buffers to the garbage collector, not objects.
 */
export interface EventRows {
  readonly length: number;
  /** Adds an event (`line`: its stored line, for rows that keep lines); returns the bytes it is charged. */
  push(e: StoredEvent, line?: LineBytes): number;
  event(pos: number): StoredEvent;
  id(pos: number): string;
  /** The row's key of a kind: undefined when it has none, an array for tags. */
  key(kind: RowKeyKind, pos: number): RowKey | string[] | undefined;
  /** The key an index of this kind files `value` under (a filter's value → its list). */
  lookup(kind: RowKeyKind, value: string): RowKey;
  /** Event time in ms since the epoch (NaN if it does not parse). */
  timeMs(pos: number): number;
  /** Forgets the first n rows (positions shift down by n). */
  dropFirst(n: number): void;
  /** Gives back what the rows hold (pooled buffers); they are never used again. */
  release?(): void;
}

/** Rough heap cost of one event, for the memory backend's accounting. */
export function estimateEventBytes(e: StoredEvent, lineBytes?: number): number {
  return 400 + 2 * (lineBytes ?? JSON.stringify(e.data).length + 200);
}

/** The key of an event object, shared by every kind of rows that can read the object. */
export function eventKey(kind: RowKeyKind, e: StoredEvent): RowKey | string[] | undefined {
  switch (kind) {
    case 'type':
      return e.type;
    case 'stream':
      return e.stream;
    case 'streamType':
      return `${e.stream}\u0000${e.type}`;
    case 'tenant':
      return e.tenant;
    case 'actor':
      return e.actor;
    case 'correlation':
      return e.correlationId;
    case 'causation':
      return e.causationId;
    case 'tag':
      return e.tags ? [...new Set(e.tags)] : undefined;
    case 'hour':
      return Math.floor(Date.parse(e.time) / HOUR);
  }
}

/** The event objects themselves (the memory backend: nothing else holds them). */
export class ObjectRows implements EventRows {
  #events: StoredEvent[] = [];

  get length(): number {
    return this.#events.length;
  }
  push(e: StoredEvent): number {
    this.#events.push(e);
    return estimateEventBytes(e);
  }
  event(pos: number): StoredEvent {
    return this.#events[pos]!;
  }
  id(pos: number): string {
    return this.#events[pos]!.id;
  }
  key(kind: RowKeyKind, pos: number): RowKey | string[] | undefined {
    return eventKey(kind, this.#events[pos]!);
  }
  lookup(_kind: RowKeyKind, value: string): RowKey {
    return value;
  }
  timeMs(pos: number): number {
    return Date.parse(this.#events[pos]!.time);
  }
  dropFirst(n: number): void {
    this.#events = this.#events.slice(n);
  }
}
