import { stat, open, type FileHandle } from 'node:fs/promises';
import { ChronoscopeError, fromIoError, isChronoscopeError, type ErrorCode } from '../../../shared/errors';
import { normaliseOwnedEvent, type EventInput, type NormalisedEvent } from '../../../shared/event';
import type { AppendResult } from '../types';
import { resolveFormat } from './detect';
import { plainEvent } from '../encodedEvent';
import { encodeCamelLine } from './camelFast';
import { mapCamel, mapperFor, type ImportFormat, type JsonRecord, type Mapper } from './formats';
import { LineReader, type LineItem } from './lineReader';

/** Anything that appends: an EventStore, a remote API client, a test double. */
export interface ImportTarget {
  append(events: EventInput[]): Promise<AppendResult>;
  /** When present, takes the importer's already validated events without validating them again. */
  appendNormalised?(events: NormalisedEvent[]): Promise<AppendResult>;
}

/** Progress of the file being imported; counts are for that file. */
export interface ImportProgress {
  file: string;
  bytesRead: number;
  bytesTotal: number;
  lines: number;
  imported: number;
  quarantined: number;
}

/** How to read the files; every field is optional. */
export interface ImportOptions {
  /** 'auto' (default) detects per file from its first lines; 'mapping' needs `mapping`. */
  format?: ImportFormat | 'auto';
  /** A field mapping (see fieldMappingSchema); given with format 'auto', it wins over detection. */
  mapping?: unknown;
  /** Events per append call (default 1000). */
  batchSize?: number;
  /** JSONL file the full quarantined lines are appended to (created 0600). */
  quarantinePath?: string;
  onProgress?: (p: ImportProgress) => void;
  signal?: AbortSignal;
  maxLineBytes?: number;
}

/** One line that was not imported, with enough context to find and fix it. */
export interface QuarantineRecord {
  file: string;
  line: number;
  reason: string;
  /** The line, truncated to 1 KiB here (the quarantine file has it whole). */
  raw: string;
}

/** Counts shared by the per-file and the total summaries: lines = blank + imported + duplicates + quarantined. */
export interface ImportCounts {
  lines: number;
  blank: number;
  imported: number;
  duplicates: number;
  quarantined: number;
}

/** What happened to one file; `error` is set when the file stopped early (damaged gzip, undetectable format). */
export interface FileImportSummary extends ImportCounts {
  file: string;
  bytes: number;
  format?: ImportFormat;
  detection?: string;
  error?: { code: ErrorCode; message: string };
}

/** The result of importFiles: per-file and total counts and the first quarantined lines. */
export interface ImportSummary extends ImportCounts {
  files: FileImportSummary[];
  failedFiles: number;
  /** The first QUARANTINE_SAMPLE_SIZE quarantined lines, over all files. */
  quarantine: QuarantineRecord[];
  quarantinePath?: string;
  elapsedMs: number;
}

/** How many quarantined lines a summary carries (the quarantine file has them all). */
export const QUARANTINE_SAMPLE_SIZE = 100;
const RAW_SAMPLE_BYTES = 1024;
const QUARANTINE_FLUSH_BYTES = 1024 * 1024;

/** Cuts text to at most `max` UTF-8 bytes on a character boundary, marking the cut with '…'. */
export function truncateUtf8(s: string, max: number): string {
  if (s.length * 3 <= max || Buffer.byteLength(s) <= max) return s;
  const cut = Buffer.from(s.slice(0, max))
    .subarray(0, max - 3)
    .toString();
  return `${cut.endsWith('\uFFFD') ? cut.slice(0, -1) : cut}…`;
}

/** Buffers full quarantine records and appends them to the file in large writes. */
class QuarantineFile {
  #buf: string[] = [];
  #bytes = 0;
  private constructor(readonly fh: FileHandle) {}
  static async open(path: string): Promise<QuarantineFile> {
    const fh = await open(path, 'a', 0o600).catch((e: unknown) =>
      Promise.reject(fromIoError(e, `opening ${path}`)),
    );
    return new QuarantineFile(fh);
  }
  add(rec: Record<string, unknown>): void {
    const s = JSON.stringify(rec) + '\n';
    this.#buf.push(s);
    this.#bytes += s.length;
  }
  /** Writes one after another (an import flushes while its previous batch may still be flushing). */
  #writing: Promise<void> = Promise.resolve();
  async flush(force = true): Promise<void> {
    if (this.#buf.length === 0 || (!force && this.#bytes < QUARANTINE_FLUSH_BYTES)) return this.#writing;
    const s = this.#buf.join('');
    this.#buf = [];
    this.#bytes = 0;
    const w = this.#writing.then(() => this.fh.appendFile(s, 'utf8'));
    this.#writing = w.catch(() => {});
    return w;
  }
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.fh.close();
    }
  }
}

export interface Pending {
  event: NormalisedEvent;
  lineNo: number;
  raw: string;
}
export type Quarantine = (
  lineNo: number,
  reason: string,
  raw: string,
  extra?: Record<string, unknown>,
) => void;

const emptyCounts = (): ImportCounts => ({ lines: 0, blank: 0, imported: 0, duplicates: 0, quarantined: 0 });
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const isRecord = (v: unknown): v is JsonRecord => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Imports JSONL / JSONL.gz files into `target` in batches. Every line ends up imported, a duplicate,
 * blank, or quarantined with its file and line number — never silently dropped. Not transactional:
 * on cancel (CANCELLED) or a store failure, what was appended stays; re-importing events that carry
 * ids is idempotent (counted as duplicates).
 */
export async function importFiles(
  target: ImportTarget,
  files: readonly string[],
  options: ImportOptions = {},
): Promise<ImportSummary> {
  const started = Date.now();
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
    throw new ChronoscopeError('INVALID_ARGUMENT', 'batchSize must be an integer from 1 to 100000', {
      batchSize,
    });
  }
  let format = options.format ?? 'auto';
  if (options.mapping !== undefined && format === 'auto') format = 'mapping';
  const fixedMapper = format === 'mapping' ? mapperFor('mapping', options.mapping) : undefined;
  const sizes: number[] = [];
  for (const f of files) {
    sizes.push((await stat(f).catch((e: unknown) => Promise.reject(fromIoError(e, `reading ${f}`)))).size);
  }

  const summary: ImportSummary = {
    ...emptyCounts(),
    files: [],
    failedFiles: 0,
    quarantine: [],
    elapsedMs: 0,
  };
  if (options.quarantinePath) summary.quarantinePath = options.quarantinePath;
  const qfile = options.quarantinePath ? await QuarantineFile.open(options.quarantinePath) : undefined;
  let reader: LineReader | undefined;
  let current: FileImportSummary | undefined;
  const syncCounts = (): void => {
    if (reader && current) Object.assign(current, { lines: reader.stats.lines, blank: reader.stats.blank });
  };
  const cancelled = (): ChronoscopeError => {
    syncCounts();
    return new ChronoscopeError('CANCELLED', 'import cancelled', { summary: finish(summary, started) });
  };

  try {
    for (let i = 0; i < files.length; i++) {
      const file = files[i]!;
      const fsum: FileImportSummary = { file, bytes: sizes[i]!, ...emptyCounts() };
      summary.files.push(fsum);
      if (options.signal?.aborted) throw cancelled();
      let mapper: Mapper;
      try {
        const det = fixedMapper ? undefined : await resolveFormat(file, format, options);
        fsum.format = det?.format ?? (fixedMapper ? 'mapping' : 'native');
        fsum.detection =
          det?.reason ?? (fixedMapper ? 'mapping: given by the caller' : 'no JSON object lines found');
        mapper = fixedMapper ?? mapperFor(fsum.format);
      } catch (err) {
        if (!(err instanceof ChronoscopeError) || err.code === 'IO_ERROR' || err.code === 'NO_SPACE')
          throw err;
        fsum.error = { code: err.code, message: `${file}: ${err.message}` };
        summary.failedFiles++;
        continue;
      }

      const quarantine: Quarantine = (lineNo, reason, raw, extra) => {
        fsum.quarantined++;
        if (summary.quarantine.length < QUARANTINE_SAMPLE_SIZE) {
          summary.quarantine.push({ file, line: lineNo, reason, raw: truncateUtf8(raw, RAW_SAMPLE_BYTES) });
        }
        qfile?.add({ file, line: lineNo, reason, raw, ...extra });
      };
      const account = (r: AppendResult): void => {
        fsum.imported += r.appended;
        fsum.duplicates += r.duplicates;
      };
      const lines = new LineReader(file, { maxLineBytes: options.maxLineBytes });
      [reader, current] = [lines, fsum];
      // One batch in flight while the next is parsed: its write + fsync overlaps the parsing.
      // Batches still reach the store in line order, and a failure stops the import at that batch.
      let inFlight: Promise<void> | undefined;
      const settle = async (): Promise<void> => {
        const p = inFlight;
        inFlight = undefined;
        await p;
      };
      const flush = async (batch: Pending[], last = false): Promise<void> => {
        if (options.signal?.aborted) throw cancelled();
        await settle();
        inFlight = (async () => {
          if (batch.length > 0)
            await appendBatch(target, batch, account, quarantine, (e, b) => storeFailure(e, file, b));
          await qfile?.flush();
          syncCounts();
          options.onProgress?.({ file, ...progressOf(lines, fsum) });
        })();
        // Surfaces a failure at once (the next flush would), and never leaves it unhandled.
        inFlight.catch(() => {});
        if (last) await settle();
        await yieldToLoop();
      };
      const storeFailure = (err: unknown, f: string, b: Pending[]): Error => {
        syncCounts();
        const base = err instanceof ChronoscopeError ? err : fromIoError(err, 'appending');
        const where = `lines ${b[0]!.lineNo}–${b[b.length - 1]!.lineNo} of ${f}`;
        return new ChronoscopeError(base.code, `importing ${where}: ${base.message}`, {
          ...base.details,
          file: f,
          summary: finish(summary, started),
        });
      };

      let batch: Pending[] = [];
      const source = lines.batches();
      try {
        while (true) {
          let next: IteratorResult<LineItem[]>;
          try {
            next = await source.next();
          } catch (err) {
            // A damaged gzip stream: the lines before the damage are good, the rest is unreadable.
            if (!isChronoscopeError(err, 'CORRUPT')) throw err;
            fsum.error = { code: err.code, message: err.message };
            summary.failedFiles++;
            break;
          }
          if (next.done) break;
          if (options.signal?.aborted) throw cancelled();
          for (const it of next.value) {
            const p = toPending(it, mapper, quarantine);
            if (p) batch.push(p);
            if (batch.length >= batchSize) {
              await flush(batch);
              batch = [];
            }
          }
          await qfile?.flush(false);
        }
        await flush(batch, true);
      } finally {
        // A batch still in flight when the import stops early (cancel, damage) settles first.
        await inFlight?.catch(() => {});
        await source.return(undefined); // closes the file when we stop early
      }
      syncCounts();
    }
  } finally {
    await qfile?.close();
  }
  return finish(summary, started);
}

/** Appends one batch; if the store still rejects an event, retries one by one so only culprits are quarantined. */
export async function appendBatch(
  target: ImportTarget,
  batch: Pending[],
  account: (r: AppendResult) => void,
  quarantine: Quarantine,
  failure: (err: unknown, batch: Pending[]) => Error,
): Promise<void> {
  // An id already used by another stream or type is the line's fault, like an invalid event: quarantine it.
  const lineFault = (err: unknown): err is ChronoscopeError =>
    isChronoscopeError(err, 'INVALID_EVENT') || isChronoscopeError(err, 'DUPLICATE_ID');
  try {
    const events = batch.map((p) => p.event);
    account(
      await (target.appendNormalised
        ? target.appendNormalised(events)
        : target.append(events.map(plainEvent))),
    );
    return;
  } catch (err) {
    if (!lineFault(err)) throw failure(err, batch);
  }
  for (const p of batch) {
    try {
      account(await target.append([plainEvent(p.event)]));
    } catch (err) {
      if (!lineFault(err)) throw failure(err, [p]);
      quarantine(p.lineNo, err.message, p.raw);
    }
  }
}

/** Mappers with a one-pass reader for their usual lines, giving the same events (see camelFast). */
const FAST_LINE = new Map<Mapper, (line: string) => NormalisedEvent | undefined>([
  [mapCamel, encodeCamelLine],
]);

/** One line item → a validated pending event, or undefined after quarantining it. */
export function toPending(it: LineItem, mapper: Mapper, quarantine: Quarantine): Pending | undefined {
  if (it.kind === 'oversized') {
    const why = `line of ${it.bytes} bytes exceeds the maximum line length`;
    quarantine(it.lineNo, why, it.head, { truncated: true, bytes: it.bytes, byteOffset: it.byteOffset });
    return undefined;
  }
  if (it.kind === 'malformed') {
    const extra = { rawBase64: it.raw.toString('base64'), byteOffset: it.byteOffset };
    quarantine(it.lineNo, it.reason, it.raw.toString('utf8'), extra);
    return undefined;
  }
  // The usual line of a format with a one-pass reader; anything it does not take goes on below.
  const fast = FAST_LINE.get(mapper)?.(it.line);
  if (fast) return { event: fast, lineNo: it.lineNo, raw: it.line };
  let rec: unknown;
  try {
    rec = JSON.parse(it.line);
  } catch (err) {
    quarantine(it.lineNo, `invalid JSON: ${(err as Error).message}`, it.line);
    return undefined;
  }
  if (!isRecord(rec)) {
    quarantine(
      it.lineNo,
      `not a JSON object (${rec === null ? 'null' : Array.isArray(rec) ? 'array' : typeof rec})`,
      it.line,
    );
    return undefined;
  }
  try {
    // The record is this line's own parse, so the event may keep its objects (no copy).
    return { event: normaliseOwnedEvent(mapper(rec)), lineNo: it.lineNo, raw: it.line };
  } catch (err) {
    quarantine(it.lineNo, err instanceof Error ? err.message : String(err), it.line);
    return undefined;
  }
}

function progressOf(reader: LineReader, fsum: FileImportSummary): Omit<ImportProgress, 'file'> {
  const { bytesRead, bytesTotal, lines } = reader.stats;
  return { bytesRead, bytesTotal, lines, imported: fsum.imported, quarantined: fsum.quarantined };
}

function finish(summary: ImportSummary, started: number): ImportSummary {
  const total = emptyCounts();
  for (const f of summary.files)
    for (const k of Object.keys(total) as (keyof ImportCounts)[]) total[k] += f[k];
  Object.assign(summary, total, { elapsedMs: Date.now() - started });
  return summary;
}
