import { closeSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonValue } from '../../src/shared/event';
import { containsText } from '../../src/shared/query';
import { duBytes, type PageQuery, type Subject } from '../subject';
import type { BenchEvent } from '../workload';

const CHUNK = 4 << 20;

/**
 * Calls `accept` on candidate lines of a JSONL file, front to back, until `limit` are accepted.
 * With a needle only lines containing it are candidates (a grep-like linear scan, the best a
 * plain file allows); `lower` lower-cases each chunk first for case-insensitive needles.
 */
export function scanLines(
  path: string,
  needle: string | undefined,
  accept: (line: string) => boolean,
  limit = Infinity,
  lower = false,
): number {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(CHUNK);
  let pos = 0;
  let found = 0;
  try {
    while (found < limit) {
      const n = readSync(fd, buf, 0, CHUNK, pos);
      if (n === 0) break;
      const end = buf.subarray(0, n).lastIndexOf(10);
      if (end < 0) throw new Error(`line longer than ${CHUNK} bytes at ${pos}`);
      pos += end + 1;
      const text = buf.toString('utf8', 0, end + 1);
      const hay = lower ? text.toLowerCase() : text;
      if (needle === undefined) {
        for (let s = 0; s < text.length && found < limit;) {
          const e = text.indexOf('\n', s);
          if (accept(text.slice(s, e))) found++;
          s = e + 1;
        }
        continue;
      }
      for (let at = hay.indexOf(needle); at >= 0 && found < limit;) {
        const s = text.lastIndexOf('\n', at) + 1;
        const e = text.indexOf('\n', at);
        if (accept(text.slice(s, e))) found++;
        at = hay.indexOf(needle, e);
      }
    }
  } finally {
    closeSync(fd);
  }
  return found;
}

const field = (name: string, value: string) => `"${name}":${JSON.stringify(value)}`;

/** Baseline `naive`: one JSONL file, fsync per batch, every query a linear scan. */
export class NaiveSubject implements Subject {
  readonly name = 'naive' as const;
  readonly #path: string;
  readonly #fd: number;

  constructor(readonly dir: string) {
    this.#path = join(dir, 'events.jsonl');
    this.#fd = openSync(this.#path, 'a');
  }

  async append(batch: BenchEvent[]): Promise<void> {
    writeSync(this.#fd, batch.map((e) => JSON.stringify(e)).join('\n') + '\n');
    fsyncSync(this.#fd);
  }
  async settle(): Promise<void> {}

  async getById(id: string): Promise<number> {
    return scanLines(this.#path, field('id', id), (l) => (JSON.parse(l) as BenchEvent).id === id, 1);
  }
  async readStream(stream: string): Promise<number> {
    const parse = (l: string) => (JSON.parse(l) as BenchEvent).stream === stream;
    return scanLines(this.#path, field('stream', stream), parse);
  }
  async page(q: PageQuery): Promise<number> {
    const ok = (pred: (e: BenchEvent) => boolean) => (l: string) => pred(JSON.parse(l) as BenchEvent);
    switch (q.kind) {
      case 'type':
        return scanLines(
          this.#path,
          field('type', q.type),
          ok((e) => e.type === q.type),
          100,
        );
      case 'actor':
        return scanLines(
          this.#path,
          field('actor', q.actor),
          ok((e) => e.actor === q.actor),
          100,
        );
      case 'correlation': {
        const c = q.correlationId;
        return scanLines(
          this.#path,
          field('correlationId', c),
          ok((e) => e.correlationId === c),
          100,
        );
      }
      case 'type-tenant': {
        const pred = ok((e) => e.type === q.type && e.tenant === q.tenant);
        return scanLines(this.#path, field('type', q.type), pred, 100);
      }
      case 'time': {
        const timeOf = (l: string) => {
          const at = l.indexOf('"time":"') + 8;
          return l.slice(at, at + 24);
        };
        return scanLines(this.#path, undefined, (l) => timeOf(l) >= q.since && timeOf(l) < q.until, 100);
      }
    }
  }
  async search(word: string, limit?: number): Promise<number> {
    const needle = word.toLowerCase();
    const hit = (l: string) => containsText((JSON.parse(l) as { data: JsonValue }).data, needle);
    return scanLines(this.#path, needle, hit, limit, true);
  }
  async diskBytes(): Promise<number> {
    return duBytes(this.#path);
  }
  async close(): Promise<void> {
    closeSync(this.#fd);
  }
}
