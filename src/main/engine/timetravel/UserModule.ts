/**
 * A user module (projection, replay handler or upcaster) from the workspace (DESIGN §4): bundled
 * with esbuild, run in a worker, hot-reloaded. `reloaded` fires after new code is in place (its
 * codeHash differs, so snapshots of the old code stop matching); `reload-failed` carries the
 * compile or load error while the old code keeps running.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ChronoscopeError } from '../../../shared/errors';
import type { StoredEvent } from '../../../shared/event';
import { bundleModule, writeBundle, type ModuleBundle } from './moduleBundle';
import { ModuleWatcher } from './moduleWatcher';
import type { BreakValue, FoldValue, ModuleShape, UpcastValue, UserThrow } from './userModuleProtocol';
import { ModuleWorkerClient, type CallResult } from './ModuleWorkerClient';

export type ModuleKind = 'projection' | 'handler' | 'upcaster';

export interface UserModuleOptions {
  /** What the module must export; 'any' accepts a projection or a handler (replay takes both). */
  kind?: ModuleKind | 'any';
  /** Rebuild and swap in the code when the module or any file it imports changes. */
  watch?: boolean;
  /** Time limit for one batch of user code (default 5 s); an overrun restarts the worker. */
  timeoutMs?: number;
}

export interface ReloadInfo {
  file: string;
  codeHash: string;
  previousHash: string;
  inputs: string[];
}

interface Events {
  reloaded: [ReloadInfo];
  'reload-failed': [ChronoscopeError];
  log: [string];
}

/** A user throw while folding, handling or upcasting one event, with the user's stack. */
export interface EventFailure {
  event: StoredEvent;
  index: number;
  error: ChronoscopeError;
}

const REQUIRED: Record<ModuleKind, (keyof ModuleShape['has'])[]> = {
  projection: ['init', 'apply'],
  handler: ['handle'],
  upcaster: ['upcast'],
};
const SIGNATURE: Record<ModuleKind, string> = {
  projection: 'init() and apply(state, event)',
  handler: 'handle(event, ctx)',
  upcaster: 'upcast(event)',
};

function kindOf(file: string, shape: ModuleShape, want: ModuleKind | 'any'): ModuleKind {
  const fits = (k: ModuleKind) => REQUIRED[k].every((f) => shape.has[f]);
  const kinds: ModuleKind[] = want === 'any' ? ['projection', 'handler'] : [want];
  const kind = kinds.find(fits);
  if (kind) return kind;
  const found = Object.entries(shape.has)
    .filter(([, v]) => v)
    .map(([k]) => `${k}()`);
  throw new ChronoscopeError(
    'INVALID_ARGUMENT',
    `${file}: a ${kinds.join(' or ')} module must export ${kinds.map((k) => SIGNATURE[k]).join(', or ')} (found: ${found.join(', ') || 'none'})`,
    { file },
  );
}

export class UserModule extends EventEmitter<Events> {
  readonly #worker: ModuleWorkerClient;
  readonly #dir = mkdtempSync(join(tmpdir(), 'chronoscope-module-'));
  readonly #want: ModuleKind | 'any';
  #bundle!: ModuleBundle;
  #bundlePath!: string;
  #shape!: ModuleShape;
  #kind!: ModuleKind;
  #watcher: ModuleWatcher | undefined;
  #reloading: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly file: string,
    options: UserModuleOptions,
  ) {
    super();
    this.#want = options.kind ?? 'projection';
    this.#worker = new ModuleWorkerClient(
      `${this.#want === 'any' ? 'module' : this.#want} ${basename(file)}`,
      options.timeoutMs ?? 5000,
      (line) => this.emit('log', line),
    );
  }

  /** Bundles, starts the worker and (with `watch`) starts watching; throws on a compile or shape error. */
  static async load(file: string, options: UserModuleOptions = {}): Promise<UserModule> {
    const m = new UserModule(file, options);
    try {
      await m.#install(await bundleModule(file, options.kind ?? 'module'));
      if (options.watch) m.#watcher = await ModuleWatcher.start(m.#bundle.inputs, () => m.reload());
      return m;
    } catch (err) {
      await m.close();
      throw err;
    }
  }

  async #install(b: ModuleBundle): Promise<void> {
    const path = await writeBundle(b, this.#dir);
    const shape = await this.#worker.load(path, b.file);
    this.#kind = kindOf(b.file, shape, this.#want);
    [this.#bundle, this.#bundlePath, this.#shape] = [b, path, shape];
  }

  /** Rebuilds now (the watcher calls this); on failure the old code stays and `reload-failed` fires. */
  reload(): Promise<boolean> {
    // One reload at a time: a burst of saves must not interleave two installs.
    const run = this.#reloading.then(() => this.#reload());
    this.#reloading = run.catch(() => false);
    return run;
  }

  async #reload(): Promise<boolean> {
    const previous = { bundle: this.#bundle, path: this.#bundlePath };
    let swapped = false;
    try {
      const b = await bundleModule(this.file, this.#want === 'any' ? 'module' : this.#want);
      this.#watcher?.set(b.inputs);
      if (b.codeHash === previous.bundle.codeHash) return false;
      swapped = true;
      await this.#install(b);
    } catch (err) {
      const e = err instanceof ChronoscopeError ? err : new ChronoscopeError('INVALID_ARGUMENT', String(err));
      // The new code may have reached the worker before it was rejected: put the old code back.
      if (swapped) await this.#worker.load(previous.path, previous.bundle.file).catch(() => {});
      this.emit('reload-failed', e);
      return false;
    }
    this.emit('reloaded', {
      file: this.#bundle.file,
      codeHash: this.#bundle.codeHash,
      previousHash: previous.bundle.codeHash,
      inputs: this.#bundle.inputs,
    });
    return true;
  }

  get name(): string {
    return this.#shape.name ?? basename(this.file).replace(/\.[^.]*$/, '');
  }
  /** Per stream unless the module exports `scope = 'global'`. */
  get scope(): 'stream' | 'global' {
    return this.#shape.scope ?? 'stream';
  }
  get codeHash(): string {
    return this.#bundle.codeHash;
  }
  get kind(): ModuleKind {
    return this.#kind;
  }
  get inputs(): string[] {
    return this.#bundle.inputs;
  }

  /** Turns a user throw on `events[index]` into an error naming the event and keeping the stack. */
  failure(verb: string, events: StoredEvent[], t: UserThrow): EventFailure {
    const index = t.index ?? 0;
    const e = events[index]!;
    const error = new ChronoscopeError(
      'INVALID_ARGUMENT',
      `${this.#kind} ${this.name} threw ${verb} seq ${e.seq} (${e.type} ${e.stream} v${e.version}, id ${e.id}): ${t.message}`,
      {
        module: this.name,
        file: this.file,
        seq: e.seq,
        eventId: e.id,
        type: e.type,
        stream: e.stream,
        version: e.version,
        stack: t.stack,
      },
    );
    return { event: e, index, error };
  }

  /** Fold: the value, or the failure and the JSON state just before the failing event. */
  fold(
    state: string | null,
    events: StoredEvent[],
    opts: { perStream?: boolean; steps?: boolean } = {},
  ): Promise<CallResult<FoldValue>> {
    return this.#worker.call<FoldValue>(
      { op: 'fold', state, events, perStream: opts.perStream ?? false, steps: opts.steps ?? false },
      events,
    );
  }

  /** Runs handle(event, ctx) for each event in order, stopping at the first throw. */
  handle(events: StoredEvent[], attempt = 1): Promise<CallResult<number>> {
    return this.#worker.call<number>({ op: 'handle', events, attempt }, events);
  }

  upcast(events: StoredEvent[]): Promise<CallResult<UpcastValue>> {
    return this.#worker.call<UpcastValue>({ op: 'upcast', events }, events);
  }

  /** Index of the first event for which the JS expression holds (-1: none). */
  async findBreak(expr: string, events: StoredEvent[]): Promise<number> {
    const r = await this.#worker.call<BreakValue>({ op: 'break', expr, events }, events);
    if (r.ok) return r.value;
    if (r.error.index === undefined)
      throw new ChronoscopeError('INVALID_ARGUMENT', `breakpoint "${expr}": ${r.error.message}`, {
        field: 'break',
      });
    const e = events[r.error.index]!;
    throw new ChronoscopeError(
      'INVALID_ARGUMENT',
      `breakpoint "${expr}" threw at seq ${e.seq} (${e.type} ${e.stream} v${e.version}): ${r.error.message}`,
      { field: 'break', seq: e.seq, eventId: e.id },
    );
  }

  /** Stops watching, ends the worker and removes the bundled code. */
  async close(): Promise<void> {
    await this.#watcher?.close();
    await this.#worker.close();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
