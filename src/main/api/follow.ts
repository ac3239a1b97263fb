import type { ApiFollow, ApiImportSummary, CallContext, ParsedParams } from '../../shared/api';
import { ChronoscopeError } from '../../shared/errors';
import { Follower } from '../engine/ingest/follow';
import { importFiles } from '../engine/ingest/importer';
import type { EventStore } from '../engine/types';

/**
 * Live tail of external files (DESIGN §6 "stores & sources"): each `follow` starts a Follower that
 * appends the file's (or folder's) lines to the open store; the UI sees them through the store's
 * own live tail, and the quarantine through `follows`. Following the same path twice is refused.
 * `importFiles` is the one-shot variant, run as a cancellable job.
 */
export function followHandlers(store: EventStore) {
  const running = new Map<string, Follower>();
  let next = 0;
  const view = (id: string, f: Follower): ApiFollow => ({ id, ...f.status() });
  const writable = () => {
    if (store.readOnly)
      throw new ChronoscopeError('READ_ONLY', 'this store is open read-only: it cannot take new events');
  };

  return {
    handlers: {
      follow: async (p: ParsedParams<'follow'>) => {
        writable();
        for (const [id, f] of running)
          if (f.status().path === p.path)
            throw new ChronoscopeError('INVALID_ARGUMENT', `${p.path} is already followed (as ${id})`, {
              field: 'path',
            });
        const f = await Follower.start(p.path, store, { format: p.format });
        const id = `follow-${++next}`;
        running.set(id, f);
        return view(id, f);
      },
      unfollow: async (p: ParsedParams<'unfollow'>) => {
        const f = running.get(p.id);
        if (!f) return { stopped: false };
        running.delete(p.id);
        await f.close();
        return { stopped: true };
      },
      follows: async () => [...running].map(([id, f]) => view(id, f)),
      importFiles: async (p: ParsedParams<'importFiles'>, ctx: CallContext): Promise<ApiImportSummary> => {
        writable();
        // Progress is per file (bytes of the file being read); the summary counts them all.
        return importFiles(store, p.paths, {
          format: p.format,
          signal: ctx.signal,
          onProgress: (pr) => ctx.progress(pr.bytesRead, pr.bytesTotal),
        });
      },
    },
    async close(): Promise<void> {
      const all = [...running.values()];
      running.clear();
      await Promise.all(all.map((f) => f.close()));
    },
  };
}
