import type { ApiBisect, ApiDiff, ApiPosition, ApiStateAt } from '@shared/api';
import type { StoredEvent } from '@shared/event';
import type { DiffEntry } from '@shared/projection';
import { create } from 'zustand';
import { api, ApiClientError } from '../api/client';
import { useBrowser } from './useBrowser';

/** A fold in flight: its progress and how to stop it. */
export interface Running {
  label: string;
  done: number;
  total: number;
  cancel(): void;
}

export type BisectScope = 'stream' | 'streams' | 'global';

interface TimeTravelState {
  open: boolean;
  /** A user projection module folding the state ('' = the built-in generic reducers). */
  projection: string;
  /** The stream whose state is shown; null: the global state. */
  stream: string | null;
  /** The event the cursor stands after (the list's selected row). */
  cursor: StoredEvent | null;
  state: ApiStateAt | null;
  /** What the cursor's event changed in the stream's state (stream scope only). */
  changed: DiffEntry[];
  folding: Running | null;
  pins: { a: ApiPosition | null; b: ApiPosition | null };
  diff: ApiDiff | null;
  bisect: {
    open: boolean;
    scope: BisectScope;
    pattern: string;
    where: string;
    /** `where` is a JS expression over `state`, not a condition. */
    js: boolean;
    running: Running | null;
    result: ApiBisect | null;
    error: string | null;
  };

  show(stream: string | null): void;
  hide(): void;
  setStream(stream: string | null): void;
  /** A projection module path ('' = the built-in generic reducers). */
  setProjection(path: string): void;
  /** Moves the cursor to an event (called when the list's selection changes). */
  moveTo(event: StoredEvent | null): void;
  pin(which: 'a' | 'b'): void;
  clearPins(): void;
  openBisect(open: boolean): void;
  editBisect(next: Partial<Pick<TimeTravelState['bisect'], 'scope' | 'pattern' | 'where' | 'js'>>): void;
  runBisect(): Promise<void>;
}

const FOLD_DEBOUNCE_MS = 120;
let foldTimer: ReturnType<typeof setTimeout> | undefined;
let foldToken = 0;

const cancelled = (err: unknown) => err instanceof ApiClientError && err.code === 'CANCELLED';

/**
 * Time travel (DESIGN §4) in the UI: the cursor is the event list's selected row, so the list,
 * the timeline marker and the state tree always show the same position. Each cursor move folds
 * (debounced; a newer move cancels the older fold), pins A/B give a diff, and bisect runs as a
 * cancellable job with progress.
 */
export const useTimeTravel = create<TimeTravelState>((set, get) => {
  const withProjection = () => (get().projection.trim() ? { projection: get().projection.trim() } : {});
  const refold = () => {
    clearTimeout(foldTimer);
    foldTimer = setTimeout(() => void fold(), FOLD_DEBOUNCE_MS);
  };

  const fold = async () => {
    const { open, stream, cursor, folding } = get();
    if (!open) return;
    folding?.cancel();
    const token = ++foldToken;
    const seq = cursor?.seq ?? useBrowser.getState().stats?.lastSeq ?? 0;
    const params = { ...(stream !== null ? { stream } : {}), at: { seq }, ...withProjection() };
    const job = api.job('stateAt', params, (done, total) => {
      const f = get().folding;
      if (token === foldToken && f) set({ folding: { ...f, done, total } });
    });
    set({ folding: { label: `folding to #${seq}`, done: 0, total: 0, cancel: job.cancel } });
    try {
      const state = await job.result;
      let changed: DiffEntry[] = [];
      // What this very event did to its own stream: a cheap second fold from the first one's snapshot.
      if (stream !== null && cursor?.stream === stream && state.position.seq === cursor.seq) {
        const d = await api.call('diff', {
          stream,
          from: { seq: seq - 1 },
          to: { seq },
          ...withProjection(),
        });
        changed = d.entries;
      }
      if (token === foldToken) set({ state, changed, folding: null });
    } catch (err) {
      if (token !== foldToken) return;
      set({ folding: null });
      if (!cancelled(err)) useBrowser.getState().report(err);
    }
  };

  const rediff = async () => {
    const { a, b } = get().pins;
    const stream = get().stream;
    if (!a || !b) return set({ diff: null });
    try {
      const from = { seq: a.seq };
      const to = { seq: b.seq };
      const diff = await api.call('diff', {
        ...(stream !== null ? { stream } : {}),
        from,
        to,
        ...withProjection(),
      });
      set({ diff });
    } catch (err) {
      useBrowser.getState().report(err);
    }
  };

  return {
    open: false,
    projection: '',
    stream: null,
    cursor: null,
    state: null,
    changed: [],
    folding: null,
    pins: { a: null, b: null },
    diff: null,
    bisect: {
      open: false,
      scope: 'streams',
      pattern: '',
      where: '',
      js: false,
      running: null,
      result: null,
      error: null,
    },

    show(stream) {
      const b = useBrowser.getState();
      const cursor = b.detail ?? null;
      set((s) => ({
        open: true,
        stream,
        cursor,
        state: null,
        changed: [],
        pins: { a: null, b: null },
        diff: null,
        bisect: {
          ...s.bisect,
          scope: stream !== null ? 'stream' : s.bisect.scope,
          pattern:
            s.bisect.pattern || (stream !== null ? `${stream.replace(/[-:/_.][^-:/_.]*$/, '')}-*` : ''),
        },
      }));
      refold();
    },

    hide() {
      get().folding?.cancel();
      set({ open: false, folding: null });
    },

    setProjection(projection) {
      set({ projection, state: null, changed: [], pins: { a: null, b: null }, diff: null });
      refold();
    },

    setStream(stream) {
      set({ stream, state: null, changed: [], pins: { a: null, b: null }, diff: null });
      refold();
    },

    moveTo(event) {
      if (get().cursor?.seq === event?.seq) return;
      set({ cursor: event });
      if (get().open) refold();
    },

    pin(which) {
      const pos = get().state?.position;
      if (!pos) return;
      set((s) => ({ pins: { ...s.pins, [which]: pos } }));
      void rediff();
    },

    clearPins() {
      set({ pins: { a: null, b: null }, diff: null });
    },

    openBisect(open) {
      if (!open) get().bisect.running?.cancel();
      set((s) => ({ bisect: { ...s.bisect, open, error: null } }));
    },

    editBisect(next) {
      set((s) => ({ bisect: { ...s.bisect, ...next } }));
    },

    async runBisect() {
      const { bisect, stream } = get();
      const where = bisect.where.trim();
      if (!where) return set({ bisect: { ...bisect, error: 'write a condition, e.g. total < 0' } });
      const pattern = bisect.pattern.trim();
      if (bisect.scope === 'streams' && !pattern)
        return set({ bisect: { ...bisect, error: 'give a stream name or a prefix pattern, e.g. Order-*' } });
      const scope =
        bisect.scope === 'stream' && stream !== null
          ? { stream }
          : bisect.scope === 'streams'
            ? { streams: pattern }
            : {};
      const params = {
        where,
        ...scope,
        language: bisect.js ? ('js' as const) : ('condition' as const),
        ...withProjection(),
      };
      const job = api.job('bisect', params, (done, total) => {
        const r = get().bisect.running;
        if (r) set((s) => ({ bisect: { ...s.bisect, running: { ...r, done, total } } }));
      });
      const running: Running = { label: 'bisecting', done: 0, total: 0, cancel: job.cancel };
      set((s) => ({ bisect: { ...s.bisect, running, result: null, error: null } }));
      try {
        const result = await job.result;
        set((s) => ({ bisect: { ...s.bisect, running: null, result } }));
      } catch (err) {
        const message = cancelled(err) ? 'cancelled' : err instanceof Error ? err.message : String(err);
        set((s) => ({ bisect: { ...s.bisect, running: null, error: message } }));
      }
    },
  };
});
