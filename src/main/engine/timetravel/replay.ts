/**
 * Replay (DESIGN §4): walks a seq range or a filter through a user module — a projection (the
 * state is kept and checkpointed) or a handler (`handle(event, ctx)`, side effects allowed) — in
 * its worker, with speed, pause / resume, step forward and back, breakpoints, progress, per-event
 * errors that wait for a decision (retry / skip / abort), and a resumable checkpoint. All user code
 * (modules and JS breakpoints) runs in the worker; the host only awaits, so it never blocks.
 */
import { EventEmitter } from 'node:events';
import { resolve as resolvePath } from 'node:path';
import { setTimeout as sleep, setImmediate as nextTurn } from 'node:timers/promises';
import { ChronoscopeError, isChronoscopeError } from '../../../shared/errors';
import type { JsonValue, StoredEvent } from '../../../shared/event';
import { jsonEqual, matchesFilter, parseFilter, type EventFilter } from '../../../shared/query';
import type { EventStore } from '../types';
import { readCheckpoint, writeCheckpoint, type ReplayCheckpoint } from './replayCheckpoint';
import { ReplaySource } from './replaySource';
import { MemorySnapshotStore } from './snapshots';
import type { EventFailure, UserModule } from './UserModule';

/** Pause before an event that matches the filter and/or for which the JS expression holds. */
export interface Breakpoint {
  filter?: EventFilter;
  /** Over the event `e`, e.g. `e.type === 'RefundIssued' && e.data.amount > 100` (runs in the worker). */
  expr?: string;
}

export interface ReplayOptions {
  filter?: EventFilter;
  /** Inclusive seq range (default: the whole log as it is when the replay starts). */
  from?: number;
  to?: number;
  /** Events per second (default: as fast as the module goes). */
  speed?: number;
  breakpoints?: Breakpoint[];
  /** Persist progress here (tmp + fsync + rename), on every pause, error and stop, and every second. */
  checkpointFile?: string;
  /** Continue from `checkpointFile` when it exists. */
  resume?: boolean;
  /** What to do when the module throws: wait for decide() (default), or decide now. */
  onError?: 'pause' | 'skip' | 'abort';
  /** Start paused (a UI starts a replay, then steps). */
  startPaused?: boolean;
  signal?: AbortSignal;
  /** Events per worker round trip at full speed (default 500). */
  batchSize?: number;
}

export type ReplayStatus = 'idle' | 'running' | 'paused' | 'error' | 'done' | 'aborted';
export type ErrorDecision = 'retry' | 'skip' | 'abort';

export interface ReplayProgress {
  processed: number;
  position: number;
  from: number;
  to: number;
  /** 0..1 over the seq range. */
  fraction: number;
}

export interface ReplayResult {
  status: 'done' | 'aborted';
  processed: number;
  skipped: number[];
  position: number;
  state: JsonValue;
  notes: string[];
}

interface Events {
  progress: [ReplayProgress];
  paused: [{ reason: 'user' | 'breakpoint' | 'step'; next?: StoredEvent; breakpoint?: Breakpoint }];
  resumed: [];
  /** The module threw (or overran its time limit): the replay waits for decide(). */
  failed: [EventFailure & { attempt: number }];
  done: [ReplayResult];
  log: [string];
  checkpoint: [ReplayCheckpoint];
}

const SNAPSHOT_EVERY = 256; // step back refolds at most this many events

export class Replay extends EventEmitter<Events> {
  #status: ReplayStatus = 'idle';
  #state: JsonValue = null;
  #position = 0;
  #processed = 0;
  #from = 1;
  #to = 0;
  #filter: EventFilter = {};
  #source!: ReplaySource;
  readonly #skipped = new Set<number>();
  readonly #history = new MemorySnapshotStore({ kind: 'count', every: SNAPSHOT_EVERY });
  readonly #key = { projection: 'replay', codeHash: 'run', stream: '*' };
  #lastSnapshot = 0;
  #wake: (() => void) | undefined;
  #stepBudget = 0;
  /** Seq of the event a breakpoint stopped before: not checked again when the replay goes on. */
  #passBreakAt = 0;
  #decision: ErrorDecision | undefined;
  #attempt = 1;
  #notes: string[] = [];
  #writing: Promise<void> = Promise.resolve();
  #lastSave = 0;

  constructor(
    readonly store: EventStore,
    readonly module: UserModule,
    readonly options: ReplayOptions = {},
  ) {
    super();
    if (options.speed !== undefined && !(options.speed > 0))
      throw new ChronoscopeError(
        'INVALID_ARGUMENT',
        `speed ${options.speed}: expected events per second > 0`,
        {
          field: 'speed',
        },
      );
    module.on('log', (line) => this.emit('log', line));
  }

  get status(): ReplayStatus {
    return this.#status;
  }
  get state(): JsonValue {
    return this.#state;
  }
  get position(): number {
    return this.#position;
  }
  get processed(): number {
    return this.#processed;
  }

  /** Runs to the end of the range (or until aborted); resolves with where it stopped. */
  async run(): Promise<ReplayResult> {
    if (this.#status !== 'idle')
      throw new ChronoscopeError('INVALID_ARGUMENT', 'this replay has already run');
    await this.#setup();
    this.#status = this.options.startPaused ? 'paused' : 'running';
    const signal = this.options.signal;
    const onAbort = () => this.#wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      await this.#loop();
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // Also after an unexpected error: whatever was done stays resumable.
      await this.#save(true);
    }
    const result: ReplayResult = {
      status: (this.#status as ReplayStatus) === 'done' ? 'done' : 'aborted',
      processed: this.#processed,
      skipped: [...this.#skipped].sort((a, b) => a - b),
      position: this.#position,
      state: this.#state,
      notes: this.#notes,
    };
    this.emit('done', result);
    return result;
  }

  async #setup(): Promise<void> {
    const o = this.options;
    const cp = o.resume && o.checkpointFile ? await readCheckpoint(o.checkpointFile) : undefined;
    if (o.resume && !o.checkpointFile)
      throw new ChronoscopeError('INVALID_ARGUMENT', 'resume needs a checkpoint file', {
        field: 'checkpoint',
      });
    if (cp) this.#restore(cp);
    else {
      this.#filter = parseFilter(o.filter ?? {});
      this.#from = o.from ?? 1;
      this.#to = o.to ?? this.store.lastSeq();
      if (!Number.isSafeInteger(this.#from) || this.#from < 1)
        throw new ChronoscopeError('INVALID_ARGUMENT', `from ${o.from}: expected a seq ≥ 1`, {
          field: 'from',
        });
      if (!Number.isSafeInteger(this.#to) || this.#to < 0)
        throw new ChronoscopeError('INVALID_ARGUMENT', `to ${o.to}: expected a seq ≥ 0`, { field: 'to' });
      this.#position = this.#from - 1;
      this.#state = this.module.kind === 'projection' ? await this.#fold(null, []) : null;
    }
    this.#source = new ReplaySource(this.store, this.#filter, this.#from, this.#to, this.#skipped);
    await this.#history.put(this.#key, { seq: this.#position, state: this.#state });
    this.#lastSnapshot = this.#processed;
    // Compile JS breakpoints now, so a typo fails before the first event rather than at it.
    for (const b of o.breakpoints ?? []) {
      if (b.filter) parseFilter(b.filter);
      if (b.expr !== undefined) await this.module.findBreak(b.expr, []);
    }
  }

  #restore(cp: ReplayCheckpoint): void {
    const o = this.options;
    const file = o.checkpointFile!;
    const clash = (field: string, given: unknown, saved: unknown) => {
      throw new ChronoscopeError(
        'INVALID_ARGUMENT',
        `checkpoint ${file} is for ${field} ${JSON.stringify(saved)}, not ${JSON.stringify(given)}; drop --resume or use another checkpoint`,
        { file, field },
      );
    };
    if (resolvePath(cp.module) !== resolvePath(this.module.file))
      clash('module', this.module.file, cp.module);
    if (o.filter && Object.keys(o.filter).length && !jsonEqual(o.filter, cp.filter))
      clash('filter', o.filter, cp.filter);
    if (o.from !== undefined && o.from !== cp.from) clash('from', o.from, cp.from);
    if (o.to !== undefined && o.to !== cp.to) clash('to', o.to, cp.to);
    if (cp.codeHash !== this.module.codeHash)
      this.#notes.push(`the module's code changed since the checkpoint was saved (${cp.savedAt})`);
    [this.#filter, this.#from, this.#to] = [cp.filter, cp.from, cp.to];
    [this.#position, this.#processed, this.#state] = [cp.position, cp.processed, cp.state];
    for (const s of cp.skipped) this.#skipped.add(s);
    this.#notes.push(`resumed after seq ${cp.position} (${cp.processed} events already processed)`);
  }

  /** Pauses before the next batch (the batch in flight finishes first). */
  pause(): void {
    if (this.#status === 'running') this.#pauseFor('user');
  }

  resume(): void {
    if (this.#status !== 'paused') return;
    this.#status = 'running';
    this.emit('resumed');
    this.#wake?.();
  }

  /** While paused: handles exactly the next event, then pauses again (resolves once it has). */
  async step(): Promise<void> {
    if (this.#status !== 'paused')
      throw new ChronoscopeError('INVALID_ARGUMENT', 'step: the replay is not paused');
    // Settles when the step ends: paused again, stopped at an error, or at the end of the range.
    const settled = new Promise<void>((r) => {
      const end = () => {
        this.off('paused', end).off('failed', end).off('done', end);
        r();
      };
      this.on('paused', end).on('failed', end).on('done', end);
    });
    this.#stepBudget = 1;
    this.#status = 'running';
    this.#wake?.();
    await settled;
  }

  /**
   * While paused: undoes the last event — the state becomes the one before it (nearest snapshot +
   * refold; no per-event states are kept), and the event will be handled again.
   */
  async stepBack(): Promise<StoredEvent | undefined> {
    if (this.#status !== 'paused')
      throw new ChronoscopeError('INVALID_ARGUMENT', 'step back: the replay is not paused');
    const prev = await this.#source.lastUpTo(this.#position);
    const base = await this.#history.nearest<JsonValue>(this.#key, prev ? prev.seq - 1 : this.#position);
    if (!prev || !base)
      throw new ChronoscopeError(
        'INVALID_ARGUMENT',
        `step back: nothing before seq ${this.#position + 1} in this run`,
      );
    let state = base.state;
    if (this.module.kind === 'projection')
      for await (const page of this.#source.between(base.seq, prev.seq - 1))
        state = await this.#fold(state, page);
    [this.#state, this.#position, this.#passBreakAt] = [state, prev.seq - 1, prev.seq];
    this.#processed = Math.max(0, this.#processed - 1);
    this.#lastSnapshot = Math.min(this.#lastSnapshot, this.#processed);
    this.#emitProgress();
    await this.#save(true);
    return prev;
  }

  /** Answers an error pause: try the event again (after fixing the code), skip it, or stop. */
  decide(d: ErrorDecision): void {
    if (this.#status !== 'error')
      throw new ChronoscopeError('INVALID_ARGUMENT', `${d}: the replay is not stopped at an error`);
    this.#decision = d;
    this.#wake?.();
  }

  /** Projection fold in the worker; a throw becomes the failure with the state before the event. */
  async #fold(state: JsonValue | null, events: StoredEvent[]): Promise<JsonValue> {
    const r = await this.module.fold(
      state === null && events.length === 0 ? null : JSON.stringify(state),
      events,
      {
        perStream: this.module.scope === 'stream',
      },
    );
    if (!r.ok) throw this.module.failure('at', events, r.error).error;
    return JSON.parse(r.value.state) as JsonValue;
  }

  #aborted = () => this.options.signal?.aborted ?? false;

  #waitWake(): Promise<void> {
    return new Promise<void>((r) => (this.#wake = () => r())).then(() => void (this.#wake = undefined));
  }

  async #loop(): Promise<void> {
    const batch = this.options.batchSize ?? 500;
    const speed = this.options.speed;
    let t0 = performance.now();
    let paced = 0;
    while (true) {
      if (this.#aborted()) return void (this.#status = 'aborted');
      if (this.#status === 'paused') {
        await this.#save(true);
        // resume()/step() may have come while the checkpoint was written: only then wait.
        if (this.#status === 'paused' && !this.#aborted()) await this.#waitWake();
        [t0, paced] = [performance.now(), 0];
        continue;
      }
      const limit =
        this.#stepBudget > 0 ? 1 : speed ? Math.max(1, Math.min(batch, Math.ceil(speed / 20))) : batch;
      let events = await this.#source.after(this.#position, limit);
      if (events.length === 0) return void (this.#status = 'done');
      const hit = await this.#breakIndex(events);
      if (hit) {
        if (hit.index === 0) {
          this.#passBreakAt = events[0]!.seq;
          this.#pauseFor('breakpoint', events[0], hit.bp);
          continue;
        }
        events = events.slice(0, hit.index);
      }
      const failure = await this.#handle(events);
      if (failure && (await this.#onFailure(failure)) === 'abort') return void (this.#status = 'aborted');
      if (this.#stepBudget > 0 && !failure) {
        this.#stepBudget = 0;
        this.#pauseFor('step', (await this.#source.after(this.#position, 1))[0]);
      }
      if (speed) {
        paced += events.length;
        const wait = t0 + (paced / speed) * 1000 - performance.now();
        if (wait > 0) await sleep(wait);
      }
      await this.#save(false);
      await nextTurn();
    }
  }

  #pauseFor(reason: 'user' | 'breakpoint' | 'step', next?: StoredEvent, breakpoint?: Breakpoint): void {
    this.#status = 'paused';
    this.emit('paused', { reason, ...(next ? { next } : {}), ...(breakpoint ? { breakpoint } : {}) });
  }

  /** The first event of the batch a breakpoint stops before (filters on the host, JS in the worker). */
  async #breakIndex(events: StoredEvent[]): Promise<{ index: number; bp: Breakpoint } | undefined> {
    const bps = this.options.breakpoints ?? [];
    if (!bps.length || this.#stepBudget > 0) return undefined;
    // The event a breakpoint already stopped before is let through when the replay goes on.
    const skipFirst = events[0]!.seq === this.#passBreakAt ? 1 : 0;
    const candidates = events.slice(skipFirst);
    let best: { index: number; bp: Breakpoint } | undefined;
    for (const bp of bps) {
      let pool = candidates;
      if (bp.filter) {
        const i = pool.findIndex((e) => matchesFilter(e, bp.filter!));
        if (i < 0) continue;
        pool =
          bp.expr === undefined ? pool.slice(i, i + 1) : pool.filter((e) => matchesFilter(e, bp.filter!));
      }
      const i = bp.expr === undefined ? 0 : await this.module.findBreak(bp.expr, pool);
      if (i < 0) continue;
      const index = events.indexOf(pool[i]!);
      if (!best || index < best.index) best = { index, bp };
    }
    return best;
  }

  /** Runs one batch through the module; returns the failure (state and position stop before it). */
  async #handle(events: StoredEvent[]): Promise<EventFailure | undefined> {
    const m = this.module;
    let done = events.length;
    let failure: EventFailure | undefined;
    try {
      if (m.kind === 'projection') {
        const r = await m.fold(JSON.stringify(this.#state), events, { perStream: m.scope === 'stream' });
        if (r.ok) this.#state = JSON.parse(r.value.state) as JsonValue;
        else {
          failure = m.failure('at', events, r.error);
          if (r.partial !== undefined && r.partial !== null) this.#state = JSON.parse(r.partial) as JsonValue;
          done = failure.index;
        }
      } else {
        const r = await m.handle(events, this.#attempt);
        if (!r.ok) [failure, done] = [m.failure('handling', events, r.error), r.error.index ?? 0];
      }
    } catch (err) {
      // A timeout or crash: the worker's work on this batch is lost, so nothing of it counts.
      if (!isChronoscopeError(err) || err.details?.seq === undefined) throw err;
      const index = Math.max(
        0,
        events.findIndex((e) => e.seq === err.details!.seq),
      );
      [failure, done] = [{ event: events[index]!, index, error: err }, 0];
    }
    if (done > 0) {
      this.#position = events[done - 1]!.seq;
      this.#processed += done;
      this.#attempt = 1;
      if (this.#processed - this.#lastSnapshot >= SNAPSHOT_EVERY) {
        await this.#history.put(this.#key, { seq: this.#position, state: this.#state });
        this.#lastSnapshot = this.#processed;
      }
      this.#emitProgress();
    }
    return failure;
  }

  async #onFailure(f: EventFailure): Promise<ErrorDecision> {
    this.#status = 'error';
    this.emit('failed', { ...f, attempt: this.#attempt });
    let d: ErrorDecision | undefined =
      this.options.onError === 'pause' || !this.options.onError ? undefined : this.options.onError;
    if (!d) {
      await this.#save(true);
      while (!this.#decision && !this.#aborted()) await this.#waitWake();
      d = this.#decision ?? 'abort';
      this.#decision = undefined;
    }
    this.#status = this.#stepBudget > 0 ? 'paused' : 'running';
    if (d === 'retry') this.#attempt++;
    if (d === 'skip') {
      this.#skipped.add(f.event.seq);
      this.#notes.push(`skipped seq ${f.event.seq} (${f.event.type} ${f.event.stream}): ${f.error.message}`);
      this.#attempt = 1;
    }
    if (d === 'abort') this.#notes.push(`aborted at seq ${f.event.seq}: ${f.error.message}`);
    if (this.#status === 'paused') this.#pauseFor('step', f.event);
    return d;
  }

  #emitProgress(): void {
    const span = Math.max(1, this.#to - this.#from + 1);
    this.emit('progress', {
      processed: this.#processed,
      position: this.#position,
      from: this.#from,
      to: this.#to,
      fraction: Math.min(1, Math.max(0, (this.#position - this.#from + 1) / span)),
    });
  }

  /** Saves the checkpoint now (`force`) or when a second has passed since the last save. */
  #save(force: boolean): Promise<void> {
    const file = this.options.checkpointFile;
    if (!file || (!force && Date.now() - this.#lastSave < 1000)) return this.#writing;
    this.#lastSave = Date.now();
    const cp: ReplayCheckpoint = {
      format: 1,
      module: this.module.file,
      codeHash: this.module.codeHash,
      filter: this.#filter,
      from: this.#from,
      to: this.#to,
      position: this.#position,
      processed: this.#processed,
      skipped: [...this.#skipped].sort((a, b) => a - b),
      state: this.#state,
      savedAt: new Date().toISOString(),
    };
    this.#writing = this.#writing.then(async () => {
      await writeCheckpoint(file, cp);
      this.emit('checkpoint', cp);
    });
    return this.#writing;
  }
}
