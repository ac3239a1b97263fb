import { existsSync, readdirSync, renameSync, unlinkSync } from 'node:fs';
import { parseStoredLine, type StoredEvent } from '../../../shared/event';
import { ChronoscopeError } from '../../../shared/errors';
import { sha256File } from './checksum';
import { parseSegmentName, type StorePaths } from './layout';
import { readSealedLines } from './sealedRecords';
import { SqliteIndex } from './SqliteIndex';
import type { OpenReport } from '../../../shared/storeTypes';

export type { OpenReport } from '../../../shared/storeTypes';
import { columnsOfEvents, segmentArtifacts, type SegmentArtifacts } from './segmentArtifacts';
import { INDEX_FORMAT } from './sqliteSchema';
import { scanActiveSegment, truncateSegment } from './ActiveSegment';
import { fsyncDir, unlinkDurably } from './sealer';
import { BgzfError } from './bgzf';
import { statSync } from 'node:fs';

export function emptyReport(): OpenReport {
  return {
    tornTailBytes: 0,
    removedTmp: [],
    indexedSegments: [],
    removedSealedPlain: [],
    rebuiltIndex: false,
    problems: [],
  };
}

/** Opens the index, or moves a damaged or foreign-format one aside and starts a fresh one to rebuild. */
export function openIndex(paths: StorePaths, report: OpenReport, readOnly: boolean): SqliteIndex {
  if (readOnly) {
    if (!existsSync(paths.db))
      throw new ChronoscopeError(
        'NOT_FOUND',
        `no index at ${paths.db}; open the store read-write once to rebuild it`,
      );
    const ix = new SqliteIndex(paths.db, true);
    if (ix.format() !== INDEX_FORMAT) {
      const fmt = ix.format();
      ix.close();
      throw new ChronoscopeError(
        'CORRUPT',
        `index format ${fmt ?? 'unknown'} of ${paths.db} is not ${INDEX_FORMAT}; open the store read-write once to rebuild it`,
      );
    }
    return ix;
  }
  const fresh = !existsSync(paths.db);
  let why: string | undefined;
  try {
    const ix = new SqliteIndex(paths.db, false);
    const fmt = ix.format();
    const check = ix.quickCheck();
    if (fmt === INDEX_FORMAT && check === 'ok') {
      if (fresh && hasSealed(paths)) {
        report.rebuiltIndex = true;
        report.rebuildReason = 'index missing';
      }
      return ix;
    }
    why = fmt !== INDEX_FORMAT ? `index format ${fmt} is not ${INDEX_FORMAT}` : `index damaged: ${check}`;
    ix.close();
  } catch (err) {
    why = `index unreadable: ${(err as Error).message}`;
  }
  const aside = `${paths.db}.damaged-${Date.now()}`;
  for (const suffix of ['', '-wal', '-shm'])
    if (existsSync(paths.db + suffix)) renameSync(paths.db + suffix, aside + suffix);
  report.rebuiltIndex = true;
  report.rebuildReason = `${why}; moved to ${aside}`;
  return new SqliteIndex(paths.db, false);
}

function hasSealed(paths: StorePaths): boolean {
  return (
    existsSync(paths.segments) &&
    readdirSync(paths.segments).some((n) => parseSegmentName(n).kind === 'sealed')
  );
}

/** Indexes one sealed segment from its bytes alone (rebuild and catch-up). */
export async function indexSealedFile(ix: SqliteIndex, paths: StorePaths, name: string): Promise<void> {
  const a = await sealedFileArtifacts(paths, name);
  ix.addSegment(a.segment, a.blob, a.counts);
}

/** Reads, checks and indexes one sealed segment from its bytes alone (rebuild and catch-up). */
export async function sealedFileArtifacts(paths: StorePaths, name: string): Promise<SegmentArtifacts> {
  const path = paths.segment(name);
  const { lines, blocks, totalU, eofMarker } = readSealedLines(path);
  if (!eofMarker) throw new BgzfError(statSync(path).size, `${name}: no end-of-file marker (truncated)`);
  const events: StoredEvent[] = [];
  let prev = 0;
  for (const l of lines) {
    const event = parseStoredLine(l.line.toString('utf8'), `${name} at virtual offset ${l.voff}`);
    if (prev && event.seq !== prev + 1) {
      throw new ChronoscopeError('CORRUPT', `${name}: seq ${event.seq} does not follow ${prev}`, {
        file: name,
      });
    }
    prev = event.seq;
    events.push(event);
  }
  const parsed = parseSegmentName(name);
  if (
    parsed.kind !== 'sealed' ||
    events.length === 0 ||
    events[0]!.seq !== parsed.firstSeq ||
    prev !== parsed.lastSeq
  ) {
    throw new ChronoscopeError('CORRUPT', `${name}: contents do not match the seq range in its name`, {
      file: name,
    });
  }
  return segmentArtifacts(
    { name, bytes: statSync(path).size, sha256: await sha256File(path), blocks, totalU },
    columnsOfEvents(lines, events),
  );
}

export interface RecoveredPlain {
  name: string;
  firstSeq: number;
  size: number;
  events: StoredEvent[];
}

/**
 * Brings segments/ and the index into agreement (DESIGN §3 recovery): removes stale tmp files,
 * indexes sealed segments the index lacks, drops plain files already sealed and indexed, cuts a
 * torn tail, and returns the plain segments (oldest first) whose events form the hot tier.
 */
export async function recoverSegments(
  ix: SqliteIndex,
  paths: StorePaths,
  report: OpenReport,
  readOnly: boolean,
): Promise<RecoveredPlain[]> {
  const names = readdirSync(paths.segments).sort();
  if (!readOnly) {
    for (const n of names) {
      if (parseSegmentName(n).kind === 'tmp') {
        unlinkSync(paths.segment(n));
        report.removedTmp.push(n);
      }
    }
    if (report.removedTmp.length) fsyncDir(paths.segments);
  }
  const catalogued = new Map(ix.segments().map((s) => [s.name, s]));
  for (const s of catalogued.values()) {
    if (!existsSync(paths.segment(s.name)))
      report.problems.push({
        file: s.name,
        problem: `sealed segment missing: seqs ${s.firstSeq}–${s.lastSeq} cannot be read (\`chronoscope repair\` records them as lost)`,
      });
  }
  const plain = names.filter((n) => parseSegmentName(n).kind === 'active');
  const sealed = names.filter((n) => parseSegmentName(n).kind === 'sealed' && !catalogued.has(n));
  for (const n of sealed) {
    const p = parseSegmentName(n) as { firstSeq: number; lastSeq: number };
    const hasPlain = plain.includes(n.slice(0, 12) + '.jsonl');
    if (readOnly) {
      report.problems.push({
        file: n,
        problem: 'sealed segment not yet indexed (open read-write to index it)',
      });
      continue;
    }
    try {
      if (p.firstSeq <= ix.lastIndexedSeq())
        throw new ChronoscopeError('CORRUPT', `${n} overlaps indexed segments`);
      await indexSealedFile(ix, paths, n);
      report.indexedSegments.push(n);
    } catch (err) {
      if (hasPlain) {
        // A seal that never completed: its plain source is still here, so the copy can go.
        unlinkDurably(paths.segment(n), paths.segments);
      } else {
        const offset = err instanceof BgzfError ? err.offset : undefined;
        report.problems.push({
          file: n,
          offset,
          problem: `cannot index sealed segment: ${(err as Error).message}`,
        });
      }
    }
  }
  const indexedThrough = ix.lastIndexedSeq();
  const out: RecoveredPlain[] = [];
  for (const n of plain) {
    const firstSeq = (parseSegmentName(n) as { firstSeq: number }).firstSeq;
    if (firstSeq <= indexedThrough) {
      if (!readOnly) {
        unlinkDurably(paths.segment(n), paths.segments);
        report.removedSealedPlain.push(n);
      }
      continue;
    }
    const scan = scanActiveSegment(paths.segment(n), n);
    if (scan.tornBytes > 0 && !readOnly) {
      truncateSegment(paths.segment(n), scan.validBytes);
      report.tornTailBytes += scan.tornBytes;
      report.tornTailFile = n;
    }
    const events = scan.events.map((x) => x.event);
    if (events.length && events[0]!.seq !== firstSeq) {
      throw new ChronoscopeError(
        'CORRUPT',
        `${n} at byte 0: first seq ${events[0]!.seq} does not match its name; run \`chronoscope repair ${paths.root}\``,
        { file: n, offset: 0 },
      );
    }
    out.push({
      name: n,
      firstSeq,
      size: scan.validBytes,
      events,
    });
  }
  return out;
}
