import type { ApiChain, ApiStats } from '@shared/api';
import type { StoredEvent } from '@shared/event';
import type { EventFilter } from '@shared/query';
import { create } from 'zustand';
import { api, describeError } from '../api/client';
import { appendLive, canLoad, evict, PAGE, rowAt, type RowSource } from './rows';
import {
  EMPTY_FILTER,
  filterFromSearch,
  isEmptyFilter,
  searchFromFilter,
  toEngineFilter,
  type UiFilter,
} from './uiFilter';

export interface Notice {
  id: number;
  message: string;
}

interface BrowserState {
  filter: UiFilter;
  engineFilter: EventFilter;
  /** Why the bar's fields do not make a filter (then nothing is shown). */
  filterError: string | null;
  stats: ApiStats | null;
  rows: RowSource;
  /** Bumped on every filter change so answers to an older filter are dropped. */
  generation: number;
  loading: ReadonlySet<number>;
  selected: number;
  detail: StoredEvent | null;
  chain: ApiChain | null;
  chainLoading: boolean;
  liveTail: boolean;
  errors: Notice[];
  ready: boolean;

  init(): Promise<void>;
  setFilter(next: Partial<UiFilter>, replace?: boolean): void;
  reloadFromUrl(): void;
  loadRange(start: number, end: number): void;
  select(index: number): void;
  openDetail(event?: StoredEvent): void;
  closeDetail(): void;
  showChain(): Promise<void>;
  refreshStats(): Promise<void>;
  setLiveTail(on: boolean): void;
  report(err: unknown): void;
  dismiss(id: number): void;
}

const emptyRows = (): RowSource => ({
  mode: 'cursor',
  firstSeq: 1,
  rowCount: 0,
  hasMore: true,
  pages: new Map(),
  cursors: [],
});
let noticeId = 0;
let stopTail: (() => void) | undefined;

/** The event browser's state: filter (mirrored in the URL), the windowed rows, selection, detail and tail. */
export const useBrowser = create<BrowserState>((set, get) => {
  /** Starts a fresh row source for the current filter, dense when nothing filters and seqs have no gaps. */
  const restart = () => {
    const { stats, engineFilter, filterError } = get();
    if (filterError) {
      stopTail?.();
      set((s) => ({ rows: { ...emptyRows(), hasMore: false }, generation: s.generation + 1, selected: -1 }));
      return;
    }
    const dense =
      stats !== null && isEmptyFilter(engineFilter) && stats.events === stats.lastSeq - stats.firstSeq + 1;
    const rows: RowSource = dense
      ? {
          mode: 'dense',
          firstSeq: stats!.firstSeq,
          rowCount: stats!.events,
          hasMore: false,
          pages: new Map(),
          cursors: [],
        }
      : emptyRows();
    set((s) => ({ rows, generation: s.generation + 1, loading: new Set(), selected: -1 }));
    if (get().liveTail) startTail();
    get().loadRange(0, PAGE - 1);
  };

  const applyFilter = (filter: UiFilter) => {
    try {
      set({ filter, engineFilter: toEngineFilter(filter), filterError: null });
    } catch (err) {
      set({ filter, engineFilter: {}, filterError: describeError(err) });
    }
  };

  const loadPage = async (k: number) => {
    const { rows, generation, engineFilter } = get();
    const query =
      rows.mode === 'dense'
        ? api.call('query', {
            filter: { fromSeq: rows.firstSeq + k * PAGE, toSeq: rows.firstSeq + (k + 1) * PAGE - 1 },
            options: { limit: PAGE },
          })
        : api.call('query', { filter: engineFilter, options: { limit: PAGE, cursor: rows.cursors[k] } });
    set((s) => ({ loading: new Set(s.loading).add(k) }));
    try {
      const page = await query;
      if (get().generation !== generation) return;
      set((s) => {
        const pages = new Map(s.rows.pages);
        pages.set(k, page.events);
        evict(pages, k);
        const next: RowSource = { ...s.rows, pages };
        if (s.rows.mode === 'cursor') {
          const full = page.events.length === PAGE && page.nextCursor !== undefined;
          const end = k * PAGE + page.events.length;
          next.cursors = [...s.rows.cursors];
          next.cursors[k + 1] = full ? page.nextCursor : undefined;
          if (end >= s.rows.rowCount) next.hasMore = full;
          next.rowCount = Math.max(s.rows.rowCount, end);
        }
        const loading = new Set(s.loading);
        loading.delete(k);
        return { rows: next, loading };
      });
    } catch (err) {
      if (get().generation !== generation) return;
      set((s) => {
        const loading = new Set(s.loading);
        loading.delete(k);
        return { loading, rows: { ...s.rows, hasMore: false } };
      });
      get().report(err);
    }
  };

  const startTail = () => {
    stopTail?.();
    const { stats, engineFilter, generation } = get();
    stopTail = api.tail({
      fromSeq: (stats?.lastSeq ?? 0) + 1,
      filter: engineFilter,
      onEvents: (events) => {
        if (get().generation !== generation) return;
        set((s) => ({
          rows: appendLive(s.rows, events),
          stats: s.stats && {
            ...s.stats,
            events: s.stats.events + events.length,
            lastSeq: Math.max(s.stats.lastSeq, events[events.length - 1]!.seq),
            lastTime: events[events.length - 1]!.time,
          },
        }));
      },
      onError: (err) => {
        get().report(err);
        set({ liveTail: false });
      },
    });
  };

  return {
    filter: EMPTY_FILTER,
    engineFilter: {},
    filterError: null,
    stats: null,
    rows: emptyRows(),
    generation: 0,
    loading: new Set(),
    selected: -1,
    detail: null,
    chain: null,
    chainLoading: false,
    liveTail: false,
    errors: [],
    ready: false,

    async init() {
      applyFilter(filterFromSearch(window.location.search));
      await get().refreshStats();
      set({ ready: true });
      restart();
    },

    setFilter(next, replace = false) {
      const filter = replace ? { ...EMPTY_FILTER, ...next } : { ...get().filter, ...next };
      const search = searchFromFilter(filter);
      if (search !== window.location.search)
        window.history.pushState(null, '', `${window.location.pathname}${search}`);
      applyFilter(filter);
      set({ detail: null, chain: null });
      restart();
    },

    reloadFromUrl() {
      applyFilter(filterFromSearch(window.location.search));
      restart();
    },

    loadRange(start, end) {
      const { rows, loading } = get();
      const first = Math.floor(Math.max(0, start) / PAGE);
      const last = Math.floor(Math.max(0, end) / PAGE);
      for (let k = first; k <= last; k++) {
        if (rows.pages.has(k) || loading.has(k)) continue;
        if (!canLoad(rows, k)) break;
        void loadPage(k);
      }
    },

    select(index) {
      const { rows, detail } = get();
      if (rows.rowCount === 0) return;
      const max = rows.rowCount - 1;
      const i = Math.max(0, Math.min(max, index));
      set({ selected: i });
      if (detail) {
        const e = rowAt(rows, i);
        if (e) set({ detail: e, chain: null });
      }
    },

    openDetail(event) {
      const e = event ?? rowAt(get().rows, get().selected);
      if (e) set({ detail: e, chain: null });
    },

    closeDetail() {
      set({ detail: null, chain: null });
    },

    async showChain() {
      const e = get().detail;
      if (!e) return;
      set({ chainLoading: true });
      try {
        const chain = await api.call('chain', { id: e.id });
        if (get().detail?.id === e.id) set({ chain });
      } catch (err) {
        get().report(err);
      } finally {
        set({ chainLoading: false });
      }
    },

    async refreshStats() {
      try {
        set({ stats: await api.call('stats', {}) });
      } catch (err) {
        get().report(err);
      }
    },

    setLiveTail(on) {
      set({ liveTail: on });
      if (on) startTail();
      else {
        stopTail?.();
        stopTail = undefined;
      }
    },

    report(err) {
      const message = describeError(err);
      set((s) => ({
        errors: s.errors.some((n) => n.message === message)
          ? s.errors
          : [...s.errors.slice(-4), { id: ++noticeId, message }],
      }));
    },

    dismiss(id) {
      set((s) => ({ errors: s.errors.filter((n) => n.id !== id) }));
    },
  };
});
