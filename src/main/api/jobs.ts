import { ChronoscopeError } from '../../shared/errors';
import type { ApiJobUpdate, CallContext } from '../../shared/api';

/** Progress is pushed at most this often per job, so a fast fold cannot flood the push channel. */
const PROGRESS_EVERY_MS = 100;

/**
 * Long calls (folds, bisect, verify) carry a caller-chosen `jobId`: the registry holds their
 * AbortController so `cancelJob` can stop them, and publishes progress to the host's push channel
 * (SSE in the browser, webContents.send in Electron). Calls without a jobId get a context that
 * never aborts and reports nowhere.
 */
export class JobRegistry {
  readonly #running = new Map<string, AbortController>();
  readonly #listeners = new Set<(u: ApiJobUpdate) => void>();

  /** Subscribes to every job's updates; returns the unsubscribe function. */
  on(listener: (u: ApiJobUpdate) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(u: ApiJobUpdate): void {
    for (const l of this.#listeners) {
      try {
        l(u);
      } catch {
        // a broken listener (a closed connection) must not fail the job
      }
    }
  }

  async run<T>(jobId: string | undefined, method: string, fn: (ctx: CallContext) => Promise<T>): Promise<T> {
    if (jobId === undefined) return fn({ signal: new AbortController().signal, progress: () => {} });
    if (this.#running.has(jobId))
      throw new ChronoscopeError('INVALID_ARGUMENT', `jobId ${jobId} is already running`, { field: 'jobId' });
    const ctl = new AbortController();
    this.#running.set(jobId, ctl);
    let last = 0;
    const ctx: CallContext = {
      signal: ctl.signal,
      progress: (done, total) => {
        const now = Date.now();
        if (now - last < PROGRESS_EVERY_MS && done < total) return;
        last = now;
        this.#emit({ jobId, method, state: 'running', done, total });
      },
    };
    this.#emit({ jobId, method, state: 'running', done: 0, total: 0 });
    try {
      const value = await fn(ctx);
      this.#emit({ jobId, method, state: 'done', done: 1, total: 1 });
      return value;
    } catch (err) {
      const cancelled = ctl.signal.aborted;
      this.#emit({
        jobId,
        method,
        state: cancelled ? 'cancelled' : 'failed',
        done: 0,
        total: 0,
        message: (err as Error)?.message ?? String(err),
      });
      if (cancelled && !(err instanceof ChronoscopeError && err.code === 'CANCELLED'))
        throw new ChronoscopeError('CANCELLED', `${method} cancelled`);
      throw err;
    } finally {
      this.#running.delete(jobId);
    }
  }

  /** Aborts a running job; false when no job has that id (it finished, or never started). */
  cancel(jobId: string): boolean {
    const ctl = this.#running.get(jobId);
    if (!ctl) return false;
    ctl.abort();
    return true;
  }

  running(): string[] {
    return [...this.#running.keys()];
  }
}
