import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
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

/**
 * Reads a plain JSONL segment and checks every whole line. A final line without its newline is a
 * torn write (reported, to be truncated); a damaged whole line is corruption and fails loudly with
 * the file and byte offset, because silently skipping it would lose an acknowledged event.
 */
export function scanActiveSegment(path: string, name: string): ScanResult {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    const events: ScanResult['events'] = [];
    let start = 0;
    let prevSeq = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl === -1 || nl >= got) break;
      const line = buf.toString('utf8', start, nl);
      const e = parseStoredLine(line, `${name} at byte ${start}`);
      if (prevSeq && e.seq !== prevSeq + 1) {
        throw new ChronoscopeError(
          'CORRUPT',
          `${name} at byte ${start}: seq ${e.seq} does not follow ${prevSeq}`,
          { file: name, offset: start },
        );
      }
      prevSeq = e.seq;
      events.push({ event: e, offset: start, length: nl - start });
      start = nl + 1;
    }
    return { events, validBytes: start, tornBytes: got - start };
  } finally {
    closeSync(fd);
  }
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
