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
  /**
   * Name only the streams that begin in this segment (an event at version 1): sealing, where every
   * earlier segment is already in the catalogue, so the rest are known. Rebuild and repair name all.
   */
  newStreamsOnly = false,
): SegmentArtifacts {
  const records: SealedRecord[] = events.map((event, i) => ({
    event,
    uoff: lines[i]!.uoff,
    len: lines[i]!.line.length,
    crc: crc32(lines[i]!.line),
  }));
  // One map per kind: no composite string key per event (rebuild speed).
  const streams = new Map<string, number>();
  const types = new Map<string, number>();
  const tenants = new Map<string, number>();
  let minTime = Infinity;
  let maxTime = -Infinity;
  const times = new Float64Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (!newStreamsOnly || e.version === 1) streams.set(e.stream, (streams.get(e.stream) ?? 0) + 1);
    types.set(e.type, (types.get(e.type) ?? 0) + 1);
    tenants.set(e.tenant, (tenants.get(e.tenant) ?? 0) + 1);
    const t = Date.parse(e.time);
    times[i] = t;
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
    blob: SegmentIndex.build(records, file.blocks, file.totalU, times),
    counts: [
      ...[...streams].map(([value, n]) => ({ kind: KEY_KIND.stream, value, n })),
      ...[...types].map(([value, n]) => ({ kind: KEY_KIND.type, value, n })),
      ...[...tenants].map(([value, n]) => ({ kind: KEY_KIND.tenant, value, n })),
    ],
  };
}
