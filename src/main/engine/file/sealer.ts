import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import type { StoredEvent } from '../../../shared/event';
import { parseStoredEnvelope } from './storedEnvelope';
import { ChronoscopeError, fromIoError } from '../../../shared/errors';
import { encodeBlocks } from './bgzf';
import { sha256 } from './checksum';
import { sealedSegmentName, type StorePaths } from './layout';
import { segmentArtifacts, type SegmentArtifacts } from './segmentArtifacts';

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
  /** See segmentArtifacts: true only while the catalogue names every stream of earlier segments. */
  newStreamsOnly = false,
): Promise<SegmentArtifacts> {
  const raw = readFileSync(paths.segment(plainName));
  const lines: { uoff: number; line: Buffer }[] = [];
  for (let start = 0; start < raw.length;) {
    const nl = raw.indexOf(10, start);
    if (nl === -1) break;
    lines.push({ uoff: start, line: raw.subarray(start, nl) });
    start = nl + 1;
  }
  if (lines.length === 0) throw new ChronoscopeError('INTERNAL', `${plainName} holds no whole line to seal`);
  // Without the hot tier at hand (a worker), the lines on disk are parsed: they are the truth anyway.
  // Only their envelopes: the index needs nothing from data or meta.
  const parse = (i: number) => parseStoredEnvelope(lines[i]!.line, `${plainName} line ${i + 1}`);
  const first = parse(0);
  const evs: StoredEvent[] = lines.map((_, i) =>
    events ? events(first.seq + i) : i === 0 ? first : parse(i),
  );
  const encoded = await encodeBlocks(
    lines.map((l) => l.line),
    // In the seal worker, compress there: the shared threadpool stays free for appends' write + fsync.
    { level, blockInputCap: blockBytes, inline: !isMainThread },
  );
  const totalU = lines.length ? lines[lines.length - 1]!.uoff + lines[lines.length - 1]!.line.length + 1 : 0;
  let ustart = 0;
  const blocks = encoded.blocks.map((b) => {
    const e = { coff: b.offset, ustart };
    ustart += b.usize;
    return e;
  });
  const name = sealedSegmentName(first.seq, first.seq + lines.length - 1);
  try {
    writeFileDurably(paths.segment(name), encoded.data);
    fsyncDir(paths.segments);
  } catch (err) {
    throw fromIoError(err, `sealing segment ${plainName}`);
  }
  return segmentArtifacts(
    { name, bytes: encoded.data.length, sha256: sha256(encoded.data), blocks, totalU },
    lines,
    evs,
    newStreamsOnly,
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
