import type { ApiReplay, ParsedParams } from '../../shared/api';
import { ChronoscopeError } from '../../shared/errors';
import type { JsonValue } from '../../shared/event';
import type { EventFilter } from '../../shared/query';
import type { EventStore } from '../engine/types';
import { Replay } from '../engine/timetravel/replay';
import { UserModule } from '../engine/timetravel/UserModule';

const LOG_KEEP = 50;
/** Finished sessions kept for the UI to read; older ones are closed. */
const SESSIONS_MAX = 8;

interface Session {
  id: string;
  module: UserModule;
  replay: Replay;
  abort: AbortController;
  view: Omit<ApiReplay, 'state' | 'status' | 'position' | 'processed'>;
  done: Promise<unknown>;
}

const bad = (field: string, message: string) => new ChronoscopeError('INVALID_ARGUMENT', message, { field });

/**
 * Replay sessions for the app (DESIGN §4): a user module (projection or handler) run over a range
 * or filter in its worker, driven by `replayControl` (pause, resume, step, back, retry / skip /
 * abort at an error) and read back with `replayStatus`. The module is watched: saving it reloads
 * it, so "retry" after a fix runs the new code.
 */
export function replayHandlers(store: EventStore) {
  const sessions = new Map<string, Session>();
  let next = 0;

  const snapshot = (s: Session): ApiReplay => ({
    ...s.view,
    status: s.replay.status,
    position: s.replay.position,
    processed: s.replay.processed,
    state: s.module.kind === 'projection' ? (s.replay.state as JsonValue) : null,
    log: [...s.view.log],
  });

  const get = (id: string): Session => {
    const s = sessions.get(id);
    if (!s) throw new ChronoscopeError('NOT_FOUND', `no replay ${id} (it was closed)`, { field: 'id' });
    return s;
  };

  const closeSession = async (s: Session) => {
    sessions.delete(s.id);
    s.replay.removeAllListeners();
    if (s.replay.status === 'paused' || s.replay.status === 'running' || s.replay.status === 'error')
      s.abort.abort();
    await s.done.catch(() => {});
    await s.module.close();
  };

  return {
    handlers: {
      replayStart: async (p: ParsedParams<'replayStart'>): Promise<ApiReplay> => {
        if (p.from !== undefined && p.to !== undefined && p.to < p.from)
          throw bad('to', `to ${p.to} is before from ${p.from}`);
        const module = await UserModule.load(p.module, { kind: 'any', watch: true });
        const abort = new AbortController();
        let replay: Replay;
        try {
          replay = new Replay(store, module, {
            ...(p.filter ? { filter: p.filter as EventFilter } : {}),
            ...(p.from !== undefined ? { from: p.from } : {}),
            ...(p.to !== undefined ? { to: p.to } : {}),
            ...(p.speed !== undefined ? { speed: p.speed } : {}),
            breakpoints: p.breakpoints.map((b) => ({
              ...(b.expr ? { expr: b.expr } : {}),
              ...(b.filter ? { filter: b.filter as EventFilter } : {}),
            })),
            startPaused: p.startPaused,
            signal: abort.signal,
          });
        } catch (err) {
          await module.close();
          throw err;
        }
        const id = `replay-${++next}`;
        const s: Session = {
          id,
          module,
          replay,
          abort,
          done: Promise.resolve(),
          view: {
            id,
            file: module.file,
            kind: module.kind as 'projection' | 'handler',
            codeHash: module.codeHash,
            from: p.from ?? 1,
            to: p.to ?? store.lastSeq(),
            fraction: 0,
            log: [],
          },
        };
        const log = (line: string) => {
          s.view.log.push(line);
          if (s.view.log.length > LOG_KEEP) s.view.log.shift();
        };
        replay.on('progress', (pr) =>
          Object.assign(s.view, { fraction: pr.fraction, from: pr.from, to: pr.to }),
        );
        replay.on('paused', (e) => {
          s.view.paused = { reason: e.reason, ...(e.next ? { next: e.next } : {}) };
          delete s.view.failure;
        });
        replay.on('resumed', () => delete s.view.paused);
        replay.on('failed', (f) => {
          s.view.failure = {
            seq: f.event.seq,
            event: f.event,
            message: f.error.message,
            stack: String(f.error.details?.stack ?? ''),
            attempt: f.attempt,
          };
        });
        replay.on('log', log);
        replay.on('done', (r) => {
          s.view.result = { status: r.status, skipped: r.skipped, notes: r.notes };
          delete s.view.paused;
        });
        module.on('reloaded', (i) => {
          s.view.codeHash = i.codeHash;
          log(`reloaded ${i.file} (${i.codeHash.slice(0, 12)})`);
        });
        module.on('reload-failed', (e) => log(`reload failed, the old code keeps running: ${e.message}`));
        s.done = replay.run().catch((err: unknown) => {
          s.view.error = err instanceof Error ? err.message : String(err);
        });
        sessions.set(id, s);
        // A setup error (a bad breakpoint, a range past the head) belongs to this call, not to a later status.
        await Promise.race([s.done, new Promise((r) => setTimeout(r, 50))]);
        if (s.view.error) {
          await closeSession(s);
          throw bad('module', s.view.error);
        }
        for (const old of [...sessions.values()].slice(0, Math.max(0, sessions.size - SESSIONS_MAX)))
          await closeSession(old);
        return snapshot(s);
      },

      replayControl: async (p: ParsedParams<'replayControl'>): Promise<ApiReplay> => {
        const s = get(p.id);
        const r = s.replay;
        switch (p.action) {
          case 'pause':
            r.pause();
            break;
          case 'resume':
            r.resume();
            break;
          case 'step':
            await r.step();
            break;
          case 'back':
            await r.stepBack();
            break;
          case 'retry':
          case 'skip':
            r.decide(p.action);
            // Give the worker a moment so the answer usually shows the outcome.
            await new Promise((res) => setTimeout(res, 30));
            break;
          case 'abort':
            if (r.status === 'error') r.decide('abort');
            else s.abort.abort();
            await s.done;
            break;
          case 'close':
            await closeSession(s);
            return snapshot(s);
        }
        return snapshot(s);
      },

      replayStatus: async (p: ParsedParams<'replayStatus'>) => snapshot(get(p.id)),
    },
    async close(): Promise<void> {
      await Promise.all([...sessions.values()].map((s) => closeSession(s)));
    },
  };
}
