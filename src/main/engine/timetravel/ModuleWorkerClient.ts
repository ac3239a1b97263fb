import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { ChronoscopeError } from '../../../shared/errors';
import type { StoredEvent } from '../../../shared/event';
import type { ModuleShape, UserThrow, WorkerReply, WorkerRequest } from './userModuleProtocol';

/** What a request came back with: a value, or the user's throw (and the state before it). */
export type CallResult<T> = { ok: true; value: T } | { ok: false; error: UserThrow; partial?: string | null };

type Req = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/**
 * Host side of one user-module worker. Requests run one at a time, each under a time limit: a
 * worker that overruns (an infinite loop in user code) is terminated and the caller gets an error
 * naming the event it was stuck on; the next request starts a fresh worker with the same code.
 * From TypeScript sources the worker is loaded through tsx; a build ships `userModuleWorker.js`
 * beside the bundle (as with the seal worker).
 */
export class ModuleWorkerClient {
  #worker: Worker | undefined;
  #shape: ModuleShape | undefined;
  #bundle: { path: string; source: string } | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #next = 1;
  #pending:
    { w: Worker; id: number; resolve: (r: WorkerReply) => void; reject: (e: unknown) => void } | undefined;
  readonly #progress = new SharedArrayBuffer(4);
  readonly #cursor = new Int32Array(this.#progress);
  #closed = false;

  constructor(
    readonly label: string,
    readonly timeoutMs: number,
    readonly onLog: (line: string) => void = () => {},
  ) {}

  /** Starts a fresh worker on `bundlePath` (the bundled code of `source`); the old worker, if any, ends. */
  load(bundlePath: string, source: string): Promise<ModuleShape> {
    return this.#serial(async () => {
      await this.#stop();
      this.#bundle = { path: bundlePath, source };
      return this.#boot();
    });
  }

  async #boot(): Promise<ModuleShape> {
    const b = this.#bundle!;
    const fromTs = import.meta.url.endsWith('.ts');
    const w = new Worker(
      new URL(fromTs ? './userModuleWorkerBoot.mjs' : './userModuleWorker.js', import.meta.url),
      { workerData: { progress: this.#progress }, stdout: false, stderr: false },
    );
    this.#worker = w;
    w.on('message', (r: WorkerReply) => {
      if ('log' in r) return this.onLog(r.log);
      if (this.#pending?.id === r.id) this.#pending.resolve(r);
    });
    w.on('error', (err) => {
      if (this.#worker === w) this.#worker = undefined;
      // An uncaught throw (e.g. from a user timer) ends the worker: the request in flight fails.
      if (this.#pending?.w === w)
        this.#pending.reject(
          new ChronoscopeError('INVALID_ARGUMENT', `${this.label}: the module crashed: ${err.message}`, {
            file: b.source,
            stack: err.stack,
          }),
        );
    });
    w.on('exit', (code) => {
      if (this.#worker === w) this.#worker = undefined;
      // A worker terminated after a timeout exits late: only its own request may fail here.
      if (this.#pending?.w === w)
        this.#pending.reject(
          new ChronoscopeError('INTERNAL', `${this.label}: the module's worker exited (code ${code})`),
        );
    });
    const r = await this.#send<ModuleShape>(
      { op: 'load', url: pathToFileURL(b.path).href, file: b.source },
      [],
      Math.max(this.timeoutMs, 10_000),
    );
    if (!r.ok) {
      await this.#stop();
      throw new ChronoscopeError(
        'INVALID_ARGUMENT',
        `${b.source}: loading the module failed: ${r.error.message}`,
        {
          file: b.source,
          stack: r.error.stack,
        },
      );
    }
    this.#shape = r.value;
    return r.value;
  }

  /** Runs one request; `events` are what it works on, so a timeout can name the stuck one. */
  call<T>(req: Req, events: StoredEvent[] = []): Promise<CallResult<T>> {
    return this.#serial(async () => {
      if (this.#closed) throw new ChronoscopeError('CLOSED', `${this.label} is closed`);
      if (!this.#worker) await this.#boot(); // after a timeout or a crash: same code, fresh worker
      return this.#send<T>(req, events, this.timeoutMs);
    });
  }

  #send<T>(req: Req, events: StoredEvent[], timeoutMs: number): Promise<CallResult<T>> {
    const w = this.#worker!;
    const id = this.#next++;
    Atomics.store(this.#cursor, 0, -1);
    return new Promise<CallResult<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = Atomics.load(this.#cursor, 0);
        const e = events[i];
        const where = e ? ` at seq ${e.seq} (${e.type} ${e.stream} v${e.version}, id ${e.id})` : '';
        this.#pending = undefined;
        if (this.#worker === w) this.#worker = undefined;
        void w.terminate();
        reject(
          new ChronoscopeError(
            'INVALID_ARGUMENT',
            `${this.label} did not finish within ${timeoutMs} ms${where} — an infinite loop? The worker was restarted.`,
            {
              reason: 'timeout',
              timeoutMs,
              file: this.#bundle?.source,
              ...(e ? { seq: e.seq, eventId: e.id } : {}),
            },
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#pending = undefined;
        w.unref(); // an idle worker must not keep the process alive
      };
      this.#pending = {
        w,
        id,
        resolve: (r) => {
          done();
          if ('log' in r) return;
          resolve(
            r.ok ? { ok: true, value: r.value as T } : { ok: false, error: r.error, partial: r.partial },
          );
        },
        reject: (err) => {
          done();
          reject(err);
        },
      };
      w.ref();
      w.postMessage({ ...req, id } as WorkerRequest);
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => {});
    return run;
  }

  async #stop(): Promise<void> {
    const w = this.#worker;
    this.#worker = undefined;
    this.#shape = undefined;
    if (w) await w.terminate();
  }

  get shape(): ModuleShape | undefined {
    return this.#shape;
  }

  /** Ends the worker after the request in flight. */
  close(): Promise<void> {
    this.#closed = true;
    return this.#serial(() => this.#stop());
  }
}
