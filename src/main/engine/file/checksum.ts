import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { crc32 as zlibCrc32 } from 'node:zlib';

/**
 * CRC-32 (IEEE 802.3, the gzip polynomial) of `data`, computed natively by zlib; strings are hashed as
 * UTF-8. Pass the previous result as `previous` to checksum data that arrives in pieces. This is the
 * per-record checksum the index keeps (DESIGN §3 allows "CRC32C or equivalent").
 */
export function crc32(data: Buffer | Uint8Array | string, previous = 0): number {
  return zlibCrc32(data, previous);
}

/** Hex SHA-256 of an in-memory buffer or UTF-8 string, e.g. for plan digests and audit-chain links. */
export function sha256(data: Buffer | Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hex SHA-256 of a file, streamed in chunks so a multi-GB segment never sits in memory at once. */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const stream = createReadStream(path, { highWaterMark: 1 << 20 });
    stream.on('error', reject);
    stream.on('data', (chunk) => hash.update(chunk));
    stream.on('end', () => resolve(hash.digest('hex')));
  });
}
