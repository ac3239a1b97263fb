import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import type { StoredEvent } from '../../../shared/event';
import { ChronoscopeError, fromIoError } from '../../../shared/errors';
import { encodeLineBuffer } from './bgzf';
import type { ReadScratch } from './readScratch';
import { crc32, sha256 } from './checksum';
import { sealedSegmentName, type StorePaths } from './layout';
import { segmentArtifacts, type SegmentArtifacts } from './segmentArtifacts';
import { SegmentColumns } from './segmentColumns';

/** Writes a whole file durably under a temporary name and renames it into place (tmp + fsync + rename). */
export function writeFileDurably(path: string, data: Buffer): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** fsync a directory so a rename or unlink inside it is durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Seals a plain JSONL segment: compresses its lines into blocked gzip, writes it as
 * `<first>-<last>.jsonl.gz` via tmp + fsync + rename, and returns its catalogue row, index blob
 * and key counts. The plain file is NOT removed here: the caller removes it only after the index
 * commit, so a crash at any point leaves a recoverable pair, never a loss.
 */
export async function sealSegment(
  paths: StorePaths,
  plainName: string,
  level: number,
  blockBytes?: number,
  events?: (seq: number) => StoredEvent,
  /** See SegmentColumns: true only while the catalogue names every stream of earlier segments. */
  newStreamsOnly = false,
  /** Where to read the plain file (the seal worker keeps one buffer for all its seals). */
  scratch?: ReadScratch,
): Promise<SegmentArtifacts> {
  const lease = scratch?.read(paths.segment(plainName));
  try {
    return await sealBytes(
      paths,
      plainName,
      lease?.bytes ?? readFileSync(paths.segment(plainName)),
      level,
      blockBytes,
      events,
      newStreamsOnly,
    );
  } finally {
    lease?.release();
  }
}

async function sealBytes(
  paths: StorePaths,
  plainName: string,
  raw: Buffer,
  level: number,
  blockBytes: number | undefined,
  events: ((seq: number) => StoredEvent) | undefined,
  newStreamsOnly: boolean,
): Promise<SegmentArtifacts> {
  // ~350 bytes a line is typical; the columns grow if not.
  const cols = new SegmentColumns(Math.ceil(raw.length / 256), newStreamsOnly);
  let totalU = 0;
  for (let start = 0, i = 0; start < raw.length; i++) {
    const nl = raw.indexOf(10, start);
    if (nl === -1) break;
    // Without the hot tier at hand (a worker), the lines on disk are read: they are the truth anyway.
    if (events && i > 0) cols.addEvent(events(cols.firstSeq + i), start, crc32(raw.subarray(start, nl)));
    else cols.addLine(raw, start, nl, start, () => `${plainName} line ${i + 1}`);
    start = totalU = nl + 1;
  }
  if (cols.n === 0) throw new ChronoscopeError('INTERNAL', `${plainName} holds no whole line to seal`);
  const encoded = await encodeLineBuffer(raw, cols.uoff, cols.n, totalU, {
    level,
    blockInputCap: blockBytes,
    // In the seal worker, compress there: the shared threadpool stays free for appends' write + fsync.
    inline: !isMainThread,
  });
  let ustart = 0;
  const blocks = encoded.blocks.map((b) => {
    const e = { coff: b.offset, ustart };
    ustart += b.usize;
    return e;
  });
  const name = sealedSegmentName(cols.firstSeq, cols.lastSeq);
  try {
    writeFileDurably(paths.segment(name), encoded.data);
    fsyncDir(paths.segments);
  } catch (err) {
    throw fromIoError(err, `sealing segment ${plainName}`);
  }
  return segmentArtifacts(
    { name, bytes: encoded.data.length, sha256: sha256(encoded.data), blocks, totalU },
    cols,
  );
}

/** Removes a file and makes the removal durable; a missing file is fine (already removed). */
export function unlinkDurably(path: string, dir: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  fsyncDir(dir);
}
