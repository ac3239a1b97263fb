import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ChronoscopeError, fromIoError } from '../../../shared/errors';

/** Longest line held in memory (16 MiB): a longer one is reported as oversized, never buffered whole. */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;
/** How much of an oversized line is kept, so a quarantine can still show what it was. */
export const OVERSIZED_HEAD_BYTES = 1024;
const READ_CHUNK_BYTES = 256 * 1024;

/** One non-blank line of input, or the reason it cannot be one; lineNo is 1-based and counts blank lines. */
export type LineItem =
  | { kind: 'line'; line: string; lineNo: number; byteOffset: number }
  | { kind: 'oversized'; lineNo: number; byteOffset: number; bytes: number; head: string }
  | { kind: 'malformed'; lineNo: number; byteOffset: number; reason: string; raw: Buffer };

/** Live counters of one read, so callers can show progress without a second pass. */
export interface LineStats {
  /** Bytes read from the file (compressed bytes for gzip input). */
  bytesRead: number;
  /** Size of the file on disk. */
  bytesTotal: number;
  gzip: boolean;
  /** Every line seen so far, blank ones included. */
  lines: number;
  blank: number;
  /** Largest partial line held at once: proves that oversized lines are not buffered. */
  peakBufferedBytes: number;
}

/** Tuning knobs; the defaults suit multi-gigabyte files. */
export interface LineReaderOptions {
  maxLineBytes?: number;
  /** Read size of the file stream and of gunzip's output (default 256 KiB). */
  chunkBytes?: number;
}

/** Fresh counters for splitLines callers that own their source. */
export function emptyLineStats(): LineStats {
  return { bytesRead: 0, bytesTotal: 0, gzip: false, lines: 0, blank: 0, peakBufferedBytes: 0 };
}

/**
 * Splits a byte stream into lines, one array per source chunk (far cheaper than one await per line).
 * Handles CRLF, a UTF-8 BOM, a last line without newline; byteOffset is in the decoded stream.
 */
export async function* splitLines(
  source: AsyncIterable<Uint8Array>,
  stats: LineStats,
  maxLineBytes: number = DEFAULT_MAX_LINE_BYTES,
): AsyncGenerator<LineItem[]> {
  let parts: Buffer[] = [];
  let partBytes = 0;
  let skipping = false; // inside an oversized line: counting, not keeping
  let skipHead = '';
  let skipBytes = 0;
  let lineStart = 0;
  let offset = 0;
  let out: LineItem[] = [];

  const finish = (seg: Buffer): void => {
    const lineNo = ++stats.lines;
    if (skipping) {
      out.push({
        kind: 'oversized',
        lineNo,
        byteOffset: lineStart,
        bytes: skipBytes + seg.length,
        head: skipHead,
      });
      skipping = false;
      skipBytes = 0;
      skipHead = '';
      return;
    }
    let buf = parts.length === 0 ? seg : Buffer.concat([...parts, seg], partBytes + seg.length);
    parts = [];
    partBytes = 0;
    if (buf.length > 0 && buf[buf.length - 1] === 13) buf = buf.subarray(0, buf.length - 1);
    if (lineNo === 1 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    if (buf.length === 0) {
      stats.blank++;
      return;
    }
    if (!isUtf8(buf)) {
      out.push({
        kind: 'malformed',
        lineNo,
        byteOffset: lineStart,
        reason: 'invalid UTF-8',
        raw: Buffer.from(buf),
      });
      return;
    }
    const line = buf.toString('utf8');
    const c = line.charCodeAt(0);
    if ((c <= 32 || c >= 0xa0) && line.trim() === '') {
      stats.blank++;
      return;
    }
    out.push({ kind: 'line', line, lineNo, byteOffset: lineStart });
  };

  for await (const raw of source) {
    const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(10, pos);
      const seg = chunk.subarray(pos, nl === -1 ? chunk.length : nl);
      if (skipping) {
        if (nl === -1) skipBytes += seg.length;
      } else if (partBytes + seg.length > maxLineBytes) {
        // Keep only a head; drop what was buffered so memory stays bounded by maxLineBytes.
        skipHead = Buffer.concat(
          [...parts, seg],
          Math.min(OVERSIZED_HEAD_BYTES, partBytes + seg.length),
        ).toString();
        skipping = true;
        skipBytes = partBytes + (nl === -1 ? seg.length : 0);
        parts = [];
        partBytes = 0;
      } else if (nl === -1) {
        parts.push(seg);
        partBytes += seg.length;
        if (partBytes > stats.peakBufferedBytes) stats.peakBufferedBytes = partBytes;
      }
      if (nl === -1) break;
      finish(seg);
      lineStart = offset + nl + 1;
      pos = nl + 1;
    }
    offset += chunk.length;
    if (out.length > 0) {
      yield out;
      out = [];
    }
  }
  if (skipping || partBytes > 0) finish(Buffer.alloc(0));
  if (out.length > 0) yield out;
}

/** True when the file starts with the gzip magic bytes 1f 8b, whatever its name says. */
export async function isGzipFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r').catch((err: unknown) => {
    throw fromIoError(err, `opening ${path}`);
  });
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/**
 * Streams the lines of a `.jsonl` or gzip-compressed (possibly multi-member) file, never loading it
 * whole. Iterate `batches()` for speed or the reader itself for one item at a time; `stats` is live.
 */
export class LineReader implements AsyncIterable<LineItem> {
  readonly stats: LineStats = emptyLineStats();
  readonly #maxLineBytes: number;
  readonly #chunkBytes: number;

  constructor(
    readonly path: string,
    options: LineReaderOptions = {},
  ) {
    this.#maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#chunkBytes = options.chunkBytes ?? READ_CHUNK_BYTES;
  }

  /** Lines grouped per read chunk; breaking out of the loop closes the file. */
  async *batches(): AsyncGenerator<LineItem[]> {
    const { path, stats } = this;
    stats.gzip = await isGzipFile(path);
    stats.bytesTotal = (await stat(path)).size;
    const raw = createReadStream(path, { highWaterMark: this.#chunkBytes });
    const gunzip = stats.gzip ? createGunzip({ chunkSize: this.#chunkBytes }) : undefined;
    const source = gunzip ? pipeline(raw, gunzip, () => {}) : raw;
    try {
      for await (const items of splitLines(countingBytes(source, raw, stats), stats, this.#maxLineBytes)) {
        yield items;
      }
    } catch (err) {
      const e = err as { code?: string; message?: string };
      if (typeof e?.code === 'string' && (e.code.startsWith('Z_') || e.code.startsWith('ERR_ZLIB'))) {
        throw new ChronoscopeError(
          'CORRUPT',
          `${path}: gzip data damaged after line ${stats.lines} (${e.message})`,
          {
            path,
            line: stats.lines,
          },
        );
      }
      throw fromIoError(err, `reading ${path}`);
    } finally {
      source.destroy();
      raw.destroy();
    }
  }

  /** One item at a time, for callers that prefer simplicity over speed. */
  async *[Symbol.asyncIterator](): AsyncGenerator<LineItem> {
    for await (const items of this.batches()) yield* items;
  }
}

/** Passes chunks through while mirroring the raw stream's byte count into stats. */
async function* countingBytes(
  source: AsyncIterable<Uint8Array>,
  raw: { bytesRead: number },
  stats: LineStats,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    stats.bytesRead = raw.bytesRead;
    yield chunk;
  }
  stats.bytesRead = raw.bytesRead;
}
