import { parentPort } from 'node:worker_threads';
import { fromIoError } from '../../../shared/errors';
import { storePaths } from './layout';
import { sealSegment } from './sealer';
import { SqliteIndex } from './SqliteIndex';

/** A seal job: compress one plain segment and index it, off the host's thread. */
export interface SealJob {
  id: number;
  root: string;
  plainName: string;
  level: number;
  blockBytes: number;
}
export type SealReply =
  | { id: number; ok: true; name: string; lastSeq: number; ms: number }
  | { id: number; ok: false; error: { code: string; message: string; details?: Record<string, unknown> } };

parentPort?.on('message', (job: SealJob) => {
  const t0 = performance.now();
  void (async () => {
    try {
      const paths = storePaths(job.root);
      const out = await sealSegment(paths, job.plainName, job.level, job.blockBytes);
      // Opened per job: the worker is shared by every store of the process and holds no files between jobs.
      const ix = new SqliteIndex(paths.db, false);
      try {
        ix.addSegment(out.segment, out.blob, out.counts);
      } finally {
        ix.close();
      }
      parentPort!.postMessage({
        id: job.id,
        ok: true,
        name: out.segment.name,
        lastSeq: out.segment.lastSeq,
        ms: performance.now() - t0,
      } satisfies SealReply);
    } catch (err) {
      const e = fromIoError(err, `sealing ${job.plainName}`);
      parentPort!.postMessage({ id: job.id, ok: false, error: e.toJSON() } satisfies SealReply);
    }
  })();
});
