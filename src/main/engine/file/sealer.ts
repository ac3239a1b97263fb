import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { parseStoredLine, type StoredEvent } from '../../../shared/event';
import { ChronoscopeError, fromIoError } from '../../../shared/errors';
import { encodeBlocks } from './bgzf';
import { crc32, sha256 } from './checksum';
import { sealedSegmentName, type StorePaths } from './layout';
import type { IndexedRecord, SegmentRecord } from './SqliteIndex';

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

export interface SealOutput {
  segment: Omit<SegmentRecord, 'id'>;
  records: IndexedRecord[];
}

/**
 * Seals a plain JSONL segment: compresses its lines into blocked gzip, writes it as
 * `<first>-<last>.jsonl.gz` via tmp + fsync + rename, and returns the index rows for it. The plain
 * file is NOT removed here: the caller removes it only after the index commit, so a crash at any
 * point leaves a recoverable pair, never a loss.
 */
export async function sealSegment(
  paths: StorePaths,
  plainName: string,
  level: number,
  blockBytes?: number,
  events?: (seq: number) => StoredEvent,
): Promise<SealOutput> {
  const raw = readFileSync(paths.segment(plainName));
  const lines: Buffer[] = [];
  for (let start = 0; start < raw.length;) {
    const nl = raw.indexOf(10, start);
    if (nl === -1) break;
    lines.push(raw.subarray(start, nl));
    start = nl + 1;
  }
  if (lines.length === 0) throw new ChronoscopeError('INTERNAL', `${plainName} holds no whole line to seal`);
  // Without the hot tier at hand (a worker), the lines on disk are parsed: they are the truth anyway.
  const eventAt =
    events ??
    ((seq: number) =>
      parseStoredLine(lines[seq - firstSeq]!.toString('utf8'), `${plainName} line ${seq - firstSeq + 1}`));
  const firstSeq = parseStoredLine(lines[0]!.toString('utf8'), `${plainName} line 1`).seq;
  const first = eventAt(firstSeq);
  const encoded = await encodeBlocks(lines, { level, blockInputCap: blockBytes });
  const records: IndexedRecord[] = [];
  let minTime = Infinity;
  let maxTime = -Infinity;
  for (let i = 0; i < lines.length; i++) {
    const event = eventAt(first.seq + i);
    const t = Date.parse(event.time);
    if (t < minTime) minTime = t;
    if (t > maxTime) maxTime = t;
    records.push({
      event,
      voff: encoded.records[i]!.voff,
      len: encoded.records[i]!.length,
      crc: crc32(lines[i]!),
    });
  }
  const lastSeq = first.seq + lines.length - 1;
  const name = sealedSegmentName(first.seq, lastSeq);
  try {
    writeFileDurably(paths.segment(name), encoded.data);
    fsyncDir(paths.segments);
  } catch (err) {
    throw fromIoError(err, `sealing segment ${plainName}`);
  }
  return {
    segment: {
      name,
      firstSeq: first.seq,
      lastSeq,
      count: lines.length,
      bytes: encoded.data.length,
      rawBytes: raw.length,
      blocks: encoded.blocks.length,
      sha256: sha256(encoded.data),
      minTime: Number.isFinite(minTime) ? minTime : null,
      maxTime: Number.isFinite(maxTime) ? maxTime : null,
      sealedAt: new Date().toISOString(),
    },
    records,
  };
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
