import type { JsonValue, StoredEvent } from '../../../shared/event';
import type { Projection } from '../../../shared/projection';

/**
 * A projection that folds whole batches asynchronously: user projections run in a worker, and one
 * message per event would cost more than the fold. The built-in reducers stay synchronous
 * `Projection`s; stateAt and bisect accept either (AnyProjection).
 */
export interface BatchProjection<S = JsonValue> {
  readonly name: string;
  readonly scope: 'stream' | 'global';
  /** Changes when the code is reloaded, so snapshots of older code are never used. */
  readonly codeHash?: string;
  init(): Promise<S>;
  /** The state after applying `events` in order; a throw names the event. */
  foldBatch(state: S, events: StoredEvent[]): Promise<S>;
  /** The state after each of `events` (bisect checks its predicate at every one). */
  foldSteps(state: S, events: StoredEvent[]): Promise<S[]>;
  /**
   * Events of many streams at once: `states` holds the states of (some of) their streams; a missing
   * stream starts from init(). Returns the updated map and, per event, its stream's state after it.
   */
  foldStreams(
    states: Record<string, S>,
    events: StoredEvent[],
  ): Promise<{ states: Record<string, S>; steps: S[] }>;
}

export type AnyProjection<S> = Projection<S> | BatchProjection<S>;

export const isBatchProjection = <S>(p: AnyProjection<S>): p is BatchProjection<S> => 'foldBatch' in p;

/** The initial state of either kind. */
export const initialState = <S>(p: AnyProjection<S>): S | Promise<S> => p.init();
