/**
 * The worker thread that runs a user module, so user code never runs on a host thread (DESIGN §1).
 * It loads one bundled module (a file written by the host; restarting the worker is how new code
 * is swapped in), then serves fold / handle / upcast / breakpoint requests one at a time. Before
 * each event it writes the event's index into shared memory, so when the host has to terminate a
 * stuck worker it can still say which event it was stuck on.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { StoredEvent } from '../../../shared/event';
import type { FoldValue, ModuleShape, UserThrow, WorkerReply, WorkerRequest } from './userModuleProtocol';

// Map user stacks back to their TS/JS sources through the bundle's inline source map.
process.setSourceMapsEnabled(true);

interface UserExports {
  name?: unknown;
  scope?: unknown;
  init?: () => unknown;
  apply?: (state: unknown, e: StoredEvent) => unknown;
  handle?: (e: StoredEvent, ctx: unknown) => unknown;
  upcast?: (e: StoredEvent) => unknown;
}

const cursor = new Int32Array((workerData as { progress: SharedArrayBuffer }).progress);
let mod: UserExports = {};
const breakpoints = new Map<string, (e: StoredEvent) => unknown>();

const post = (r: WorkerReply) => parentPort!.postMessage(r);

class StepError extends Error {
  constructor(
    readonly index: number,
    readonly inner: unknown,
    readonly partial?: string | null,
  ) {
    super('step failed');
  }
}

function toThrow(err: unknown, index?: number): UserThrow {
  const e = err as Error | undefined;
  const out: UserThrow = {
    message: e instanceof Error ? e.message : String(err),
    name: e instanceof Error ? e.name : typeof err,
  };
  if (e instanceof Error && e.stack) out.stack = e.stack;
  if (index !== undefined) out.index = index;
  return out;
}

/** JSON text of a state, rejecting what snapshots could not store. */
function json(state: unknown, what: string): string {
  if (state === undefined) throw new TypeError(`${what} returned undefined: return the state (JSON)`);
  const text = JSON.stringify(state);
  if (text === undefined) throw new TypeError(`${what} returned a value that is not JSON`);
  return text;
}

function init(): unknown {
  const s = mod.init!();
  json(s, 'init()');
  return s;
}

function fold(req: Extract<WorkerRequest, { op: 'fold' }>): FoldValue {
  const apply = mod.apply!;
  const steps: string[] | undefined = req.steps ? [] : undefined;
  if (req.perStream) {
    // A map, not an object, so a stream named `__proto__` stays a plain key.
    const states = new Map<string, unknown>(Object.entries(req.state ? JSON.parse(req.state) : {}));
    const snapshot = () => JSON.stringify(Object.fromEntries(states));
    req.events.forEach((e, i) => {
      Atomics.store(cursor, 0, i);
      try {
        const next = apply(states.has(e.stream) ? states.get(e.stream) : init(), e);
        const text = json(next, 'apply()');
        states.set(e.stream, next);
        steps?.push(text);
      } catch (err) {
        throw new StepError(i, err, snapshot());
      }
    });
    return { state: snapshot(), ...(steps ? { steps } : {}) };
  }
  let state = req.state === null ? init() : JSON.parse(req.state);
  let text = req.state ?? json(state, 'init()');
  req.events.forEach((e, i) => {
    Atomics.store(cursor, 0, i);
    try {
      state = apply(state, e);
      text = json(state, 'apply()');
    } catch (err) {
      throw new StepError(i, err, text);
    }
    steps?.push(text);
  });
  return { state: text, ...(steps ? { steps } : {}) };
}

async function handle(req: Extract<WorkerRequest, { op: 'handle' }>): Promise<number> {
  const ctx = {
    attempt: req.attempt,
    log: (...args: unknown[]) =>
      post({ id: -1, log: args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ') }),
  };
  for (let i = 0; i < req.events.length; i++) {
    Atomics.store(cursor, 0, i);
    try {
      await mod.handle!(req.events[i]!, ctx);
    } catch (err) {
      throw new StepError(i, err);
    }
  }
  return req.events.length;
}

function upcast(events: StoredEvent[]): (unknown[] | null)[] {
  return events.map((e, i) => {
    Atomics.store(cursor, 0, i);
    try {
      const out = mod.upcast!(e);
      if (out === null) return null;
      if (Array.isArray(out)) return out;
      if (out !== undefined && typeof out === 'object') return [out];
      throw new TypeError('upcast() must return an event, an array of events or null (drop)');
    } catch (err) {
      throw new StepError(i, err);
    }
  });
}

function findBreak(expr: string, events: StoredEvent[]): number {
  let test = breakpoints.get(expr);
  if (!test) {
    // Compiling is the syntax check; a SyntaxError is reported without an event index.
    test = new Function('e', `"use strict"; return (${expr});`) as (e: StoredEvent) => unknown;
    breakpoints.set(expr, test);
  }
  for (let i = 0; i < events.length; i++) {
    Atomics.store(cursor, 0, i);
    try {
      if (test(events[i]!)) return i;
    } catch (err) {
      throw new StepError(i, err);
    }
  }
  return -1;
}

async function load(url: string): Promise<ModuleShape> {
  mod = (await import(url)) as UserExports;
  const fn = (k: keyof UserExports) => typeof mod[k] === 'function';
  const shape: ModuleShape = {
    has: { init: fn('init'), apply: fn('apply'), handle: fn('handle'), upcast: fn('upcast') },
  };
  if (typeof mod.name === 'string') shape.name = mod.name;
  if (mod.scope === 'stream' || mod.scope === 'global') shape.scope = mod.scope;
  else if (mod.scope !== undefined) throw new TypeError(`export "scope" must be 'stream' or 'global'`);
  return shape;
}

async function serve(req: WorkerRequest): Promise<unknown> {
  switch (req.op) {
    case 'load':
      return load(req.url);
    case 'fold':
      return fold(req);
    case 'handle':
      return handle(req);
    case 'upcast':
      return upcast(req.events);
    case 'break':
      return findBreak(req.expr, req.events);
  }
}

parentPort!.on('message', (req: WorkerRequest) => {
  void serve(req).then(
    (value) => post({ id: req.id, ok: true, value }),
    (err: unknown) =>
      err instanceof StepError
        ? post({
            id: req.id,
            ok: false,
            error: toThrow(err.inner, err.index),
            ...(err.partial !== undefined ? { partial: err.partial } : {}),
          })
        : post({ id: req.id, ok: false, error: toThrow(err) }),
  );
});
