import type { ApiReplay } from '@shared/api';
import { create } from 'zustand';
import { api, describeError } from '../api/client';
import { useBrowser } from './useBrowser';

type Action = 'pause' | 'resume' | 'step' | 'back' | 'retry' | 'skip' | 'abort' | 'close';

interface ReplayState {
  module: string;
  speed: string;
  breakAt: string;
  useFilter: boolean;
  replay: ApiReplay | null;
  busy: boolean;
  error: string | null;
  edit(next: Partial<Pick<ReplayState, 'module' | 'speed' | 'breakAt' | 'useFilter'>>): void;
  start(paused: boolean): Promise<void>;
  control(action: Action): Promise<void>;
}

const POLL_MS = 250;
let poll: ReturnType<typeof setInterval> | undefined;
const live = (r: ApiReplay | null) => r !== null && ['running', 'paused', 'error', 'idle'].includes(r.status);

/** A replay session driven from the UI: start, then poll its status while it is live. */
export const useReplay = create<ReplayState>((set, get) => {
  const watch = () => {
    clearInterval(poll);
    poll = setInterval(async () => {
      const r = get().replay;
      if (!live(r)) return clearInterval(poll);
      try {
        set({ replay: await api.call('replayStatus', { id: r!.id }) });
      } catch (err) {
        clearInterval(poll);
        set({ error: describeError(err) });
      }
    }, POLL_MS);
  };

  return {
    module: '',
    speed: '',
    breakAt: '',
    useFilter: true,
    replay: null,
    busy: false,
    error: null,

    edit(next) {
      set({ ...next, error: null });
    },

    async start(paused) {
      const { module, speed, breakAt, useFilter, replay } = get();
      if (replay && live(replay)) await get().control('close');
      const n = Number(speed);
      if (speed.trim() && !(n > 0))
        return set({ error: 'speed: events per second, a number > 0 (or empty for full speed)' });
      const filter = useBrowser.getState().engineFilter;
      set({ busy: true, error: null });
      try {
        const r = await api.call('replayStart', {
          module: module.trim(),
          ...(useFilter && Object.keys(filter).length ? { filter } : {}),
          ...(speed.trim() ? { speed: n } : {}),
          breakpoints: breakAt.trim() ? [{ expr: breakAt.trim() }] : [],
          startPaused: paused,
        });
        set({ replay: r });
        watch();
      } catch (err) {
        set({ error: describeError(err) });
      } finally {
        set({ busy: false });
      }
    },

    async control(action) {
      const r = get().replay;
      if (!r) return;
      set({ busy: true, error: null });
      try {
        const next = await api.call('replayControl', { id: r.id, action });
        set({ replay: action === 'close' ? null : next });
        if (action !== 'close') watch();
      } catch (err) {
        set({ error: describeError(err) });
      } finally {
        set({ busy: false });
      }
    },
  };
});
