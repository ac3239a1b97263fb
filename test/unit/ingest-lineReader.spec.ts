import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isChronoscopeError } from '../../src/shared/errors';
import {
  emptyLineStats,
  isGzipFile,
  LineReader,
  splitLines,
  type LineItem,
} from '../../src/main/engine/ingest/lineReader';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chronoscope-lines-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function readAll(path: string, options?: ConstructorParameters<typeof LineReader>[1]) {
  const reader = new LineReader(path, options);
  const items: LineItem[] = [];
  for await (const it of reader) items.push(it);
  return { items, stats: reader.stats };
}

async function* chunked(buf: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let pos = 0;
  for (let i = 0; pos < buf.length; i++) {
    const n = Math.max(1, sizes[i % sizes.length] ?? 1);
    yield buf.subarray(pos, pos + n);
    pos += n;
  }
}

describe('line reader', () => {
  it('numbers lines from 1, skips blank lines but counts them, and keeps their byte offsets', async () => {
    const path = await fileWith('basic.jsonl', '{"a":1}\n\n   \n{"b":2}\n');
    const { items, stats } = await readAll(path);
    expect(items).toEqual([
      { kind: 'line', line: '{"a":1}', lineNo: 1, byteOffset: 0 },
      { kind: 'line', line: '{"b":2}', lineNo: 4, byteOffset: 13 },
    ]);
    expect(stats).toMatchObject({ lines: 4, blank: 2, gzip: false, bytesRead: 21, bytesTotal: 21 });
  });

  it('strips CRLF and a UTF-8 BOM, and reads a final line without a newline', async () => {
    const path = await fileWith('crlf.jsonl', Buffer.from('\uFEFF{"a":1}\r\n{"b":"é"}', 'utf8'));
    const { items, stats } = await readAll(path);
    expect(items.map((i) => (i.kind === 'line' ? i.line : i.kind))).toEqual(['{"a":1}', '{"b":"é"}']);
    expect(stats.lines).toBe(2);
  });

  it('gzip input is detected by magic bytes, not by its name', async () => {
    const text = '{"a":1}\n{"a":2}\n';
    const gzNamedPlain = await fileWith('plain.jsonl.gz', text);
    const plainNamedGz = await fileWith('compressed.jsonl', gzipSync(text));
    expect(await isGzipFile(gzNamedPlain)).toBe(false);
    expect(await isGzipFile(plainNamedGz)).toBe(true);
    for (const path of [gzNamedPlain, plainNamedGz]) {
      const { items } = await readAll(path);
      expect(items.map((i) => i.kind === 'line' && i.line)).toEqual(['{"a":1}', '{"a":2}']);
    }
    const { stats } = await readAll(plainNamedGz);
    expect(stats.gzip).toBe(true);
    expect(stats.bytesRead).toBe(stats.bytesTotal); // compressed bytes, for progress
  });

  it('reads concatenated gzip members as one stream, even when a line spans two members', async () => {
    const path = await fileWith(
      'members.jsonl.gz',
      Buffer.concat([gzipSync('{"a":1}\n{"a"'), gzipSync(':2}\n{"a":3}')]),
    );
    const { items } = await readAll(path);
    expect(items.map((i) => i.kind === 'line' && i.line)).toEqual(['{"a":1}', '{"a":2}', '{"a":3}']);
  });

  it('a truncated gzip file fails with CORRUPT naming the file, after yielding the lines before the damage', async () => {
    const full = gzipSync(
      Array.from({ length: 20000 }, (_, i) => `{"n":${i},"pad":"${'x'.repeat(i % 50)}"}`).join('\n'),
    );
    const path = await fileWith('torn.jsonl.gz', full.subarray(0, Math.floor(full.length / 2)));
    const seen: LineItem[] = [];
    const err = await (async () => {
      for await (const it of new LineReader(path)) seen.push(it);
    })().catch((e: unknown) => e);
    expect(isChronoscopeError(err, 'CORRUPT')).toBe(true);
    expect((err as Error).message).toContain(path);
    expect(seen.length).toBeGreaterThan(0);
  });

  it('reports invalid UTF-8 as a malformed line with its number, and carries on', async () => {
    const bad = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const path = await fileWith(
      'latin.jsonl',
      Buffer.concat([Buffer.from('{"a":1}\n'), bad, Buffer.from('\n{"a":3}\n')]),
    );
    const { items } = await readAll(path);
    expect(items[1]).toMatchObject({ kind: 'malformed', lineNo: 2, reason: 'invalid UTF-8', byteOffset: 8 });
    expect(items[1]!.kind === 'malformed' && items[1]!.raw.equals(bad)).toBe(true);
    expect(items[2]).toMatchObject({ kind: 'line', line: '{"a":3}', lineNo: 3 });
  });

  it('a 20 MB line is reported as oversized without buffering it', async () => {
    const path = join(dir, 'huge.jsonl');
    const out = createWriteStream(path);
    out.write('{"before":1}\n{"big":"');
    const block = 'y'.repeat(1024 * 1024);
    for (let i = 0; i < 20; i++) out.write(block);
    out.write('"}\n{"after":1}');
    await new Promise((resolve) => out.end(resolve));
    const maxLineBytes = 4 * 1024 * 1024;
    const { items, stats } = await readAll(path, { maxLineBytes });
    expect(items[0]).toMatchObject({ kind: 'line', lineNo: 1 });
    expect(items[1]).toMatchObject({
      kind: 'oversized',
      lineNo: 2,
      bytes: 20 * 1024 * 1024 + 10,
      byteOffset: 13,
    });
    expect(items[1]!.kind === 'oversized' && items[1]!.head.startsWith('{"big":"yyy')).toBe(true);
    expect(items[1]!.kind === 'oversized' && items[1]!.head.length).toBe(1024);
    expect(items[2]).toMatchObject({ kind: 'line', line: '{"after":1}', lineNo: 3 });
    expect(stats.peakBufferedBytes).toBeLessThanOrEqual(maxLineBytes);
  });

  it('an oversized last line without a newline is still reported', async () => {
    const path = await fileWith('tail.jsonl', `{"a":1}\n${'z'.repeat(100)}`);
    const { items } = await readAll(path, { maxLineBytes: 50 });
    expect(items[1]).toMatchObject({ kind: 'oversized', lineNo: 2, bytes: 100 });
  });

  it('splits any text into the same lines whatever the chunk boundaries (property)', async () => {
    const lineArb = fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => s.replace(/[\r\n\uFEFF]/g, ''));
    await fc.assert(
      fc.asyncProperty(
        fc.array(lineArb, { maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        fc.boolean(),
        async (lines, sizes, crlf, finalNewline) => {
          const text = lines.join(crlf ? '\r\n' : '\n') + (finalNewline && lines.length ? '\n' : '');
          const stats = emptyLineStats();
          const got: string[] = [];
          for await (const batch of splitLines(chunked(Buffer.from(text, 'utf8'), sizes), stats)) {
            for (const it of batch) got.push(it.kind === 'line' ? it.line : `!${it.kind}`);
          }
          expect(got).toEqual(lines.filter((l) => l.trim() !== ''));
          const nonEmptyTail = lines.length > 0 && (finalNewline || lines[lines.length - 1] !== '');
          expect(stats.lines).toBe(nonEmptyTail ? lines.length : Math.max(0, lines.length - 1));
        },
      ),
      { numRuns: 300 },
    );
  });
});
