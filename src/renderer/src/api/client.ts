import type { ApiErrorCode, ApiJobUpdate, ApiMethod, ApiParams, ApiResultOf } from '@shared/api';
import type { StoredEvent } from '@shared/event';
import type { EventFilter } from '@shared/query';
import { httpTransport, ipcTransport, type Transport } from './transport';

/** A failed call, rebuilt from the envelope so the UI can branch on `code` and show `message`. */
export class ApiClientError extends Error {
  readonly code: ApiErrorCode;
  readonly details?: Record<string, unknown>;
  constructor(code: ApiErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ApiClientError';
    this.code = code;
    this.details = details;
  }
}

export interface TailOptions {
  fromSeq: number;
  filter: EventFilter;
  onEvents(events: StoredEvent[]): void;
  onError(err: ApiClientError): void;
}

const TAIL_FLUSH_MS = 100;
let jobCounter = 0;
const POLL_MS = 1000;

/** The renderer's one API client: typed calls plus a live tail, over whichever transport this host offers. */
export class ApiClient {
  readonly #t: Transport;
  readonly #jobListeners = new Set<(u: ApiJobUpdate) => void>();
  #jobSource: EventSource | undefined;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  get transport(): 'ipc' | 'http' {
    return this.#t.kind;
  }

  /** Calls one method; resolves with its result or rejects with an ApiClientError. */
  async call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResultOf<M>> {
    const r = await this.#t.call(method, params);
    if (r.ok) return r.value as ApiResultOf<M>;
    throw new ApiClientError(r.error.code, r.error.message, r.error.details);
  }

  /** Subscribes to progress of long calls (those given a jobId); returns the unsubscribe function. */
  onJob(listener: (u: ApiJobUpdate) => void): () => void {
    if (this.#t.kind === 'ipc') return window.chronoscope!.onJob(listener);
    // One shared stream for all jobs: browsers allow only ~6 connections per host over HTTP/1.1.
    this.#jobListeners.add(listener);
    if (!this.#jobSource) {
      const es = new EventSource('/api/jobs/stream');
      es.addEventListener('job', (m) => {
        const u = JSON.parse((m as MessageEvent<string>).data) as ApiJobUpdate;
        for (const l of this.#jobListeners) l(u);
      });
      this.#jobSource = es;
    }
    return () => {
      this.#jobListeners.delete(listener);
      if (this.#jobListeners.size === 0) {
        this.#jobSource?.close();
        this.#jobSource = undefined;
      }
    };
  }

  /**
   * Runs a long call as a job: `onProgress` sees its updates, and the returned `cancel` stops it
   * (the call then rejects with CANCELLED).
   */
  job<M extends ApiMethod>(
    method: M,
    params: ApiParams<M>,
    onProgress: (done: number, total: number) => void = () => {},
  ): { result: Promise<ApiResultOf<M>>; cancel: () => void } {
    const jobId = `${method}-${Date.now().toString(36)}-${(++jobCounter).toString(36)}`;
    const off = this.onJob((u) => {
      if (u.jobId === jobId && u.state === 'running') onProgress(u.done, u.total);
    });
    const result = this.call(method, { ...params, jobId } as ApiParams<M>).finally(off);
    return { result, cancel: () => void this.call('cancelJob', { job: jobId }).catch(() => {}) };
  }

  /** Streams new events matching the filter, in batches; returns the function that stops it. */
  tail(o: TailOptions): () => void {
    return this.#t.kind === 'http' ? this.#sseTail(o) : this.#pollTail(o);
  }

  #sseTail(o: TailOptions): () => void {
    const q = new URLSearchParams({ fromSeq: String(o.fromSeq), filter: JSON.stringify(o.filter) });
    const es = new EventSource(`/api/events/stream?${q}`);
    let buffer: StoredEvent[] = [];
    const timer = setInterval(() => {
      if (buffer.length === 0) return;
      const batch = buffer;
      buffer = [];
      o.onEvents(batch);
    }, TAIL_FLUSH_MS);
    es.addEventListener('event', (m) => buffer.push(JSON.parse((m as MessageEvent<string>).data)));
    es.addEventListener('failure', (m) => {
      const e = JSON.parse((m as MessageEvent<string>).data) as { code: ApiErrorCode; message: string };
      o.onError(new ApiClientError(e.code, e.message));
    });
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED)
        o.onError(new ApiClientError('NETWORK', 'the live tail lost its connection to the host'));
    };
    return () => {
      clearInterval(timer);
      es.close();
    };
  }

  /** IPC has no push channel yet: poll by seq, which misses nothing because seqs only grow. */
  #pollTail(o: TailOptions): () => void {
    let next = o.fromSeq;
    let stopped = false;
    const tick = async () => {
      while (!stopped) {
        try {
          const page = await this.call('query', {
            filter: { ...o.filter, fromSeq: Math.max(next, o.filter.fromSeq ?? 0) },
            options: { limit: 1000 },
          });
          if (page.events.length) {
            next = page.events[page.events.length - 1]!.seq + 1;
            o.onEvents(page.events);
          }
          if (page.events.length < 1000) await new Promise((r) => setTimeout(r, POLL_MS));
        } catch (err) {
          o.onError(err as ApiClientError);
          return;
        }
      }
    };
    void tick();
    return () => {
      stopped = true;
    };
  }
}

/** The client for this page: IPC inside Electron, HTTP in a browser. */
export const api = new ApiClient(window.chronoscope ? ipcTransport(window.chronoscope) : httpTransport());

/** A readable sentence for any error, so the UI never shows a blank or a stack. */
export function describeError(err: unknown): string {
  if (err instanceof ApiClientError) return `${err.message} (${err.code})`;
  if (err instanceof Error) return err.message;
  return String(err);
}
