import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { DEFLATE_MEM_LEVEL, DEFLATE_STRATEGY, deflateRawInto } from '../../src/main/engine/file/rawDeflate';
import {
  BGZF_EOF,
  BgzfError,
  BgzfWriter,
  BlockCache,
  MAX_BLOCK_INPUT,
  encodeBlocks,
  encodeLineBuffer,
  hasEofMarker,
  iterateBlocks,
  iterateFileBlocks,
  makeVirtualOffset,
  readBlockAt,
  readRecord,
  scanFile,
  splitVirtualOffset,
} from '../../src/main/engine/file/bgzf';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chronoscope-bgzf-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function eventLines(n: number): string[] {
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      seq: i + 1,
      stream: `Order-${i % 97}`,
      type: 'ItemAdded',
      data: { sku: `S${i}`, qty: i % 7 },
    }),
  );
}

async function writeFile(lines: string[], opts?: Parameters<typeof encodeBlocks>[1]) {
  const enc = await encodeBlocks(lines, opts);
  const path = join(dir, 'seg.jsonl.gz');
  writeFileSync(path, enc.data);
  return { ...enc, path };
}

function withFd<T>(path: string, fn: (fd: number) => T): T {
  const fd = openSync(path, 'r');
  try {
    return fn(fd);
  } finally {
    closeSync(fd);
  }
}

function expectBgzfError(fn: () => unknown, offset: number): BgzfError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BgzfError);
    expect((e as BgzfError).offset).toBe(offset);
    expect((e as BgzfError).message).toContain(`offset ${offset}`);
    return e as BgzfError;
  }
  throw new Error('expected a BgzfError');
}

describe('virtual offsets', () => {
  it('pack block offset and in-block offset as blockOffset * 65536 + inBlock and split back', () => {
    const voff = makeVirtualOffset(123_456_789, 65_535);
    expect(voff).toBe(123_456_789 * 65536 + 65_535);
    expect(splitVirtualOffset(voff)).toEqual({ blockOffset: 123_456_789, inBlock: 65_535 });
    const max = makeVirtualOffset(2 ** 37 - 1, 65_535);
    expect(Number.isSafeInteger(max)).toBe(true);
    expect(splitVirtualOffset(max)).toEqual({ blockOffset: 2 ** 37 - 1, inBlock: 65_535 });
  });

  it('reject offsets that would lose precision or overflow 16 bits', () => {
    expect(() => makeVirtualOffset(2 ** 37, 0)).toThrow(RangeError);
    expect(() => makeVirtualOffset(0, 65_536)).toThrow(RangeError);
    expect(() => makeVirtualOffset(-1, 0)).toThrow(RangeError);
    expect(() => splitVirtualOffset(2 ** 53)).toThrow(RangeError);
  });
});

describe('encodeBlocks and reading back', () => {
  it('round-trips many lines through iterateBlocks in order', async () => {
    const lines = eventLines(20_000);
    const enc = await encodeBlocks(lines);
    expect(enc.blocks.length).toBeGreaterThan(1);
    const parts: Buffer[] = [];
    const entries = [...iterateBlocks(enc.data)];
    for (const e of entries) parts.push(e.data);
    expect(Buffer.concat(parts).toString()).toBe(lines.join('\n') + '\n');
    expect(entries.at(-1)?.eofMarker).toBe(true);
    expect(entries.slice(0, -1).every((e) => !e.eofMarker)).toBe(true);
  });

  it('reads every record by its virtual offset', async () => {
    const lines = eventLines(5_000);
    const { path, records } = await writeFile(lines, { level: 1 });
    expect(records).toHaveLength(lines.length);
    withFd(path, (fd) => {
      records.forEach((r, i) => expect(readRecord(fd, r.voff, r.length).toString()).toBe(lines[i]));
    });
  });

  it('never splits a line that fits in a block: each record lies inside one block', async () => {
    const lines = eventLines(3_000);
    const { records, blocks } = await encodeBlocks(lines, { blockInputCap: 4096 });
    const byOffset = new Map(blocks.map((b) => [b.offset, b]));
    for (const r of records) {
      const { blockOffset, inBlock } = splitVirtualOffset(r.voff);
      expect(inBlock + r.length + 1).toBeLessThanOrEqual(byOffset.get(blockOffset)!.usize);
    }
  });

  it('a line longer than one block spans blocks and reads back whole', async () => {
    const big = JSON.stringify({ data: 'x'.repeat(3 * MAX_BLOCK_INPUT + 123) });
    const lines = ['{"a":1}', big, '{"b":2}', big.slice(0, -2) + '"}', '{"c":3}'];
    const { path, records, blocks } = await writeFile(lines);
    expect(blocks.length).toBeGreaterThanOrEqual(7);
    withFd(path, (fd) => {
      records.forEach((r, i) => expect(readRecord(fd, r.voff, r.length).toString()).toBe(lines[i]));
    });
    expect(execFileSync('gzip', ['-dc', path], { maxBuffer: 1 << 26 }).toString()).toBe(
      lines.join('\n') + '\n',
    );
  });

  it('stores unicode as UTF-8 and reports lengths in bytes', async () => {
    const lines = ['{"name":"Zoë"}', '{"emoji":"🧭⏳"}', '{"jp":"時間旅行"}', ''];
    const { path, records } = await writeFile(lines);
    expect(records.map((r) => r.length)).toEqual(lines.map((l) => Buffer.byteLength(l)));
    withFd(path, (fd) => {
      records.forEach((r, i) => expect(readRecord(fd, r.voff, r.length).toString('utf8')).toBe(lines[i]));
    });
  });

  it('accepts Buffer lines and rejects a line containing a newline', async () => {
    const enc = await encodeBlocks([Buffer.from('{"a":1}'), Buffer.from('{"b":2}')]);
    expect(Buffer.concat([...iterateBlocks(enc.data)].map((e) => e.data)).toString()).toBe(
      '{"a":1}\n{"b":2}\n',
    );
    await expect(encodeBlocks(['{"a":\n1}'])).rejects.toThrow(/newline/);
  });

  it('encodes empty input as just the 28-byte EOF marker', async () => {
    const { path, data, records, blocks } = await writeFile([]);
    expect(data.equals(BGZF_EOF)).toBe(true);
    expect(records).toEqual([]);
    expect(blocks).toEqual([]);
    expect(await scanFile(path)).toMatchObject({
      ok: true,
      blocks: 0,
      uncompressedBytes: 0,
      eofMarker: true,
    });
    expect(execFileSync('gzip', ['-dc', path]).length).toBe(0);
  });

  it('is readable by gzip -dc as concatenated members', async () => {
    const lines = eventLines(10_000);
    const { path } = await writeFile(lines, { level: 9 });
    const out = execFileSync('gzip', ['-dc', path], { maxBuffer: 1 << 26 }).toString();
    expect(out).toBe(lines.join('\n') + '\n');
    execFileSync('gzip', ['-t', path]);
  });

  it('writes each member with FEXTRA, the BC subfield and BSIZE = member size - 1', async () => {
    const { data, blocks } = await encodeBlocks(eventLines(2_000));
    for (const b of blocks) {
      const m = data.subarray(b.offset, b.offset + b.csize);
      expect([m[0], m[1], m[2], m[3]]).toEqual([0x1f, 0x8b, 8, 4]);
      expect(m.readUInt16LE(10)).toBe(6);
      expect([m[12], m[13], m.readUInt16LE(14)]).toEqual([66, 67, 2]);
      expect(m.readUInt16LE(16)).toBe(b.csize - 1);
      expect(m.readUInt32LE(b.csize - 4)).toBe(b.usize);
    }
    const last = blocks.at(-1)!;
    expect(data.subarray(last.offset + last.csize).equals(BGZF_EOF)).toBe(true);
  });

  it('compresses to the same bytes inline (one reused deflate handle) and on the threadpool', async () => {
    const noise = Array.from({ length: 6 }, () => randomBytes(30_000).toString('base64'));
    for (const lines of [eventLines(3_000), noise]) {
      for (const level of [1, 5, 9]) {
        const pooled = await encodeBlocks(lines, { level });
        const inline = await encodeBlocks(lines, { level, inline: true });
        expect(inline.data.equals(pooled.data)).toBe(true);
      }
    }
  });

  it('keeps every block within the input cap and 64 KiB on disk, even for incompressible data', async () => {
    const noise = Array.from({ length: 40 }, () => randomBytes(20_000).toString('base64'));
    for (const level of [0, 1, 9]) {
      const { blocks, data } = await encodeBlocks(noise, { level });
      for (const b of blocks) {
        expect(b.usize).toBeLessThanOrEqual(MAX_BLOCK_INPUT);
        expect(b.csize).toBeLessThanOrEqual(65536);
      }
      expect([...iterateBlocks(data)]).toHaveLength(blocks.length + 1);
    }
    const small = await encodeBlocks(eventLines(1_000), { blockInputCap: 1000 });
    expect(small.blocks.every((b) => b.usize <= 1000)).toBe(true);
  });

  it('encodeLineBuffer cuts a buffer of lines into exactly the blocks encodeBlocks makes of them', async () => {
    const sizes = [10, 90, 15, 40, 100, 7, 64, 250, 3, 31, 32, 33, 1];
    for (const cap of [16, 32, 64, 100]) {
      const lines = sizes.map((n, i) => Buffer.alloc(n, 97 + (i % 26)));
      const raw = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
      const starts: number[] = [];
      lines.reduce((u, l) => (starts.push(u), u + l.length + 1), 0);
      const a = await encodeBlocks(lines, { blockInputCap: cap, level: 1 });
      const b = await encodeLineBuffer(raw, starts, lines.length, raw.length, {
        blockInputCap: cap,
        level: 1,
      });
      expect(b.blocks).toEqual(a.blocks);
      expect(b.data.equals(a.data)).toBe(true);
    }
  });

  it('offsets blocks and virtual offsets by baseOffset so appended batches stay addressable', async () => {
    const first = await encodeBlocks(['{"a":1}'], { eof: false });
    const second = await encodeBlocks(['{"b":2}'], { baseOffset: first.data.length });
    expect(second.blocks[0].offset).toBe(first.data.length);
    const path = join(dir, 'two.gz');
    writeFileSync(path, Buffer.concat([first.data, second.data]));
    withFd(path, (fd) => expect(readRecord(fd, second.records[0].voff, 7).toString()).toBe('{"b":2}'));
  });
});

describe('damage detection', () => {
  it('detects a file truncated at a block boundary (EOF marker missing)', async () => {
    const { path, data } = await writeFile(eventLines(3_000));
    truncateSync(path, data.length - BGZF_EOF.length);
    const res = await scanFile(path);
    expect(res).toMatchObject({ ok: false, eofMarker: false });
    expect(res.error?.offset).toBe(data.length - BGZF_EOF.length);
    expect(res.error?.problem).toMatch(/EOF marker/);
    withFd(path, (fd) => expect(hasEofMarker(fd)).toBe(false));
  });

  it('detects a file truncated mid-block and names that block offset', async () => {
    const { path, blocks } = await writeFile(eventLines(3_000));
    const victim = blocks[2];
    truncateSync(path, victim.offset + 100);
    const res = await scanFile(path);
    expect(res).toMatchObject({ ok: false, blocks: 2, eofMarker: false });
    expect(res.error).toMatchObject({ offset: victim.offset });
    expect(res.error?.problem).toMatch(/truncated/);
    withFd(path, (fd) => expectBgzfError(() => readBlockAt(fd, victim.offset), victim.offset));
  });

  it('detects a flipped byte inside a block by CRC or inflate failure, naming the block', async () => {
    const { data, blocks } = await encodeBlocks(eventLines(3_000));
    const victim = blocks[1];
    for (const at of [victim.offset + 30, victim.offset + victim.csize - 6]) {
      const bad = Buffer.from(data);
      bad[at] ^= 0x40;
      const err = expectBgzfError(() => [...iterateBlocks(bad)], victim.offset);
      expect(err.problem).toMatch(/CRC32|inflate|ISIZE/);
      const path = join(dir, `flip-${at}.gz`);
      writeFileSync(path, bad);
      expect((await scanFile(path)).error?.offset).toBe(victim.offset);
      withFd(path, (fd) => expectBgzfError(() => [...iterateFileBlocks(fd)], victim.offset));
    }
  });

  it('rejects a plain gzip file that lacks the BC subfield', async () => {
    const path = join(dir, 'plain.gz');
    writeFileSync(path, execFileSync('gzip', ['-c'], { input: 'hello\n' }));
    const res = await scanFile(path);
    expect(res.ok).toBe(false);
    expect(res.error).toMatchObject({ offset: 0 });
  });

  it('scanFile accepts a healthy multi-MiB file and counts its bytes', async () => {
    const lines = eventLines(60_000);
    const { path, blocks } = await writeFile(lines, { level: 1 });
    const res = await scanFile(path);
    expect(res).toEqual({
      ok: true,
      blocks: blocks.length,
      uncompressedBytes: Buffer.byteLength(lines.join('\n') + '\n'),
      eofMarker: true,
    });
    withFd(path, (fd) => expect(hasEofMarker(fd)).toBe(true));
  });
});

describe('BgzfWriter', () => {
  it('streams batches into one file that zcat and readRecord both read', async () => {
    const path = join(dir, 'stream.gz');
    const fd = openSync(path, 'w+');
    const lines = eventLines(4_000);
    const writer = new BgzfWriter(fd, { level: 1 });
    const [a, b] = await Promise.all([writer.append(lines.slice(0, 1500)), writer.append(lines.slice(1500))]);
    const size = await writer.finish();
    closeSync(fd);
    expect(readFileSync(path).length).toBe(size);
    expect(execFileSync('gzip', ['-dc', path], { maxBuffer: 1 << 26 }).toString()).toBe(
      lines.join('\n') + '\n',
    );
    const records = [...a.records, ...b.records];
    withFd(path, (fd2) =>
      records.forEach((r, i) => expect(readRecord(fd2, r.voff, r.length).toString()).toBe(lines[i])),
    );
  });
});

describe('BlockCache', () => {
  const entry = (n: number) => ({ block: Buffer.alloc(n), csize: 10 });

  it('evicts the least recently used blocks once over its byte budget', () => {
    const cache = new BlockCache(3 * (1000 + 128));
    cache.set('f', 0, entry(1000));
    cache.set('f', 100, entry(1000));
    cache.set('f', 200, entry(1000));
    expect(cache.get('f', 0)).toBeDefined(); // 0 becomes most recent; 100 is now the oldest
    cache.set('f', 300, entry(1000));
    expect(cache.get('f', 100)).toBeUndefined();
    expect(cache.get('f', 0)).toBeDefined();
    expect(cache.get('f', 200)).toBeDefined();
    expect(cache.size).toBe(3);
    expect(cache.bytes).toBeLessThanOrEqual(3 * 1128);
  });

  it('skips blocks larger than the budget and drops a whole file on evictFile', () => {
    const cache = new BlockCache(5000);
    cache.set('f', 0, entry(10_000));
    expect(cache.size).toBe(0);
    cache.set('a', 0, entry(100));
    cache.set('b', 0, entry(100));
    cache.evictFile('a');
    expect(cache.get('a', 0)).toBeUndefined();
    expect(cache.get('b', 0)).toBeDefined();
    expect(cache.bytes).toBe(228);
  });

  it('serves readRecord from cache so neighbouring records inflate a block once', async () => {
    const lines = eventLines(2_000);
    const { path, records, blocks } = await writeFile(lines);
    const cache = new BlockCache();
    withFd(path, (fd) => {
      const read = cache.reader('seg', fd);
      records.forEach((r, i) => expect(readRecord(fd, r.voff, r.length, read).toString()).toBe(lines[i]));
    });
    expect(cache.misses).toBe(blocks.length);
    expect(cache.hits).toBe(records.length - blocks.length);
  });
});

describe('deflateRawInto', () => {
  const params = { memLevel: DEFLATE_MEM_LEVEL, strategy: DEFLATE_STRATEGY };

  it("gives deflateRawSync's bytes for the block parameters, call after call on one handle", () => {
    const out = Buffer.alloc(70_000);
    const inputs = [
      Buffer.from(eventLines(200).join('\n')),
      randomBytes(5_000),
      Buffer.alloc(0),
      Buffer.from('{"a":1}\n'.repeat(2_000)),
    ];
    for (let round = 0; round < 2; round++)
      for (const level of [1, 5, 9])
        for (const input of inputs) {
          const n = deflateRawInto(input, out, level);
          expect(n).toBeDefined();
          expect(out.subarray(0, n).equals(deflateRawSync(input, { level, ...params }))).toBe(true);
          expect(inflateRawSync(out.subarray(0, n)).equals(input)).toBe(true);
        }
  });

  it('says a block does not fit instead of cutting it short, and works again after', () => {
    const noise = randomBytes(20_000);
    expect(deflateRawInto(noise, Buffer.alloc(10_000), 5)).toBeUndefined();
    const out = Buffer.alloc(30_000);
    const n = deflateRawInto(noise, out, 5)!;
    expect(inflateRawSync(out.subarray(0, n)).equals(noise)).toBe(true);
  });
});
