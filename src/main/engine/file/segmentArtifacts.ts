import type { StoredEvent } from '../../../shared/event';
import { crc32 } from './checksum';
import { KEY_KIND } from './sqliteSchema';
import { SegmentColumns } from './segmentColumns';
import { SegmentIndex, type BlockEntry } from './segmentIndex';
import type { KeyCounts, SegmentRecord } from './SqliteIndex';

/** Everything the catalogue stores about one sealed segment. */
export interface SegmentArtifacts {
  segment: Omit<SegmentRecord, 'id'>;
  blob: Buffer;
  counts: KeyCounts;
}

/**
 * Builds the catalogue row, index blob and key counts of a sealed segment from its columns; the
 * same code serves sealing, rebuilding and repair, so all produce identical indexes.
 */
export function segmentArtifacts(
  file: { name: string; bytes: number; sha256: string; blocks: BlockEntry[]; totalU: number },
  cols: SegmentColumns,
): SegmentArtifacts {
  cols.finish(file.totalU);
  const { minTime, maxTime } = cols;
  return {
    segment: {
      name: file.name,
      firstSeq: cols.firstSeq,
      lastSeq: cols.lastSeq,
      count: cols.n,
      bytes: file.bytes,
      rawBytes: file.totalU,
      blocks: file.blocks.length,
      sha256: file.sha256,
      minTime: Number.isFinite(minTime) ? minTime : null,
      maxTime: Number.isFinite(maxTime) ? maxTime : null,
      sealedAt: new Date().toISOString(),
    },
    blob: SegmentIndex.build(cols, file.blocks),
    counts: [
      ...[...cols.streams].map(([value, n]) => ({ kind: KEY_KIND.stream, value, n })),
      ...[...cols.types].map(([value, n]) => ({ kind: KEY_KIND.type, value, n })),
      ...[...cols.tenants].map(([value, n]) => ({ kind: KEY_KIND.tenant, value, n })),
    ],
  };
}

/** Columns of parsed events whose lines are given (in seq order, contiguous from offset 0). */
export function columnsOfEvents(
  lines: readonly { uoff: number; line: Buffer }[],
  events: readonly StoredEvent[],
  newStreamsOnly = false,
): SegmentColumns {
  const cols = new SegmentColumns(events.length, newStreamsOnly);
  for (let i = 0; i < events.length; i++) cols.addEvent(events[i]!, lines[i]!.uoff, crc32(lines[i]!.line));
  return cols;
}
