import type { StoredEvent } from '../../../shared/event';
import { crc32 } from './checksum';
import { KEY_KIND } from './sqliteSchema';
import { SegmentIndex, type BlockEntry, type SealedRecord } from './segmentIndex';
import type { KeyCounts, SegmentRecord } from './SqliteIndex';

/** Everything the catalogue stores about one sealed segment. */
export interface SegmentArtifacts {
  segment: Omit<SegmentRecord, 'id'>;
  blob: Buffer;
  counts: KeyCounts;
}

/**
 * Builds the catalogue row, index blob and key counts of a sealed segment from its lines and
 * events; the same code serves sealing and rebuilding, so both produce identical indexes.
 */
export function segmentArtifacts(
  file: { name: string; bytes: number; sha256: string; blocks: BlockEntry[]; totalU: number },
  lines: { uoff: number; line: Buffer }[],
  events: StoredEvent[],
): SegmentArtifacts {
  const records: SealedRecord[] = events.map((event, i) => ({
    event,
    uoff: lines[i]!.uoff,
    len: lines[i]!.line.length,
    crc: crc32(lines[i]!.line),
  }));
  const counts = new Map<string, { kind: number; value: string; n: number }>();
  const bump = (kind: number, value: string) => {
    const k = `${kind}\u0000${value}`;
    const c = counts.get(k);
    if (c) c.n++;
    else counts.set(k, { kind, value, n: 1 });
  };
  let minTime = Infinity;
  let maxTime = -Infinity;
  for (const e of events) {
    bump(KEY_KIND.stream, e.stream);
    bump(KEY_KIND.type, e.type);
    bump(KEY_KIND.tenant, e.tenant);
    const t = Date.parse(e.time);
    if (t < minTime) minTime = t;
    if (t > maxTime) maxTime = t;
  }
  return {
    segment: {
      name: file.name,
      firstSeq: events[0]!.seq,
      lastSeq: events[events.length - 1]!.seq,
      count: events.length,
      bytes: file.bytes,
      rawBytes: file.totalU,
      blocks: file.blocks.length,
      sha256: file.sha256,
      minTime: Number.isFinite(minTime) ? minTime : null,
      maxTime: Number.isFinite(maxTime) ? maxTime : null,
      sealedAt: new Date().toISOString(),
    },
    blob: SegmentIndex.build(records, file.blocks, file.totalU),
    counts: [...counts.values()],
  };
}
