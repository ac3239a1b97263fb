import type { ApiFollow, ApiImportSummary, ApiRecentStore } from '@shared/api';
import { create } from 'zustand';
import { api, ApiClientError, describeError } from '../api/client';
import type { Running } from './useTimeTravel';
import { useBrowser } from './useBrowser';

export type SourceFormat = 'auto' | 'native' | 'cloudevents' | 'snake' | 'camel';

const RECENT_KEY = 'chronoscope.recentSources';
const RECENT_MAX = 8;
const POLL_MS = 1000;

function loadRecent(): string[] {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, RECENT_MAX) : [];
  } catch {
    return [];
  }
}

interface SourcesState {
  open: boolean;
  path: string;
  format: SourceFormat;
  follows: ApiFollow[];
  importing: Running | null;
  lastImport: ApiImportSummary | null;
  error: string | null;
  recent: string[];
  stores: ApiRecentStore[];
  storePath: string;
  storeReadOnly: boolean;
  opening: boolean;

  show(open: boolean): void;
  edit(next: Partial<Pick<SourcesState, 'path' | 'format'>>): void;
  follow(): Promise<void>;
  unfollow(id: string): Promise<void>;
  importOnce(): Promise<void>;
  refresh(): Promise<void>;
  editStore(next: Partial<Pick<SourcesState, 'storePath' | 'storeReadOnly'>>): void;
  openStore(path?: string): Promise<void>;
}

let poll: ReturnType<typeof setInterval> | undefined;

/** Sources (DESIGN §6): external files followed live or imported once into the open store. */
export const useSources = create<SourcesState>((set, get) => {
  const remember = (path: string) => {
    const recent = [path, ...get().recent.filter((p) => p !== path)].slice(0, RECENT_MAX);
    set({ recent });
    try {
      localStorage.setItem(RECENT_KEY, JSON.stringify(recent));
    } catch {
      // private mode: the list lives for this page only
    }
  };
  /** New events arrive through the list's own live tail; make sure it is on. */
  const showArrivals = () => {
    const b = useBrowser.getState();
    if (!b.liveTail) b.setLiveTail(true);
  };

  return {
    open: false,
    path: '',
    format: 'auto',
    follows: [],
    importing: null,
    lastImport: null,
    error: null,
    recent: loadRecent(),
    stores: [],
    storePath: '',
    storeReadOnly: false,
    opening: false,

    show(open) {
      set({ open, error: null });
      clearInterval(poll);
      if (open) {
        void get().refresh();
        api.call('recentStores', {}).then(
          (stores) => set({ stores }),
          (err: unknown) => set({ error: describeError(err) }),
        );
        poll = setInterval(() => void get().refresh(), POLL_MS);
      }
    },

    edit(next) {
      set({ ...next, error: null });
    },

    async follow() {
      const path = get().path.trim();
      try {
        await api.call('follow', { path, format: get().format });
        remember(path);
        showArrivals();
        await get().refresh();
      } catch (err) {
        set({ error: describeError(err) });
      }
    },

    async unfollow(id) {
      try {
        await api.call('unfollow', { id });
        await get().refresh();
      } catch (err) {
        set({ error: describeError(err) });
      }
    },

    async importOnce() {
      const path = get().path.trim();
      const job = api.job('importFiles', { paths: [path], format: get().format }, (done, total) => {
        const r = get().importing;
        if (r) set({ importing: { ...r, done, total } });
      });
      set({ importing: { label: `importing ${path}`, done: 0, total: 0, cancel: job.cancel }, error: null });
      try {
        const summary = await job.result;
        remember(path);
        set({ importing: null, lastImport: summary });
        void useBrowser.getState().refreshStats();
        useBrowser.getState().reloadFromUrl();
      } catch (err) {
        const cancelled = err instanceof ApiClientError && err.code === 'CANCELLED';
        set({
          importing: null,
          error: cancelled ? 'import cancelled (what was imported stays)' : describeError(err),
        });
      }
    },

    editStore(next) {
      set({ ...next, error: null });
    },

    async openStore(path) {
      const target = (path ?? get().storePath).trim();
      set({ opening: true, error: null });
      try {
        await api.call('openStore', { path: target, readOnly: get().storeReadOnly });
        // Everything on the page belongs to the old store: start over, without its filter.
        // (A reload, not a navigation: the desktop app blocks navigations.)
        window.history.replaceState(null, '', window.location.pathname);
        window.location.reload();
      } catch (err) {
        set({ opening: false, error: describeError(err) });
      }
    },

    async refresh() {
      try {
        set({ follows: await api.call('follows', {}) });
      } catch (err) {
        set({ error: describeError(err) });
      }
    },
  };
});
