import { isUtf8 } from 'node:buffer';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { ApiFollowedFile } from '../../../shared/api';
import { ChronoscopeError, fromIoError } from '../../../shared/errors';
import { detectFormat } from './detect';
import { mapperFor, type ImportFormat, type JsonRecord, type Mapper } from './formats';
import {
  appendBatch,
  toPending,
  truncateUtf8,
  type ImportTarget,
  type Pending,
  type QuarantineRecord,
} from './importer';
import { DEFAULT_MAX_LINE_BYTES } from './lineReader';

/** Bytes read per step: bounded, so a huge backlog is consumed in slices and the thread stays free. */
const READ_BYTES = 1 << 20;
/** A stat of every followed file this often, in case the watcher missed an event (network disks, renames). */
const POLL_MS = 1000;
const QUARANTINE_KEEP = 200;
/** Files a followed folder picks up: plain JSONL logs. Compressed ones are rotated copies — import those. */
const FOLLOWED_NAME = /\.(jsonl|ndjson|json|log)$/i;

export interface FollowOptions {
  format?: ImportFormat | 'auto';
  mapping?: unknown;
  maxLineBytes?: number;
  /** Called after each step that changed a count (lines read, rotation, error). */
  onUpdate?: (status: FollowStatus) => void;
}

/** One followed file's counters: the API's type, so hosts pass them on unchanged. */
export type FollowedFile = ApiFollowedFile;

export interface FollowStatus {
  path: string;
  kind: 'file' | 'folder';
  files: FollowedFile[];
  /** Newest quarantined lines (file, line, reason, start of the line), oldest first. */
  quarantine: QuarantineRecord[];
}

interface Tracked {
  info: FollowedFile;
  fh?: FileHandle;
  ino?: number;
  /** Lines of the current file so far (1-based numbering continues from here). */
  lineNo: number;
  /** Inside a line longer than the limit: its bytes are counted, not kept, until the next newline. */
  skipping: boolean;
  mapper?: Mapper;
  running?: Promise<void>;
  again: boolean;
}

/**
 * Live tail of an external JSONL file or folder into a store (DESIGN §2, §6): new complete lines
 * are mapped (format detected from the first lines, or given), appended, and bad ones quarantined
 * with file and line. Survives rotation (the old file is read to its end through the still-open
 * handle, then the new one from 0) and truncation (restart at 0). chokidar reports changes; a
 * one-second stat catches anything a watcher misses.
 */
export class Follower {
  readonly #root: string;
  readonly #kind: 'file' | 'folder';
  readonly #target: ImportTarget;
  readonly #options: FollowOptions;
  readonly #files = new Map<string, Tracked>();
  readonly #quarantine: QuarantineRecord[] = [];
  #watcher?: FSWatcher;
  #poll?: ReturnType<typeof setInterval>;
  #closed = false;

  private constructor(root: string, kind: 'file' | 'folder', target: ImportTarget, options: FollowOptions) {
    this.#root = root;
    this.#kind = kind;
    this.#target = target;
    this.#options = options;
  }

  /** Starts following: reads what the file(s) already hold, then every line that arrives. */
  static async start(path: string, target: ImportTarget, options: FollowOptions = {}): Promise<Follower> {
    if (path.includes('\0'))
      throw new ChronoscopeError('INVALID_ARGUMENT', 'path: contains a NUL byte', { field: 'path' });
    const root = resolve(path);
    const st = await stat(root).catch((e: unknown) =>
      Promise.reject(
        (e as NodeJS.ErrnoException).code === 'ENOENT'
          ? new ChronoscopeError('NOT_FOUND', `${root}: no such file or folder`, { field: 'path' })
          : fromIoError(e, `following ${root}`),
      ),
    );
    if (!st.isFile() && !st.isDirectory())
      throw new ChronoscopeError('INVALID_ARGUMENT', `${root}: not a file or a folder`, { field: 'path' });
    const f = new Follower(root, st.isDirectory() ? 'folder' : 'file', target, options);
    await f.#begin();
    return f;
  }

  async #begin(): Promise<void> {
    const dir = this.#kind === 'folder' ? this.#root : dirname(this.#root);
    const wanted = (p: string) =>
      this.#kind === 'folder' ? dirname(p) === this.#root && FOLLOWED_NAME.test(p) : p === this.#root;
    if (this.#kind === 'file') this.#track(this.#root);
    else
      for (const name of (await readdir(dir)).sort())
        if (wanted(join(dir, name))) this.#track(join(dir, name));
    // The parent folder is watched, not the file: a rotated file's successor is a new inode.
    this.#watcher = watch(dir, {
      depth: 0,
      ignoreInitial: true,
      ignored: (p: string) => p !== dir && !wanted(p),
    });
    const kick = (p: string) => {
      if (wanted(p)) this.#kick(this.#files.get(p) ?? this.#track(p));
    };
    this.#watcher.on('add', kick).on('change', kick).on('unlink', kick);
    this.#watcher.on('error', (err) => this.#fail(undefined, err));
    await new Promise<void>((ready) => this.#watcher!.once('ready', () => ready()));
    this.#poll = setInterval(() => {
      for (const t of this.#files.values()) this.#kick(t);
    }, POLL_MS);
    await Promise.all([...this.#files.values()].map((t) => this.#kick(t)));
  }

  #track(path: string): Tracked {
    const t: Tracked = {
      info: {
        path,
        offset: 0,
        lines: 0,
        imported: 0,
        duplicates: 0,
        quarantined: 0,
        rotations: 0,
        truncations: 0,
      },
      lineNo: 0,
      skipping: false,
      again: false,
    };
    this.#files.set(path, t);
    return t;
  }

  /** Runs one pump for the file, or marks that another is needed once the running one ends. */
  #kick(t: Tracked): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (t.running) {
      t.again = true;
      return t.running;
    }
    t.running = (async () => {
      do {
        t.again = false;
        try {
          await this.#pump(t);
        } catch (err) {
          this.#fail(t, err);
        }
      } while (t.again && !this.#closed);
    })().finally(() => {
      t.running = undefined;
    });
    return t.running;
  }

  async #pump(t: Tracked): Promise<void> {
    const st = await stat(t.info.path).catch(() => undefined);
    if (t.fh && (!st || st.ino !== t.ino)) {
      // Rotated or deleted: what was written to the old file before it went is still ours to read.
      await this.#drain(t, t.fh);
      await t.fh.close();
      t.fh = undefined;
      if (!st) return void (t.info.error = 'the file is gone; waiting for it to reappear');
      t.info.rotations++;
      this.#restart(t);
    }
    if (!st) {
      t.info.error = 'the file does not exist (yet); waiting for it';
      return;
    }
    if (!t.fh) {
      t.fh = await open(t.info.path, 'r');
      t.ino = st.ino;
    } else if (st.size < t.info.offset) {
      t.info.truncations++;
      this.#restart(t);
    }
    delete t.info.error;
    await this.#drain(t, t.fh);
  }

  #restart(t: Tracked): void {
    t.info.offset = 0;
    t.lineNo = 0;
    t.skipping = false;
    t.mapper = undefined;
    delete t.info.format;
  }

  /** Reads complete lines from the handle until its end; a trailing partial line waits for its newline. */
  async #drain(t: Tracked, fh: FileHandle): Promise<void> {
    const max = this.#options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    for (;;) {
      if (this.#closed) return;
      const size = (await fh.stat()).size;
      if (size <= t.info.offset) return;
      const want = Math.min(READ_BYTES, size - t.info.offset);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(buf, 0, want, t.info.offset);
      if (bytesRead === 0) return;
      const chunk = buf.subarray(0, bytesRead);
      const nl = chunk.lastIndexOf(0x0a);
      if (nl < 0) {
        if (size - t.info.offset <= max && !t.skipping) return; // a line still being written
        // Longer than any line we keep: quarantine its head once, then skip to its newline.
        if (!t.skipping) {
          t.lineNo++;
          t.info.lines++;
          this.#quarantineLine(t, t.lineNo, `line longer than ${max} bytes`, chunk.toString('utf8', 0, 1024));
          t.skipping = true;
        }
        t.info.offset += bytesRead;
        continue;
      }
      await this.#lines(t, chunk.subarray(0, nl + 1), t.info.offset);
      t.info.offset += nl + 1;
      this.#options.onUpdate?.(this.status());
    }
  }

  async #lines(t: Tracked, bytes: Buffer, base: number): Promise<void> {
    const batch: Pending[] = [];
    const records: { lineNo: number; line: string; byteOffset: number }[] = [];
    let start = 0;
    while (start < bytes.length) {
      const end = bytes.indexOf(0x0a, start);
      let line = bytes.subarray(start, end);
      const byteOffset = base + start;
      start = end + 1;
      if (t.skipping) {
        t.skipping = false; // this newline ends the oversized line
        continue;
      }
      t.lineNo++;
      t.info.lines++;
      if (line.length && line[line.length - 1] === 0x0d) line = line.subarray(0, -1);
      if (t.lineNo === 1 && line[0] === 0xef && line[1] === 0xbb && line[2] === 0xbf) line = line.subarray(3);
      if (line.length === 0 || /^\s*$/.test(line.toString('latin1'))) continue;
      if (!isUtf8(line)) {
        this.#quarantineLine(t, t.lineNo, 'invalid UTF-8', line.toString('utf8'));
        continue;
      }
      records.push({ lineNo: t.lineNo, line: line.toString('utf8'), byteOffset });
    }
    if (!t.mapper) t.mapper = this.#detect(t, records);
    const quarantine = (lineNo: number, reason: string, raw: string) =>
      this.#quarantineLine(t, lineNo, reason, raw);
    for (const r of records) {
      if (!t.mapper) {
        quarantine(r.lineNo, t.info.error ?? 'format not recognised', r.line);
        continue;
      }
      const p = toPending({ kind: 'line', ...r }, t.mapper, quarantine);
      if (p) batch.push(p);
    }
    for (let i = 0; i < batch.length; i += 1000) {
      const slice = batch.slice(i, i + 1000);
      await appendBatch(
        this.#target,
        slice,
        (res) => {
          t.info.imported += res.appended;
          t.info.duplicates += res.duplicates;
        },
        quarantine,
        (err) => (err instanceof Error ? err : new Error(String(err))),
      );
    }
  }

  /** The mapper for this file: the one asked for, or the format most of these first lines fit. */
  #detect(t: Tracked, lines: { line: string }[]): Mapper | undefined {
    const format = this.#options.mapping !== undefined ? 'mapping' : (this.#options.format ?? 'auto');
    if (format !== 'auto') {
      t.info.format = format;
      return mapperFor(format, this.#options.mapping);
    }
    const objects: JsonRecord[] = [];
    for (const { line } of lines.slice(0, 50)) {
      try {
        const v: unknown = JSON.parse(line);
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) objects.push(v as JsonRecord);
      } catch {
        // not JSON: quarantined by toPending once a format is known
      }
    }
    if (objects.length === 0) return undefined;
    try {
      const d = detectFormat(objects);
      t.info.format = d.format;
      delete t.info.error;
      return mapperFor(d.format);
    } catch (err) {
      t.info.error = `${basename(t.info.path)}: ${(err as Error).message}`;
      return undefined;
    }
  }

  #quarantineLine(t: Tracked, line: number, reason: string, raw: string): void {
    t.info.quarantined++;
    this.#quarantine.push({ file: t.info.path, line, reason, raw: truncateUtf8(raw, 1024) });
    if (this.#quarantine.length > QUARANTINE_KEEP) this.#quarantine.shift();
  }

  #fail(t: Tracked | undefined, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (t) t.info.error = message;
    this.#options.onUpdate?.(this.status());
  }

  status(): FollowStatus {
    return {
      path: this.#root,
      kind: this.#kind,
      files: [...this.#files.values()].map((t) => ({ ...t.info })),
      quarantine: [...this.#quarantine],
    };
  }

  /** Waits for every pending read, so a caller (or a test) sees a settled state. */
  async settle(): Promise<void> {
    await Promise.all([...this.#files.values()].map((t) => this.#kick(t)));
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#poll);
    await this.#watcher?.close();
    await Promise.all([...this.#files.values()].map((t) => t.running));
    for (const t of this.#files.values()) await t.fh?.close().catch(() => {});
  }
}
