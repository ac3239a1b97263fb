/**
 * The messages between the host and the worker that runs a user module (projection, handler or
 * upcaster). Types only, shared by both sides. States cross as JSON text: that is what snapshots
 * and checkpoints store, and it rejects non-JSON states (functions, Maps) at the boundary.
 */
import type { StoredEvent } from '../../../shared/event';

/** What a user module exports, as the worker found it on load. */
export interface ModuleShape {
  name?: string;
  scope?: 'stream' | 'global';
  has: { init: boolean; apply: boolean; handle: boolean; upcast: boolean };
}

export type WorkerRequest =
  | { id: number; op: 'load'; url: string; file: string }
  /** Fold `events` into one state (`perStream`: a map stream → state, each starting from init()). */
  | {
      id: number;
      op: 'fold';
      state: string | null;
      events: StoredEvent[];
      perStream: boolean;
      steps: boolean;
    }
  | { id: number; op: 'handle'; events: StoredEvent[]; attempt: number }
  | { id: number; op: 'upcast'; events: StoredEvent[] }
  /** Compile a breakpoint expression (`events` empty) or find the first event it holds for. */
  | { id: number; op: 'break'; expr: string; events: StoredEvent[] };

/** A throw inside user code: which event (index in the batch) and the user's own stack. */
export interface UserThrow {
  message: string;
  name: string;
  stack?: string;
  index?: number;
}

export type WorkerReply =
  | { id: number; ok: true; value: unknown }
  /** `partial`: the JSON state after the events before `error.index` (fold) — work is never lost. */
  | { id: number; ok: false; error: UserThrow; partial?: string | null }
  | { id: -1; log: string };

/** Reply values per op. */
export interface FoldValue {
  /** JSON of the final state. */
  state: string;
  /** With `steps`: JSON of the state after each event. */
  steps?: string[];
}
export type LoadValue = ModuleShape;
/** Per input event: the events it becomes (null: dropped). */
export type UpcastValue = (unknown[] | null)[];
/** Index of the first event the expression holds for, or -1. */
export type BreakValue = number;
