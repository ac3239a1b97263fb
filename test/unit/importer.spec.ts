import { createWriteStream } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChronoscopeError, isChronoscopeError } from '../../src/shared/errors';
import {
  normaliseEvent,
  type EventInput,
  type NormalisedEvent,
  type StoredEvent,
} from '../../src/shared/event';
import type { AppendResult } from '../../src/main/engine/types';
import { importFiles, truncateUtf8, type ImportSummary } from '../../src/main/engine/ingest/importer';

const FIXTURES = join(import.meta.dirname, '../fixtures/import');

/** A stand-in store: validates like the real ones, dedupes by id, records each append call's size. */
function memoryTarget(reject?: (e: NormalisedEvent) => Error | undefined) {
  const events: StoredEvent[] = [];
  const byId = new Map<string, StoredEvent>();
  const versions = new Map<string, number>();
  const calls: number[] = [];
  return {
    events,
    calls,
    async append(inputs: EventInput[]): Promise<AppendResult> {
      calls.push(inputs.length);
      const norm = inputs.map((i) => normaliseEvent(i));
      for (const e of norm) {
        const err = reject?.(e);
        if (err) throw err;
      }
      const out: StoredEvent[] = [];
      let appended = 0;
      for (const e of norm) {
        const existing = byId.get(e.id);
        if (existing) {
          out.push(existing);
          continue;
        }
        const version = (versions.get(e.stream) ?? 0) + 1;
        versions.set(e.stream, version);
        const stored: StoredEvent = {
          ...e,
          seq: events.length + 1,
          version,
          recordedAt: new Date().toISOString(),
        };
        events.push(stored);
        byId.set(e.id, stored);
        out.push(stored);
        appended++;
      }
      return { events: out, appended, duplicates: norm.length - appended, lastSeq: events.length };
    },
  };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chronoscope-import-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fixture = (name: string) => join(FIXTURES, name);
const camelLine = (i: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    eventType: 'OrderPlaced',
    timestamp: 1714557600000 + i,
    actorId: 'u',
    correlationId: 'c',
    payload: { orderId: String(i % 7), n: i },
    metadata: {},
    ...extra,
  });
async function camelFile(name: string, n: number, gzip = false): Promise<string> {
  const text = Array.from({ length: n }, (_, i) => camelLine(i)).join('\n') + '\n';
  const path = join(dir, name);
  await writeFile(path, gzip ? gzipSync(text) : text);
  return path;
}
const balanced = (s: ImportSummary) => s.lines === s.blank + s.imported + s.duplicates + s.quarantined;

describe('importFiles', () => {
  it('imports every known format, detecting each file on its own', async () => {
    const target = memoryTarget();
    const files = ['native.jsonl', 'cloudevents.jsonl', 'snake.jsonl', 'camel.jsonl'].map(fixture);
    const s = await importFiles(target, files);
    expect(s.files.map((f) => [f.format, f.imported, f.quarantined])).toEqual([
      ['native', 3, 0],
      ['cloudevents', 3, 0],
      ['snake', 3, 0],
      ['camel', 4, 0],
    ]);
    expect(s).toMatchObject({ lines: 13, imported: 13, quarantined: 0, failedFiles: 0 });
    expect(target.events.find((e) => e.id === 'e-1')).toMatchObject({ stream: 'Order-17', actor: 'user-1' });
  });

  it('a malformed line is quarantined with its file and line number, never dropped', async () => {
    const file = fixture('mixed-bad.jsonl');
    const s = await importFiles(memoryTarget(), [file]);
    expect(s).toMatchObject({ lines: 7, blank: 1, imported: 2, quarantined: 4 });
    expect(balanced(s)).toBe(true);
    expect(s.quarantine.map((q) => [q.file, q.line])).toEqual([
      [file, 3],
      [file, 4],
      [file, 5],
      [file, 6],
    ]);
    expect(s.quarantine[0]!.reason).toMatch(/^invalid JSON/);
    expect(s.quarantine[1]!.reason).toBe('not a JSON object (array)');
    expect(s.quarantine[2]!.reason).toMatch(/eventType \(→ type\): missing/);
    expect(s.quarantine[3]!.reason).toMatch(/timestamp \(→ time\)/);
    expect(s.quarantine[3]!.raw).toContain('"yesterday"');
  });

  it('writes the full quarantined lines to a 0600 JSONL file, appending across runs', async () => {
    const quarantinePath = join(dir, 'quarantine.jsonl');
    const big = join(dir, 'big.jsonl');
    await writeFile(big, `${camelLine(1)}\n{"broken": "${'x'.repeat(5000)}\n`);
    const s = await importFiles(memoryTarget(), [big], { quarantinePath });
    expect(s.quarantine[0]!.raw.endsWith('…')).toBe(true);
    expect(Buffer.byteLength(s.quarantine[0]!.raw)).toBeLessThanOrEqual(1024);
    await importFiles(memoryTarget(), [fixture('mixed-bad.jsonl')], { quarantinePath });
    const lines = (await readFile(quarantinePath, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatchObject({ file: big, line: 2, raw: `{"broken": "${'x'.repeat(5000)}` });
    expect(lines[1]).toMatchObject({ line: 3 });
    expect((await stat(quarantinePath)).mode & 0o777).toBe(0o600);
  });

  it('keeps only the first 100 quarantine records in the summary but counts them all', async () => {
    const path = join(dir, 'junk.jsonl');
    await writeFile(path, Array.from({ length: 250 }, (_, i) => `junk ${i}`).join('\n'));
    const s = await importFiles(memoryTarget(), [path], { format: 'camel' });
    expect(s.quarantined).toBe(250);
    expect(s.quarantine).toHaveLength(100);
    expect(s.quarantine[99]!.line).toBe(100);
  });

  it('appends in batches and counts re-imported events as duplicates', async () => {
    const path = await camelFile('many.jsonl', 2500);
    const target = memoryTarget();
    const first = await importFiles(target, [path], { batchSize: 1000 });
    expect(target.calls).toEqual([1000, 1000, 500]);
    expect(first).toMatchObject({ imported: 2500, duplicates: 0 });
    const again = await importFiles(target, [path]);
    expect(again).toMatchObject({ imported: 0, duplicates: 2500 });
    expect(target.events).toHaveLength(2500);
    expect(new Set(target.events.map((e) => e.stream))).toEqual(
      new Set(['0', '1', '2', '3', '4', '5', '6'].map((n) => `Order-${n}`)),
    );
  });

  it('when the store rejects a batch with INVALID_EVENT, only the culprit lines are quarantined', async () => {
    const path = join(dir, 'poison.jsonl');
    await writeFile(path, [camelLine(1), camelLine(2, { eventType: 'Poison' }), camelLine(3)].join('\n'));
    const target = memoryTarget((e) =>
      e.type === 'Poison'
        ? new ChronoscopeError('INVALID_EVENT', 'field type: Poison is reserved')
        : undefined,
    );
    const s = await importFiles(target, [path]);
    expect(s).toMatchObject({ imported: 2, quarantined: 1 });
    expect(s.quarantine[0]).toMatchObject({ line: 2, reason: 'field type: Poison is reserved' });
  });

  it('a store failure aborts the import with its code, the lines it was appending and the partial summary', async () => {
    const path = await camelFile('ok.jsonl', 30);
    let n = 0;
    const target = memoryTarget(() => (++n > 10 ? new ChronoscopeError('NO_SPACE', 'disk full') : undefined));
    const err = await importFiles(target, [path], { batchSize: 10 }).catch((e: unknown) => e);
    expect(isChronoscopeError(err, 'NO_SPACE')).toBe(true);
    expect((err as Error).message).toBe(`importing lines 11–20 of ${path}: disk full`);
    expect((err as ChronoscopeError).details?.summary).toMatchObject({ imported: 10 });
  });

  it('with a batch in flight while the next is parsed, nothing after a failed batch is appended and order holds', async () => {
    const path = await camelFile('ok.jsonl', 50);
    let n = 0;
    const target = memoryTarget(() => (++n > 20 ? new ChronoscopeError('NO_SPACE', 'disk full') : undefined));
    const err = await importFiles(target, [path], { batchSize: 10 }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`importing lines 21–30 of ${path}: disk full`);
    // Batches 1 and 2 were stored, batch 3 failed, and no later batch was ever offered.
    expect(target.calls).toEqual([10, 10, 10]);
    expect(target.events.map((e) => (e.data as { n: number }).n)).toEqual([...Array(20).keys()]);
  });

  it('a store reporting CORRUPT aborts the import rather than passing for a damaged input file', async () => {
    const path = await camelFile('ok.jsonl', 5);
    const target = memoryTarget(() => new ChronoscopeError('CORRUPT', 'segment 7 is damaged'));
    const err = await importFiles(target, [path]).catch((e: unknown) => e);
    expect(isChronoscopeError(err, 'CORRUPT')).toBe(true);
    expect((err as Error).message).toBe(`importing lines 1–5 of ${path}: segment 7 is damaged`);
  });

  it('is cancelled by an AbortSignal with CANCELLED, keeping what was already appended', async () => {
    const path = await camelFile('long.jsonl', 5000);
    const ctl = new AbortController();
    const target = memoryTarget();
    const err = await importFiles(target, [path], {
      batchSize: 500,
      signal: ctl.signal,
      onProgress: (p) => p.imported >= 1000 && ctl.abort(),
    }).catch((e: unknown) => e);
    expect(isChronoscopeError(err, 'CANCELLED')).toBe(true);
    expect(target.events).toHaveLength(1000);
    expect((err as ChronoscopeError).details?.summary).toMatchObject({ imported: 1000 });
  });

  it('reports progress in compressed bytes, reaching the file size', async () => {
    const path = await camelFile('progress.jsonl.gz', 3000, true);
    const seen: number[] = [];
    const s = await importFiles(memoryTarget(), [path], {
      batchSize: 1000,
      onProgress: (p) => seen.push(p.bytesRead),
    });
    expect(s.imported).toBe(3000);
    expect(seen.at(-1)).toBe((await stat(path)).size);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });

  it('a damaged gzip file keeps the lines before the damage, is reported, and the next file still imports', async () => {
    const good = await camelFile('good.jsonl.gz', 20000, true);
    const torn = join(dir, 'torn.jsonl.gz');
    const bytes = await readFile(good);
    await writeFile(torn, bytes.subarray(0, bytes.length >> 1));
    const other = join(dir, 'other.jsonl');
    await copyFile(fixture('snake.jsonl'), other);
    const s = await importFiles(memoryTarget(), [torn, other]);
    expect(s.files[0]!.error?.code).toBe('CORRUPT');
    expect(s.files[0]!.imported).toBeGreaterThan(0);
    expect(s.files[0]!.imported).toBe(s.files[0]!.lines);
    expect(s.files[1]).toMatchObject({ format: 'snake', imported: 3 });
    expect(s.failedFiles).toBe(1);
  });

  it('a file whose format cannot be detected is reported and skipped; the others import', async () => {
    const odd = join(dir, 'odd.jsonl');
    await writeFile(odd, '{"kind":"x","ts":1}\n');
    const s = await importFiles(memoryTarget(), [odd, fixture('camel.jsonl')]);
    expect(s.files[0]!.error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(s.files[0]!.error!.message).toContain('keys seen: kind, ts');
    expect(s.files[1]!.imported).toBe(4);
  });

  it('an explicit format overrides detection; a mapping is used for every file', async () => {
    const forced = await importFiles(memoryTarget(), [fixture('camel.jsonl')], { format: 'native' });
    expect(forced).toMatchObject({ imported: 0, quarantined: 4 });
    expect(forced.quarantine[0]!.reason).toBe('field stream: missing');
    const target = memoryTarget();
    const mapped = await importFiles(target, [fixture('mapping.jsonl')], {
      mapping: { type: 'kind', stream: '{entity.type}-{entity.id}', time: 'ts', data: 'body' },
    });
    expect(mapped.files[0]).toMatchObject({ format: 'mapping', imported: 2 });
    expect(target.events.map((e) => e.stream)).toEqual(['Order-17', 'Order-17']);
  });

  it('a bad mapping or a missing file fails before anything is imported', async () => {
    const target = memoryTarget();
    await expect(importFiles(target, [fixture('camel.jsonl')], { mapping: { type: 'k' } })).rejects.toThrow(
      'mapping.stream: is required',
    );
    const err = await importFiles(target, [fixture('camel.jsonl'), join(dir, 'nope.jsonl')]).catch(
      (e: unknown) => e,
    );
    expect(isChronoscopeError(err, 'IO_ERROR')).toBe(true);
    expect(target.calls).toEqual([]);
  });

  it('quarantines invalid UTF-8 and a 20 MB line (the default 16 MiB limit) with their line numbers', async () => {
    const path = join(dir, 'hostile.jsonl');
    const out = createWriteStream(path);
    out.write(`${camelLine(1)}\n`);
    out.write(Buffer.from([0x7b, 0xc3, 0x28, 0x7d, 0x0a]));
    out.write('{"eventType":"Big","payload":"');
    for (let i = 0; i < 20; i++) out.write('b'.repeat(1024 * 1024));
    out.write(`"}\n${camelLine(2)}\n`);
    await new Promise((resolve) => out.end(resolve));
    const quarantinePath = join(dir, 'q.jsonl');
    const s = await importFiles(memoryTarget(), [path], { quarantinePath });
    expect(s).toMatchObject({ lines: 4, imported: 2, quarantined: 2 });
    expect(s.quarantine.map((q) => [q.line, q.reason])).toEqual([
      [2, 'invalid UTF-8'],
      [3, `line of ${20 * 1024 * 1024 + 32} bytes exceeds the maximum line length`],
    ]);
    const [utf8, big] = (await readFile(quarantinePath, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(Buffer.from(utf8.rawBase64, 'base64')).toEqual(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]));
    expect(big).toMatchObject({ truncated: true, bytes: 20 * 1024 * 1024 + 32 });
  });

  it('never blocks the event loop for long', async () => {
    const path = await camelFile('loop.jsonl', 40000);
    let last = performance.now();
    let worst = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 5);
    await importFiles(memoryTarget(), [path]);
    clearInterval(timer);
    expect(worst).toBeLessThan(250);
  });

  it('truncateUtf8 cuts on a character boundary', () => {
    expect(truncateUtf8('abc', 1024)).toBe('abc');
    const cut = truncateUtf8('é'.repeat(1000), 1024);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(1024);
    expect(cut).toMatch(/^é+…$/);
  });
});
