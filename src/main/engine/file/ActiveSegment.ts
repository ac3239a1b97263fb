import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseStoredLine, type StoredEvent } from '../../../shared/event';
import { ChronoscopeError, fromIoError } from '../../../shared/errors';

/** What scanning an active segment found: its events, and any torn tail that recovery cut off. */
export interface ScanResult {
  events: { event: StoredEvent; offset: number; length: number }[];
  /** Bytes of whole lines. */
  validBytes: number;
  /** Bytes after the last newline (a write torn by a crash). */
  tornBytes: number;
}

/** A whole line of a plain segment that is not an event in its place (repair cuts it out). */
export interface DamagedLine {
  offset: number;
  /** Bytes without the newline. */
  length: number;
  reason: string;
  /** The seq its bytes still name (`{"seq":N,` at the start), if any: a hint, not trusted. */
  seqHint?: number;
  /** The seq of the last intact line before it in this file (the name's firstSeq − 1 if none). */
  prevSeq: number;
}

/** Every whole line classified: intact events (seqs rising, maybe with gaps) and damaged lines. */
export interface LenientScan extends ScanResult {
  damaged: DamagedLine[];
}

/**
 * Classifies every whole line of a plain segment without throwing on content: a line is intact
 * when it parses as a stored event whose seq follows the previous intact one, or jumps ahead and
 * the next parsed line confirms the jump (lines lost in between). Anything else (bad JSON, a seq
 * going back, a lone jump that a flipped digit could have made) is damaged. `firstSeq` is the seq
 * the file's name promises.
 */
export function scanSegmentLines(buf: Buffer, firstSeq?: number): LenientScan {
  const lines: { start: number; end: number; event?: StoredEvent; error?: string }[] = [];
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(10, start);
    if (nl === -1) break;
    try {
      lines.push({
        start,
        end: nl,
        event: parseStoredLine(buf.toString('utf8', start, nl), `byte ${start}`),
      });
    } catch (err) {
      lines.push({ start, end: nl, error: (err as Error).message.replace(/^byte \d+: /, '') });
    }
    start = nl + 1;
  }
  const events: ScanResult['events'] = [];
  const damaged: DamagedLine[] = [];
  let prev = firstSeq !== undefined ? firstSeq - 1 : (lines.find((l) => l.event)?.event!.seq ?? 1) - 1;
  let damagedSince = 0;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const e = l.event;
    let reason = l.error;
    if (e && e.seq !== prev + 1) {
      // A jump is believable when the next line confirms it, or damaged lines just before fill it.
      const next = lines.slice(i + 1).find((x) => x.event)?.event;
      const filled = e.seq > prev && e.seq - prev - 1 <= damagedSince;
      if (e.seq <= prev || (!filled && (!next || next.seq !== e.seq + 1)))
        reason = `seq ${e.seq} does not follow ${prev}`;
    }
    if (e && reason === undefined) {
      events.push({ event: e, offset: l.start, length: l.end - l.start });
      prev = e.seq;
      damagedSince = 0;
      continue;
    }
    damagedSince++;
    const m = /^\{"seq":(\d{1,15}),/.exec(buf.toString('latin1', l.start, Math.min(l.end, l.start + 32)));
    damaged.push({
      offset: l.start,
      length: l.end - l.start,
      reason: reason ?? 'damaged',
      seqHint: m ? Number(m[1]) : undefined,
      prevSeq: prev,
    });
  }
  return { events, damaged, validBytes: start, tornBytes: buf.length - start };
}

/**
 * Reads a whole file (a plain segment) into memory: into a new buffer, or into the one `bufferFor`
 * gives for its size (at least that long).
 */
export function readWholeFile(
  path: string,
  bufferFor: (size: number) => Buffer = (size) => Buffer.allocUnsafe(size),
): Buffer {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = bufferFor(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a plain JSONL segment and checks every whole line. A final line without its newline is a
 * torn write (reported, to be truncated); a damaged whole line, or a seq gap inside the file, is
 * corruption and fails loudly with the file, the byte offset and the way out (`chronoscope repair`),
 * because silently skipping it would lose an acknowledged event.
 */
export function scanActiveSegment(path: string, name: string): ScanResult {
  const scan = scanSegmentLines(readWholeFile(path));
  const root = dirname(dirname(path));
  const fail = (offset: number, problem: string): never => {
    throw new ChronoscopeError(
      'CORRUPT',
      `${name} at byte ${offset}: ${problem}; run \`chronoscope repair ${root}\` to cut the damaged lines out and record what is lost`,
      { file: name, offset },
    );
  };
  const bad = scan.damaged[0];
  for (let i = 1; i < scan.events.length; i++) {
    const { event, offset } = scan.events[i]!;
    const prev = scan.events[i - 1]!.event.seq;
    if (bad && bad.offset < offset) break;
    if (event.seq !== prev + 1) fail(offset, `seq ${event.seq} does not follow ${prev}`);
  }
  if (bad) fail(bad.offset, bad.reason);
  return { events: scan.events, validBytes: scan.validBytes, tornBytes: scan.tornBytes };
}

/** Reads whole lines appended since `from` (a reader following another process's writes). */
export function readNewLines(
  path: string,
  from: number,
  name: string,
): { events: StoredEvent[]; end: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return { events: [], end: from };
  }
  try {
    const size = fstatSync(fd).size;
    if (size <= from) return { events: [], end: Math.min(from, size) };
    const buf = Buffer.allocUnsafe(size - from);
    const got = readSync(fd, buf, 0, buf.length, from);
    const events: StoredEvent[] = [];
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl === -1 || nl >= got) break;
      events.push(parseStoredLine(buf.toString('utf8', start, nl), `${name} at byte ${from + start}`));
      start = nl + 1;
    }
    return { events, end: from + start };
  } finally {
    closeSync(fd);
  }
}

/** Cuts a torn tail off; fsynced so the repair itself survives a crash. */
export function truncateSegment(path: string, size: number): void {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, size);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The segment being appended to. Writes are followed by fdatasync before they count. */
export class ActiveSegment {
  private constructor(
    readonly name: string,
    readonly firstSeq: number,
    private readonly fh: FileHandle,
    private _size: number,
    readonly createdAt: number,
  ) {}

  static async open(path: string, name: string, firstSeq: number, size: number): Promise<ActiveSegment> {
    const fh = await open(path, 'a', 0o600);
    return new ActiveSegment(name, firstSeq, fh, size, Date.now());
  }

  get size(): number {
    return this._size;
  }

  /** Appends bytes and makes them durable; on failure the file is cut back so no partial line stays. */
  async append(bytes: Buffer): Promise<void> {
    const before = this._size;
    try {
      let off = 0;
      while (off < bytes.length) {
        const { bytesWritten } = await this.fh.write(bytes, off, bytes.length - off);
        off += bytesWritten;
      }
      await this.fh.datasync();
      this._size = before + bytes.length;
    } catch (err) {
      try {
        await this.fh.truncate(before);
        await this.fh.datasync();
      } catch {
        /* the store will find and cut the torn tail on next open */
      }
      throw fromIoError(err, `appending to segment ${this.name}`);
    }
  }

  async close(): Promise<void> {
    await this.fh.close().catch(() => {});
  }
}
