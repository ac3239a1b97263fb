import { Worker } from 'node:worker_threads';
import { ChronoscopeError, type ErrorCode } from '../../../shared/errors';
import type { IndexJob, SealJob, SealReply, SealResult } from './sealWorker';
import type { SegmentArtifacts } from './segmentArtifacts';

/**
 * Runs seal jobs (compress + index a segment) in a worker thread, so a seal never blocks appends
 * or queries on the host's thread and uses the second core. From TypeScript sources the worker is
 * loaded through tsx; a bundled build ships `sealWorker.js` beside this module.
 */
export class SealWorkerClient {
  /** One worker serves every store of the process (starting a worker costs far more than a small seal). */
  static readonly shared = new SealWorkerClient();
  #worker: Worker | undefined;
  #next = 1;
  readonly #pending = new Map<
    number,
    { resolve: (r: SealReply & { ok: true }) => void; reject: (e: unknown) => void }
  >();

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const fromTs = import.meta.url.endsWith('.ts');
    // From sources, a bootstrap registers tsx inside the worker before importing the worker module.
    const w = new Worker(new URL(fromTs ? './sealWorkerBoot.mjs' : './sealWorker.js', import.meta.url));
    w.on('message', (r: SealReply) => {
      const p = this.#pending.get(r.id);
      if (!p) return;
      this.#pending.delete(r.id);
      // An idle worker must not keep the process alive; a busy one must.
      if (this.#pending.size === 0) w.unref();
      if (r.ok) p.resolve(r);
      else p.reject(new ChronoscopeError(r.error.code as ErrorCode, r.error.message, r.error.details));
    });
    w.on('error', (err) => this.#failAll(err));
    w.on('exit', (code) => {
      this.#worker = undefined;
      if (this.#pending.size)
        this.#failAll(new ChronoscopeError('INTERNAL', `seal worker exited with code ${code}`));
    });
    w.unref();
    return (this.#worker = w);
  }

  #failAll(err: unknown): void {
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }

  run(job: Omit<SealJob, 'id' | 'kind'>): Promise<SealResult> {
    return this.#post({ ...job, kind: 'seal' }).then((r) => {
      if (!('lastSeq' in r))
        throw new ChronoscopeError('INTERNAL', 'seal worker answered a seal with no seal result');
      return r;
    });
  }

  /** Reads and indexes one sealed segment in the worker (rebuild uses both cores this way). */
  index(root: string, name: string): Promise<SegmentArtifacts> {
    return this.#post({ kind: 'index', root, name }).then((r) => {
      if (!('artifacts' in r))
        throw new ChronoscopeError('INTERNAL', 'seal worker answered an index job with no index');
      return r.artifacts;
    });
  }

  #post(job: Omit<SealJob, 'id'> | Omit<IndexJob, 'id'>): Promise<SealReply & { ok: true }> {
    const w = this.#start();
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      w.ref();
      w.postMessage({ ...job, id });
    });
  }

  async close(): Promise<void> {
    const w = this.#worker;
    this.#worker = undefined;
    if (w) await w.terminate();
  }
}
