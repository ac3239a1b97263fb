import { readFileSync } from 'node:fs';
import { iterateBlocks, makeVirtualOffset } from './bgzf';
import type { BlockEntry } from './segmentIndex';

/** One line of a sealed segment: its virtual offset, its offset in the uncompressed stream, its bytes. */
export interface SealedLine {
  voff: number;
  uoff: number;
  line: Buffer;
}

/**
 * Reads every line of a sealed segment with its offsets, validating each gzip member as it goes
 * (throws BgzfError naming the offset of damage). Used by index rebuild and verify.
 */
export function readSealedLines(path: string): {
  lines: SealedLine[];
  blocks: BlockEntry[];
  totalU: number;
  eofMarker: boolean;
} {
  const buf = readFileSync(path);
  const lines: SealedLine[] = [];
  const blocks: BlockEntry[] = [];
  let pending: { voff: number; uoff: number; parts: Buffer[] } | undefined;
  let eofMarker = false;
  let ustart = 0;
  for (const b of iterateBlocks(buf)) {
    if (b.eofMarker) {
      eofMarker = true;
      continue;
    }
    eofMarker = false;
    blocks.push({ coff: b.offset, ustart });
    let start = 0;
    while (start < b.data.length) {
      const nl = b.data.indexOf(10, start);
      const end = nl === -1 ? b.data.length : nl;
      const piece = b.data.subarray(start, end);
      if (pending) pending.parts.push(piece);
      else pending = { voff: makeVirtualOffset(b.offset, start), uoff: ustart + start, parts: [piece] };
      if (nl === -1) break;
      lines.push({
        voff: pending.voff,
        uoff: pending.uoff,
        line: pending.parts.length === 1 ? pending.parts[0]! : Buffer.concat(pending.parts),
      });
      pending = undefined;
      start = nl + 1;
    }
    ustart += b.data.length;
  }
  if (pending) lines.push({ voff: pending.voff, uoff: pending.uoff, line: Buffer.concat(pending.parts) });
  return { lines, blocks, totalU: ustart, eofMarker };
}
