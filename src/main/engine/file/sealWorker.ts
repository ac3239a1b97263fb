import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { fromIoError } from '../../../shared/errors';
import { storePaths } from './layout';
import { sealedFileArtifacts } from './recovery';
import { ReadScratch } from './readScratch';
import { sealSegment, unlinkDurably } from './sealer';
import type { SegmentArtifacts } from './segmentArtifacts';
import { newStreamsOnly, SqliteIndex } from './SqliteIndex';

/** Nice value of the seal worker thread (0 normal … 19 lowest). */
const SEAL_NICE = 5;

/** The plain segment of every seal is read into this one buffer (see ReadScratch). */
const scratch = new ReadScratch();

/** A seal job: compress one plain segment, index it, then remove the plain file, off the host's thread. */
export interface SealJob {
  kind: 'seal';
  id: number;
  root: string;
  plainName: string;
  level: number;
  blockBytes: number;
}
/** An index job (rebuild): read one sealed segment and return its catalogue row, blob and counts. */
export interface IndexJob {
  kind: 'index';
  id: number;
  root: string;
  name: string;
}
/** What a seal hands back: the new catalogue row's id and its index blob (moved, not copied). */
export interface SealResult {
  name: string;
  lastSeq: number;
  ms: number;
  segmentId: number;
  /** The index blob the catalogue row holds: the host takes it in without reading it back. */
  blob: Uint8Array;
}
export type SealReply =
  | ({ id: number; ok: true } & SealResult)
  | { id: number; ok: true; artifacts: SegmentArtifacts }
  | { id: number; ok: false; error: { code: string; message: string; details?: Record<string, unknown> } };

async function seal(job: SealJob): Promise<SealReply> {
  const t0 = performance.now();
  const paths = storePaths(job.root);
  // Opened per job: the worker is shared by every store of the process and holds no files between jobs.
  const ix = new SqliteIndex(paths.db, false);
  let out;
  let segmentId: number;
  try {
    out = await sealSegment(
      paths,
      job.plainName,
      job.level,
      job.blockBytes,
      undefined,
      newStreamsOnly(ix),
      scratch,
    );
    segmentId = ix.addSegment(out.segment, out.blob, out.counts);
    // The plain original goes last, after the index commit; here, so the host thread never waits
    // on freeing 16 MB of file blocks (measured at ~25 ms a seal).
    unlinkDurably(paths.segment(job.plainName), paths.segments);
  } finally {
    ix.close();
  }
  return {
    id: job.id,
    ok: true,
    name: out.segment.name,
    lastSeq: out.segment.lastSeq,
    ms: performance.now() - t0,
    segmentId,
    // Its own memory, so it can be moved to the host (a Buffer may be a view of a shared pool).
    blob: new Uint8Array(out.blob),
  };
}

// Sealing is background work: when the cores are contended, the appending thread should win them.
// On Linux, pid 0 names the calling thread, so only this worker is lowered.
if (parentPort && process.platform === 'linux') {
  try {
    setPriority(0, SEAL_NICE);
  } catch {
    /* not permitted here: sealing simply keeps normal priority */
  }
}

parentPort?.on('message', (job: SealJob | IndexJob) => {
  void (async () => {
    try {
      if (job.kind === 'index') {
        const artifacts = await sealedFileArtifacts(storePaths(job.root), job.name);
        parentPort!.postMessage({ id: job.id, ok: true, artifacts } satisfies SealReply);
      } else {
        const reply = await seal(job);
        parentPort!.postMessage(reply, 'blob' in reply ? [reply.blob.buffer as ArrayBuffer] : []);
      }
    } catch (err) {
      const e = fromIoError(err, job.kind === 'index' ? `indexing ${job.name}` : `sealing ${job.plainName}`);
      parentPort!.postMessage({ id: job.id, ok: false, error: e.toJSON() } satisfies SealReply);
    }
  })();
});
