import { readFileSync } from 'node:fs';
import { iterateBlocks, makeVirtualOffset } from './bgzf';

/** One line of a sealed segment with its virtual offset (as the index stores it). */
export interface SealedLine {
  voff: number;
  line: Buffer;
}

/**
 * Reads every line of a sealed segment with its virtual offset, validating each member as it
 * goes (throws BgzfError naming the offset of damage). Used by index rebuild and verify.
 */
export function readSealedLines(path: string): { lines: SealedLine[]; eofMarker: boolean } {
  const buf = readFileSync(path);
  const lines: SealedLine[] = [];
  let pending: { voff: number; parts: Buffer[] } | undefined;
  let eofMarker = false;
  for (const b of iterateBlocks(buf)) {
    if (b.eofMarker) {
      eofMarker = true;
      continue;
    }
    eofMarker = false;
    let start = 0;
    while (start < b.data.length) {
      const nl = b.data.indexOf(10, start);
      const end = nl === -1 ? b.data.length : nl;
      const piece = b.data.subarray(start, end);
      if (pending) pending.parts.push(piece);
      else pending = { voff: makeVirtualOffset(b.offset, start), parts: [piece] };
      if (nl === -1) break;
      lines.push({
        voff: pending.voff,
        line: pending.parts.length === 1 ? pending.parts[0]! : Buffer.concat(pending.parts),
      });
      pending = undefined;
      start = nl + 1;
    }
  }
  if (pending) lines.push({ voff: pending.voff, line: Buffer.concat(pending.parts) });
  return { lines, eofMarker };
}
