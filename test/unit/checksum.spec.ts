import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { crc32, sha256, sha256File } from '../../src/main/engine/file/checksum';

describe('crc32', () => {
  it('matches the standard CRC-32 check value', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });

  it('hashes strings as UTF-8, the same as their encoded bytes', () => {
    const s = '{"name":"Zoë","emoji":"🧭"}';
    expect(crc32(s)).toBe(crc32(Buffer.from(s, 'utf8')));
    expect(crc32(s)).not.toBe(crc32(Buffer.from(s, 'latin1')));
  });

  it('continues from a previous value so data can be checksummed in pieces', () => {
    const data = randomBytes(10_000);
    expect(crc32(data.subarray(4000), crc32(data.subarray(0, 4000)))).toBe(crc32(data));
  });
});

describe('sha256', () => {
  it('matches the known digest of "abc"', () => {
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256(Buffer.from('abc'))).toBe(sha256('abc'));
  });

  it('sha256File streams a multi-chunk file to the same digest as hashing it in memory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chronoscope-sum-'));
    try {
      const data = randomBytes(3 * (1 << 20) + 17);
      const path = join(dir, 'blob');
      writeFileSync(path, data);
      expect(await sha256File(path)).toBe(sha256(data));
      writeFileSync(path, '');
      expect(await sha256File(path)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
      await expect(sha256File(join(dir, 'missing'))).rejects.toThrow(/ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
