import { existsSync, readdirSync } from 'node:fs';
import type { VerifyIssue, VerifyReport } from '../types';
import { BgzfError } from './bgzf';
import { crc32, sha256File } from './checksum';
import { parseSegmentName, type StorePaths } from './layout';
import type { OpenReport } from './recovery';
import { toRanges } from './repair';
import { readSealedLines } from './sealedRecords';
import { readWholeFile, scanSegmentLines } from './ActiveSegment';
import type { SqliteIndex } from './SqliteIndex';
import type { SealedTier } from './SealedTier';

/** Seqs that repair recorded as lost: information, not damage (they are gaps by design). */
export interface LostSummary {
  count: number;
  /** Ascending [first, last] runs. */
  ranges: [number, number][];
}

/** The file backend's verify report: the common one plus the known lost seqs. */
export interface FileVerifyReport extends VerifyReport {
  lost?: LostSummary;
}

/**
 * Checks everything the store promises: each sealed segment's SHA-256 against the catalogue, every
 * gzip member, every record's CRC and location against the index, seqs contiguous from 1 across all
 * segments (except at seqs repair recorded as lost), and each plain segment's lines. Every issue
 * names the file and, where known, the offset.
 */
export async function verifyStore(
  paths: StorePaths,
  ix: SqliteIndex,
  sealed: SealedTier,
  report: OpenReport,
): Promise<FileVerifyReport> {
  const issues: VerifyIssue[] = report.problems.map((p) => ({
    file: p.file,
    offset: p.offset,
    problem: p.problem,
  }));
  let checkedEvents = 0;
  let checkedSegments = 0;
  let expectSeq = 0;
  const lostSeqs = ix.lostSeqs().map((l) => l.seq);
  const lost = new Set(lostSeqs);
  /** Whether seq follows expectSeq, every seq between them being a known lost one. */
  const follows = (seq: number): boolean => {
    for (let s = expectSeq + 1; s < seq; s++) if (!lost.has(s)) return false;
    return seq > expectSeq;
  };
  const gap = (seq: number) =>
    expectSeq ? `seq gap: ${expectSeq} is followed by ${seq}` : `seq gap: the first seq is ${seq}, not 1`;
  const present = (seq: number, file: string) => {
    if (lost.has(seq))
      issues.push({ file, seq, problem: `seq ${seq} is recorded as lost but this file holds it` });
  };
  const integrity = ix.quickCheck();
  if (integrity !== 'ok')
    issues.push({ file: 'chronoscope.db', problem: `SQLite quick_check: ${integrity}` });
  for (const seg of ix.segments()) {
    const path = paths.segment(seg.name);
    checkedSegments++;
    if (!existsSync(path)) {
      if (!issues.some((i) => i.file === seg.name))
        issues.push({ file: seg.name, problem: `missing: seqs ${seg.firstSeq}–${seg.lastSeq} lost` });
      expectSeq = seg.lastSeq;
      continue;
    }
    const digest = await sha256File(path);
    if (digest !== seg.sha256)
      issues.push({
        file: seg.name,
        problem: `SHA-256 ${digest.slice(0, 16)}… does not match the catalogue's ${seg.sha256.slice(0, 16)}…`,
      });
    let lines;
    try {
      lines = readSealedLines(path);
    } catch (err) {
      issues.push({
        file: seg.name,
        offset: err instanceof BgzfError ? err.offset : undefined,
        problem: (err as Error).message,
      });
      expectSeq = seg.lastSeq;
      continue;
    }
    if (!lines.eofMarker)
      issues.push({ file: seg.name, problem: 'no end-of-file marker: the file is truncated' });
    const sx = sealed.index(seg.id);
    if (!sx) {
      issues.push({ file: seg.name, problem: 'no index loaded for this segment' });
      continue;
    }
    if (sx.n !== lines.lines.length)
      issues.push({
        file: seg.name,
        problem: `index lists ${sx.n} events, file holds ${lines.lines.length}`,
      });
    for (let i = 0; i < Math.min(sx.n, lines.lines.length); i++) {
      const loc = sx.location(i);
      const l = lines.lines[i]!;
      const seq = sx.firstSeq + i;
      checkedEvents++;
      if (l.voff !== loc.voff || l.line.length !== loc.len) {
        issues.push({
          file: seg.name,
          offset: l.voff,
          seq,
          problem: 'record location differs from the index',
        });
      } else if (crc32(l.line) !== loc.crc) {
        issues.push({ file: seg.name, offset: l.voff, seq, problem: 'record checksum mismatch' });
      }
      if (!follows(seq)) issues.push({ file: seg.name, seq, problem: gap(seq) });
      present(seq, seg.name);
      expectSeq = seq;
    }
  }
  for (const n of readdirSync(paths.segments).sort()) {
    const name = parseSegmentName(n);
    if (name.kind !== 'active') continue;
    checkedSegments++;
    try {
      const scan = scanSegmentLines(readWholeFile(paths.segment(n)), name.firstSeq);
      // Every damaged line, not just the first: the report is the map for `repair`.
      for (const d of scan.damaged)
        issues.push({
          file: n,
          offset: d.offset,
          problem: `damaged line of ${d.length} bytes: ${d.reason} (run \`chronoscope repair\`)`,
        });
      if (scan.tornBytes > 0)
        issues.push({
          file: n,
          offset: scan.validBytes,
          problem: `torn tail of ${scan.tornBytes} bytes (repaired on next read-write open)`,
        });
      for (const { event, offset } of scan.events) {
        checkedEvents++;
        if (!follows(event.seq)) issues.push({ file: n, offset, seq: event.seq, problem: gap(event.seq) });
        present(event.seq, n);
        expectSeq = event.seq;
      }
    } catch (err) {
      const d = (err as { details?: { offset?: number } }).details;
      issues.push({ file: n, offset: d?.offset, problem: (err as Error).message });
    }
  }
  const out: FileVerifyReport = { ok: issues.length === 0, checkedEvents, checkedSegments, issues };
  if (lostSeqs.length) out.lost = { count: lostSeqs.length, ranges: toRanges(lostSeqs) };
  return out;
}
