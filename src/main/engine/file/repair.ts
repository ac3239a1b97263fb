/**
 * `chronoscope repair` (issue #9): cuts damage out of a store, keeps everything that is still
 * intact and checkable, and records exactly which seqs are lost, so that the store opens, verify is
 * clean and every other event reads unchanged.
 *
 * - Plain (active) segments: every whole line is classified (scanSegmentLines); damaged lines go to
 *   `quarantine/repair-<time>.jsonl` with file, offset, length and raw bytes; the intact lines are
 *   rewritten as one plain file per run of consecutive seqs (tmp + fsync + rename), so a file never
 *   holds a gap and everything downstream (sealing, the segment index) keeps its invariants.
 * - Sealed segments (SHA-256 mismatch, missing file, undecodable member, truncation): decoded
 *   member by member; a record survives when its member inflates with a good CRC-32 and its own
 *   CRC-32 matches the catalogue. Survivors are rewritten as sealed segments (one per run), indexed
 *   in the same transaction that drops the damaged segment and records the lost seqs; the damaged
 *   file is then moved into quarantine/.
 * - Every seq no segment holds (below the highest seq ever handed out) ends up in `lost_seqs`.
 *
 * Crash safety: the quarantine report is written first; lost seqs are committed before any file
 * they describe is rewritten; new files are written before old ones are replaced or removed; a
 * sealed segment's replacement is one SQLite transaction. A rerun after a kill finishes the job
 * (duplicate lines across plain files are merged, leftover sealed copies are moved aside).
 * Works on a store that cannot be opened normally; takes the writer LOCK.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseStoredLine, type StoredEvent } from '../../../shared/event';
import { ChronoscopeError } from '../../../shared/errors';
import { readWholeFile, scanSegmentLines, type DamagedLine } from './ActiveSegment';
import { BGZF_EOF, encodeBlocks, iterateBlocks } from './bgzf';
import { crc32, sha256, sha256File } from './checksum';
import { keyHash } from './keyHash';
import {
  activeSegmentName,
  parseSegmentName,
  sealedSegmentName,
  storePaths,
  type StorePaths,
} from './layout';
import { StoreLock } from './lock';
import { emptyReport, indexSealedFile, openIndex } from './recovery';
import { fsyncDir, unlinkDurably, writeFileDurably } from './sealer';
import { columnsOfEvents, segmentArtifacts, type SegmentArtifacts } from './segmentArtifacts';
import { SegmentIndex } from './segmentIndex';
import { KEY_KIND } from './sqliteSchema';
import type { LostSeq, SegmentRecord, SqliteIndex } from './SqliteIndex';

export interface RepairOptions {
  /** zlib level for rewritten sealed segments. */
  compressionLevel: number;
  /** Uncompressed bytes per gzip member of rewritten sealed segments. */
  blockBytes: number;
}

export interface RepairedSealed {
  file: string;
  problem: string;
  offset?: number;
  recoveredEvents: number;
  lostEvents: number;
  rewrittenAs: string[];
  /** Where the damaged file now lives (relative to the store), if it existed. */
  quarantinedAs?: string;
}

/** What repair did; `lost` lists exactly the seqs it could not recover (new this run). */
export interface RepairReport {
  store: string;
  /** False when the store needed nothing: a second repair is a no-op. */
  changed: boolean;
  damagedLines: { file: string; offset: number; length: number; reason: string; seq?: number }[];
  /** Plain segments written and removed. */
  plainWritten: string[];
  plainRemoved: string[];
  sealed: RepairedSealed[];
  /** Sealed segments found on disk but not in the catalogue, indexed as they were. */
  indexed: string[];
  /** Events kept from damaged files (plain and sealed). */
  recoveredEvents: number;
  lost: LostSeq[];
  /** The new lost seqs as ranges, e.g. "5, 11–12". */
  lostRanges: string;
  /** All lost seqs the catalogue knows after this run (earlier repairs included). */
  knownLost: number;
  quarantineFile?: string;
  quarantinedBytes: number;
  notes: string[];
}

export const DEFAULT_REPAIR_OPTIONS: RepairOptions = { compressionLevel: 6, blockBytes: 16 << 10 };

/** "1–3, 7, 9–10" from ascending seqs. */
export function formatRanges(seqs: number[]): string {
  return toRanges(seqs)
    .map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`))
    .join(', ');
}

/** Ascending seqs as [first, last] runs. */
export function toRanges(seqs: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const s of seqs) {
    const last = out[out.length - 1];
    if (last && s === last[1] + 1) last[1] = s;
    else out.push([s, s]);
  }
  return out;
}

interface SalvagedLine {
  seq: number;
  line: Buffer;
  event: StoredEvent;
}

interface SealedPlan {
  rec?: SegmentRecord;
  name: string;
  exists: boolean;
  problem: string;
  offset?: number;
  lines: SalvagedLine[];
  lost: number[];
  /** The catalogue's index of the damaged segment: its postings give the lost events' key counts. */
  ix?: SegmentIndex;
}

const MEMBER_HEAD = BGZF_EOF.subarray(0, 16);

/**
 * Decodes a sealed file member by member. A member that does not inflate with its CRC loses only
 * its own records (and a record spanning it); decoding resumes at the next member, found from the
 * catalogue's block table or, without one, by the fixed 16-byte member header.
 */
function salvageSealed(
  path: string,
  range: { first: number; last: number },
  ix: SegmentIndex | undefined,
): { lines: SalvagedLine[]; damage: { offset: number; problem: string }[] } {
  const buf = readFileSync(path);
  const damage: { offset: number; problem: string }[] = [];
  const candidates: Buffer[] = [];
  const blockOffsets = ix ? Array.from({ length: ix.blockCount }, (_, b) => ix.blockOffset(b)) : [];
  let pending: Buffer[] | undefined;
  let sawEof = false;
  for (let pos = 0; pos < buf.length;) {
    let member;
    try {
      member = iterateBlocks(buf.subarray(pos), pos).next().value!;
    } catch (err) {
      damage.push({ offset: pos, problem: (err as { problem?: string }).problem ?? (err as Error).message });
      pending = undefined; // the record crossing into the bad member is gone
      const next = (ix && blockOffsets.find((o) => o > pos)) ?? buf.indexOf(MEMBER_HEAD, pos + 1);
      if (next < 0) break;
      pos = next;
      continue;
    }
    pos += member.csize;
    sawEof = member.eofMarker;
    if (member.eofMarker) continue;
    const data = member.data;
    for (let start = 0; start < data.length;) {
      const nl = data.indexOf(10, start);
      const piece = data.subarray(start, nl === -1 ? data.length : nl);
      (pending ??= []).push(piece);
      if (nl === -1) break;
      candidates.push(pending.length === 1 ? Buffer.from(pending[0]!) : Buffer.concat(pending));
      pending = undefined;
      start = nl + 1;
    }
  }
  if (!sawEof) damage.push({ offset: buf.length, problem: 'no end-of-file marker (truncated)' });
  const lines: SalvagedLine[] = [];
  let prev = range.first - 1;
  for (const line of candidates) {
    // A piece after a bad member may be the tail of a record: it fails to parse and is dropped.
    let event: StoredEvent;
    try {
      event = parseStoredLine(line.toString('utf8'), 'salvage');
    } catch {
      continue;
    }
    const seq = event.seq;
    if (seq <= prev || seq > range.last) continue;
    if (ix) {
      const ord = seq - ix.firstSeq;
      if (ord < 0 || ord >= ix.n || ix.recordSpan(ord).len !== line.length || crc32(line) !== ix.crcOf(ord)) {
        const offset = ord >= 0 && ord < ix.n ? ix.blockOffset(ix.blockAt(ix.recordSpan(ord).u)) : 0;
        damage.push({ offset, problem: `record checksum mismatch for seq ${seq}` });
        continue;
      }
    }
    lines.push({ seq, line, event });
    prev = seq;
  }
  return { lines, damage };
}

/** Splits ascending seqs into runs of consecutive ones. */
function runsOf<T extends { seq: number }>(items: T[]): T[][] {
  const runs: T[][] = [];
  for (const it of items) {
    const r = runs[runs.length - 1];
    if (r && r[r.length - 1]!.seq + 1 === it.seq) r.push(it);
    else runs.push([it]);
  }
  return runs;
}

/** Writes one run of records as a sealed segment (tmp + fsync + rename) and returns its catalogue artifacts. */
async function writeSealedRun(
  paths: StorePaths,
  run: SalvagedLine[],
  opts: RepairOptions,
): Promise<SegmentArtifacts> {
  const encoded = await encodeBlocks(
    run.map((r) => r.line),
    { level: opts.compressionLevel, blockInputCap: opts.blockBytes },
  );
  let ustart = 0;
  const blocks = encoded.blocks.map((b) => {
    const e = { coff: b.offset, ustart };
    ustart += b.usize;
    return e;
  });
  let u = 0;
  const lines = run.map((r) => {
    const l = { uoff: u, line: r.line };
    u += r.line.length + 1;
    return l;
  });
  const name = sealedSegmentName(run[0]!.seq, run[run.length - 1]!.seq);
  writeFileDurably(paths.segment(name), encoded.data);
  return segmentArtifacts(
    { name, bytes: encoded.data.length, sha256: sha256(encoded.data), blocks, totalU: u },
    columnsOfEvents(
      lines,
      run.map((r) => r.event),
    ),
  );
}

const KIND_NAMES = {
  [KEY_KIND.stream]: 'stream',
  [KEY_KIND.type]: 'type',
  [KEY_KIND.tenant]: 'tenant',
} as const;

/**
 * Key-count changes for replacing a catalogued segment by its survivors: minus the lost events per
 * type and tenant, and n = -1 for a stream left with no sealed events (stream rows record only that
 * the name exists). The lost events are unreadable, so their keys come from the damaged segment's
 * postings (32-bit hashes) matched to the keys rows; when two rows of a kind share those 32 bits
 * the split is unknowable and that count is left as it was (noted). `elsewhere` says whether another
 * sealed segment holds the stream.
 */
function lostKeyCounts(
  rows: { kind: number; hash: number; value: string }[],
  ix: SegmentIndex,
  survivors: StoredEvent[],
  notes: string[],
  elsewhere: (stream: string) => boolean,
): { kind: number; hash: number; n: number }[] {
  const have = new Map<string, number>();
  const bump = (k: number, v: string) => have.set(`${k}\0${v}`, (have.get(`${k}\0${v}`) ?? 0) + 1);
  for (const e of survivors) {
    bump(KEY_KIND.stream, e.stream);
    bump(KEY_KIND.type, e.type);
    bump(KEY_KIND.tenant, e.tenant);
  }
  const low32 = new Map<string, number>();
  for (const r of rows) {
    const k = `${r.kind}\0${r.hash % 2 ** 32}`;
    low32.set(k, (low32.get(k) ?? 0) + 1);
  }
  const out: { kind: number; hash: number; n: number }[] = [];
  for (const r of rows) {
    const kind = KIND_NAMES[r.kind as keyof typeof KIND_NAMES];
    if (!kind) continue;
    const before = ix.lookup(kind, r.value).length;
    if (before === 0) continue;
    const lost = before - (have.get(`${r.kind}\0${r.value}`) ?? 0);
    if (lost <= 0) continue;
    if ((low32.get(`${r.kind}\0${r.hash % 2 ** 32}`) ?? 0) > 1) {
      notes.push(`the ${kind} count of "${r.value}" may be overstated by up to ${lost} (hash collision)`);
      continue;
    }
    if (r.kind !== KEY_KIND.stream) out.push({ kind: r.kind, hash: r.hash, n: -lost });
    else if (lost === before && !elsewhere(r.value)) out.push({ kind: r.kind, hash: r.hash, n: -1 });
  }
  return out;
}

/** Another catalogued segment's index, parsed once per repair (undefined when it has no blob). */
function otherIndex(
  ix: SqliteIndex,
  rec: SegmentRecord,
  parsed: Map<number, SegmentIndex | undefined>,
): SegmentIndex | undefined {
  if (!parsed.has(rec.id)) {
    const blob = ix.segmentBlob(rec.id);
    parsed.set(rec.id, blob ? SegmentIndex.parse(blob) : undefined);
  }
  return parsed.get(rec.id);
}

/** Lost-seq records kept in earlier quarantine reports: after an index rebuild they give the reasons back. */
function quarantinedLost(paths: StorePaths): Map<number, { file: string; reason: string }> {
  const out = new Map<number, { file: string; reason: string }>();
  if (!existsSync(paths.quarantine)) return out;
  for (const n of readdirSync(paths.quarantine).sort()) {
    if (!/^repair-.*\.jsonl$/.test(n)) continue;
    for (const line of readFileSync(join(paths.quarantine, n), 'utf8').split('\n')) {
      try {
        const r = JSON.parse(line) as { kind?: string; seq?: number; file?: string; reason?: string };
        if (r.kind === 'lost' && Number.isSafeInteger(r.seq))
          out.set(r.seq!, { file: String(r.file), reason: String(r.reason) });
      } catch {
        /* a torn last line of a report cut short by a crash */
      }
    }
  }
  return out;
}

const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');

/** Repairs the store at `root` (see the file comment). Takes the LOCK; never needs a normal open. */
export async function repairStore(root: string, options: Partial<RepairOptions> = {}): Promise<RepairReport> {
  const opts = { ...DEFAULT_REPAIR_OPTIONS, ...options };
  const paths = storePaths(root);
  if (!existsSync(paths.segments))
    throw new ChronoscopeError('NOT_FOUND', `no Chronoscope store at ${root} (missing segments/)`, {
      path: root,
    });
  const lock = StoreLock.acquire(paths.lock);
  let ix: SqliteIndex | undefined;
  try {
    ix = openIndex(paths, emptyReport(), false);
    return await repairWith(paths, ix, opts);
  } finally {
    ix?.close();
    lock.release();
  }
}

async function repairWith(paths: StorePaths, ix: SqliteIndex, opts: RepairOptions): Promise<RepairReport> {
  const now = new Date().toISOString();
  const report: RepairReport = {
    store: paths.root,
    changed: false,
    damagedLines: [],
    plainWritten: [],
    plainRemoved: [],
    sealed: [],
    indexed: [],
    recoveredEvents: 0,
    lost: [],
    lostRanges: '',
    knownLost: 0,
    quarantinedBytes: 0,
    notes: [],
  };
  const seg = (n: string) => paths.segment(n);
  let names = readdirSync(paths.segments).sort();
  // Stale tmp files (a seal or a repair cut short) hold nothing the store relies on.
  const tmps = names.filter((n) => parseSegmentName(n).kind === 'tmp');
  for (const n of tmps) unlinkDurably(seg(n), paths.segments);
  if (tmps.length) report.changed = true;
  if (existsSync(paths.quarantine))
    for (const n of readdirSync(paths.quarantine))
      if (n.endsWith('.tmp')) unlinkDurably(join(paths.quarantine, n), paths.quarantine);
  names = names.filter((n) => !tmps.includes(n));
  const plainNames = names.filter((n) => parseSegmentName(n).kind === 'active');
  const knownLost = new Set(ix.lostSeqs().map((l) => l.seq));

  // --- Sealed segments the catalogue lacks: index them as recovery would, or plan their salvage.
  const leftovers: string[] = [];
  const sealedPlans: SealedPlan[] = [];
  for (const n of names) {
    const p = parseSegmentName(n);
    const segsNow = ix.segments();
    if (p.kind !== 'sealed' || segsNow.some((s) => s.name === n)) continue;
    const holder = (s: number) => segsNow.find((r) => r.firstSeq <= s && s <= r.lastSeq);
    let upTo = p.firstSeq;
    for (;;) {
      if (knownLost.has(upTo)) upTo++;
      else if (holder(upTo)) upTo = holder(upTo)!.lastSeq + 1;
      else break;
      if (upTo > p.lastSeq) break;
    }
    if (upTo > p.lastSeq) {
      leftovers.push(n); // e.g. a damaged original a killed repair had already replaced
      continue;
    }
    if (p.firstSeq > ix.lastIndexedSeq()) {
      try {
        await indexSealedFile(ix, paths, n);
        report.indexed.push(n);
        report.changed = true;
        continue;
      } catch {
        if (plainNames.includes(activeSegmentName(p.firstSeq))) {
          // An unfinished seal: its plain source is still here.
          unlinkDurably(seg(n), paths.segments);
          report.changed = true;
          continue;
        }
      }
    }
    const { lines, damage } = salvageSealed(seg(n), { first: p.firstSeq, last: p.lastSeq }, undefined);
    const kept = lines.filter((l) => !holder(l.seq));
    const keptSeqs = new Set(kept.map((l) => l.seq));
    const lost: number[] = [];
    for (let s = p.firstSeq; s <= p.lastSeq; s++)
      if (!keptSeqs.has(s) && !holder(s) && !knownLost.has(s)) lost.push(s);
    sealedPlans.push({
      name: n,
      exists: true,
      problem: damage[0]?.problem ?? 'not indexable (overlaps the catalogue or fails its checks)',
      offset: damage[0]?.offset,
      lines: kept,
      lost,
    });
  }

  // --- Catalogued sealed segments: missing files and any whose bytes changed since sealing.
  for (const rec of ix.segments()) {
    const path = seg(rec.name);
    if (!existsSync(path)) {
      const lost: number[] = [];
      for (let s = rec.firstSeq; s <= rec.lastSeq; s++) lost.push(s);
      const blob = ix.segmentBlob(rec.id);
      sealedPlans.push({
        rec,
        name: rec.name,
        exists: false,
        problem: 'file missing',
        lines: [],
        lost,
        ix: blob ? SegmentIndex.parse(blob) : undefined,
      });
      continue;
    }
    if ((await sha256File(path)) === rec.sha256) continue;
    const blob = ix.segmentBlob(rec.id);
    let six: SegmentIndex | undefined;
    try {
      six = blob ? SegmentIndex.parse(blob) : undefined;
    } catch {
      six = undefined;
    }
    const { lines, damage } = salvageSealed(path, { first: rec.firstSeq, last: rec.lastSeq }, six);
    const got = new Set(lines.map((l) => l.seq));
    const lost: number[] = [];
    for (let s = rec.firstSeq; s <= rec.lastSeq; s++) if (!got.has(s)) lost.push(s);
    sealedPlans.push({
      rec,
      name: rec.name,
      exists: true,
      problem: damage[0]?.problem ?? 'SHA-256 does not match the catalogue (no record damaged)',
      offset: damage[0]?.offset,
      lines,
      lost,
      ix: six,
    });
  }

  // --- Plain segments: classify every line of every plain file not yet sealed.
  const indexedThrough = ix.lastIndexedSeq();
  const sealedCopies = plainNames.filter(
    (n) => (parseSegmentName(n) as { firstSeq: number }).firstSeq <= indexedThrough,
  );
  const plains = plainNames.filter((n) => !sealedCopies.includes(n));
  const intact = new Map<number, { line: Buffer; file: string }>();
  const damaged: (DamagedLine & { file: string; bytes: Buffer })[] = [];
  const current = new Map<string, Buffer>();
  let plainDirty = sealedCopies.length > 0;
  for (const n of plains) {
    const firstSeq = (parseSegmentName(n) as { firstSeq: number }).firstSeq;
    const buf = readWholeFile(seg(n));
    current.set(n, buf);
    const scan = scanSegmentLines(buf, firstSeq);
    for (const d of scan.damaged)
      damaged.push({ ...d, file: n, bytes: buf.subarray(d.offset, d.offset + d.length) });
    for (const { event, offset, length } of scan.events) {
      const line = buf.subarray(offset, offset + length);
      const prior = intact.get(event.seq);
      if (!prior) intact.set(event.seq, { line, file: n });
      else if (!prior.line.equals(line))
        damaged.push({
          offset,
          length,
          reason: `seq ${event.seq} is also held by ${prior.file} with other bytes`,
          seqHint: event.seq,
          prevSeq: event.seq - 1,
          file: n,
          bytes: line,
        });
    }
  }
  const intactSeqs = [...intact.keys()].sort((a, b) => a - b);
  const desired = new Map<string, Buffer>();
  for (const run of runsOf(intactSeqs.map((seq) => ({ seq })))) {
    const lines = run.map((r) => intact.get(r.seq)!.line);
    desired.set(activeSegmentName(run[0]!.seq), Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
  }
  // Damaged lines after the last intact seq name no neighbour above them: seqs are reserved for
  // them (one per line, or up to the seq their bytes still name), so none is ever handed out twice.
  const lastIntact = intactSeqs[intactSeqs.length - 1] ?? 0;
  let reserveTo = 0;
  const tail = damaged.filter((d) => d.prevSeq >= lastIntact && d.file === plains[plains.length - 1]);
  if (tail.length) {
    const base = Math.max(...tail.map((d) => d.prevSeq));
    reserveTo = base + tail.length;
    for (const d of tail)
      if (d.seqHint !== undefined && d.seqHint > reserveTo && d.seqHint <= base + tail.length + 1000)
        reserveTo = d.seqHint;
  }
  const newestPlain = plains[plains.length - 1];
  const promised = newestPlain ? (parseSegmentName(newestPlain) as { firstSeq: number }).firstSeq - 1 : 0;

  // --- Every seq below the highest ever handed out that nothing holds is lost.
  const afterSealed: [number, number][] = [];
  const planned = new Set(sealedPlans.map((p) => p.name));
  for (const s of ix.segments()) if (!planned.has(s.name)) afterSealed.push([s.firstSeq, s.lastSeq]);
  for (const p of sealedPlans)
    for (const r of runsOf(p.lines)) afterSealed.push([r[0]!.seq, r[r.length - 1]!.seq]);
  const held: [number, number][] = [...afterSealed, ...toRanges(intactSeqs)].sort((a, b) => a[0] - b[0]);
  const sealedLost = new Set(sealedPlans.flatMap((p) => p.lost));
  const hi = Math.max(
    0,
    reserveTo,
    promised,
    lastIntact,
    ...held.map((r) => r[1]),
    ...sealedLost,
    ...knownLost,
  );
  const holes: [number, number][] = [];
  let at = 1;
  for (const [a, b] of held) {
    if (a > at) holes.push([at, a - 1]);
    at = Math.max(at, b + 1);
  }
  if (at <= hi) holes.push([at, hi]);
  const fromQuarantine = quarantinedLost(paths);
  const gapLost: LostSeq[] = [];
  for (const [a, b] of holes) {
    const here = damaged.filter((d) => d.prevSeq === a - 1);
    for (let s = a; s <= b; s++) {
      if (knownLost.has(s) || sealedLost.has(s)) continue;
      const named = here.find((d) => d.seqHint === s);
      const d = named ?? here[0];
      const q = fromQuarantine.get(s);
      gapLost.push({
        seq: s,
        file: d?.file ?? q?.file ?? 'segments/',
        reason: d
          ? `${named ? 'its line' : 'a line between seqs ' + (a - 1) + ' and ' + (b + 1)} in ${d.file} at byte ${d.offset} is damaged (${d.reason})`
          : (q?.reason ?? 'no segment holds it (a segment file was deleted?)'),
        repairedAt: now,
      });
    }
  }
  // A lost record for a seq that a segment holds after all (e.g. an older quarantine report).
  const isHeld = (s: number) => held.some(([a, b]) => a <= s && s <= b);
  const stale = [...knownLost].filter(isHeld);

  // --- Plain files to write and remove.
  for (const [n, buf] of desired) if (!current.get(n)?.equals(buf)) plainDirty = true;
  for (const n of plains) if (!desired.has(n) && (current.get(n)?.length ?? 0) > 0) plainDirty = true;
  const maxLost = Math.max(0, ...knownLost, ...sealedLost, ...gapLost.map((l) => l.seq));
  const lastDesired = [...desired.keys()].sort().at(-1);
  const desiredEnd = lastDesired ? lastIntact : 0;
  // The newest plain file takes the next appends: it must start after every lost seq.
  const needFresh =
    maxLost > 0 && maxLost >= desiredEnd && maxLost > indexedThrough && (plains.length > 0 || plainDirty)
      ? activeSegmentName(maxLost + 1)
      : undefined;
  if (needFresh && !current.has(needFresh)) {
    desired.set(needFresh, Buffer.alloc(0));
    plainDirty = true;
  }
  if (needFresh) {
    // An empty file named below the reserved seqs would take seqs that are lost.
    for (const n of plains) if (n !== needFresh && !desired.has(n)) plainDirty = true;
  }

  const work =
    report.changed ||
    leftovers.length > 0 ||
    sealedPlans.length > 0 ||
    plainDirty ||
    gapLost.length > 0 ||
    stale.length > 0;
  if (!work) {
    report.knownLost = knownLost.size;
    return report;
  }
  report.changed = true;

  // --- 1. The quarantine report first: the evidence exists before anything is forgotten.
  mkdirSync(paths.quarantine, { recursive: true, mode: 0o700 });
  const runStamp = stamp();
  const records: string[] = [];
  for (const d of damaged) {
    records.push(
      JSON.stringify({
        kind: 'damaged-line',
        file: `segments/${d.file}`,
        offset: d.offset,
        length: d.length,
        reason: d.reason,
        seq: d.seqHint,
        bytes: d.bytes.toString('base64'),
      }),
    );
    report.damagedLines.push({
      file: d.file,
      offset: d.offset,
      length: d.length,
      reason: d.reason,
      seq: d.seqHint,
    });
    report.quarantinedBytes += d.length;
  }
  const sealedMoves = new Map<string, string>();
  for (const p of sealedPlans) {
    const outNames = runsOf(p.lines).map((r) => sealedSegmentName(r[0]!.seq, r[r.length - 1]!.seq));
    // Survivors rewritten under the same name replace the file in place (then nothing was lost).
    const movedTo =
      p.exists && !outNames.includes(p.name) ? `quarantine/${p.name}.damaged-${runStamp}` : undefined;
    if (movedTo) sealedMoves.set(p.name, movedTo);
    records.push(
      JSON.stringify({
        kind: 'damaged-segment',
        file: `segments/${p.name}`,
        offset: p.offset,
        problem: p.problem,
        recovered: p.lines.length,
        lost: p.lost.length,
        movedTo,
      }),
    );
  }
  const sealedReason = (p: SealedPlan) =>
    p.exists
      ? `sealed segment damaged${p.offset !== undefined ? ` at byte ${p.offset}` : ''}: ${p.problem}`
      : 'sealed segment file missing';
  const allLost: LostSeq[] = [
    ...sealedPlans.flatMap((p) =>
      p.lost
        .filter((s) => !knownLost.has(s))
        .map((seq) => ({ seq, file: p.name, reason: sealedReason(p), repairedAt: now })),
    ),
    ...gapLost,
  ].sort((a, b) => a.seq - b.seq);
  for (const l of allLost) records.push(JSON.stringify({ kind: 'lost', ...l }));
  const qName = `repair-${runStamp}.jsonl`;
  writeFileDurably(join(paths.quarantine, qName), Buffer.from(records.map((r) => `${r}\n`).join('')));
  fsyncDir(paths.quarantine);
  report.quarantineFile = `quarantine/${qName}`;

  // --- 2. Leftover sealed copies are already covered: aside, before outputs may reuse their names.
  for (const n of leftovers) {
    renameSync(seg(n), join(paths.quarantine, `${n}.leftover-${runStamp}`));
    report.quarantinedBytes += statSync(join(paths.quarantine, `${n}.leftover-${runStamp}`)).size;
  }
  if (leftovers.length) {
    fsyncDir(paths.quarantine);
    fsyncDir(paths.segments);
    report.notes.push(`moved aside sealed copies already covered by the catalogue: ${leftovers.join(', ')}`);
  }

  // --- 3. Sealed segments: survivors rewritten, then one transaction swaps them in with the lost seqs.
  const rows = sealedPlans.some((p) => p.rec) ? ix.keyRows() : [];
  const parsed = new Map<number, SegmentIndex | undefined>();
  for (const p of sealedPlans) {
    const outputs: SegmentArtifacts[] = [];
    for (const run of runsOf(p.lines)) outputs.push(await writeSealedRun(paths, run, opts));
    fsyncDir(paths.segments);
    let counts: { kind: number; hash: number; value?: string; n: number }[];
    if (p.rec && p.ix) {
      const others = ix.segments().filter((r) => r.id !== p.rec!.id);
      counts = lostKeyCounts(
        rows,
        p.ix,
        p.lines.map((l) => l.event),
        report.notes,
        (stream) => others.some((r) => otherIndex(ix, r, parsed)?.lookup('stream', stream).length),
      );
    } else if (p.rec) {
      counts = [];
      report.notes.push(`${p.name}: no index blob, so stream/type/tenant counts keep its lost events`);
    } else counts = outputs.flatMap((o) => o.counts.map((c) => ({ ...c, hash: keyHash(c.value) })));
    ix.replaceSegment(
      p.rec?.id,
      outputs.map((o) => ({ segment: o.segment, blob: o.blob })),
      counts,
      allLost.filter((l) => l.file === p.name),
    );
    const movedTo = sealedMoves.get(p.name);
    if (movedTo) {
      renameSync(seg(p.name), join(paths.root, movedTo));
      fsyncDir(paths.quarantine);
      fsyncDir(paths.segments);
      report.quarantinedBytes += statSync(join(paths.root, movedTo)).size;
    }
    report.recoveredEvents += p.lines.length;
    report.sealed.push({
      file: p.name,
      problem: p.problem,
      offset: p.offset,
      recoveredEvents: p.lines.length,
      lostEvents: p.lost.length,
      rewrittenAs: outputs.map((o) => o.segment.name),
      quarantinedAs: movedTo,
    });
  }

  // --- 4. Plain segments: lost seqs committed first, then new files, then replaced ones, then removals.
  ix.recordLost(gapLost);
  if (stale.length) {
    ix.forgetLost(stale);
    report.notes.push(
      `forgot lost-seq records for seqs a segment holds: ${formatRanges(stale.sort((a, b) => a - b))}`,
    );
  }
  if (plainDirty) {
    const fresh = [...desired.keys()].filter((n) => !current.has(n)).sort();
    const replace = [...desired.keys()].filter(
      (n) => current.has(n) && !current.get(n)!.equals(desired.get(n)!),
    );
    // Descending: a file's moved lines always go to later-named files, which are written first.
    replace.sort().reverse();
    for (const n of [...fresh, ...replace]) {
      writeFileDurably(seg(n), desired.get(n)!);
      fsyncDir(paths.segments);
      report.plainWritten.push(n);
    }
    for (const n of [...plains.filter((x) => !desired.has(x)), ...sealedCopies]) {
      unlinkDurably(seg(n), paths.segments);
      report.plainRemoved.push(n);
    }
    const damagedFiles = new Set(damaged.map((d) => d.file));
    for (const seq of intactSeqs) if (damagedFiles.has(intact.get(seq)!.file)) report.recoveredEvents++;
  }

  report.lost = allLost;
  report.lostRanges = formatRanges(allLost.map((l) => l.seq));
  report.knownLost = ix.lostSeqs().length;
  return report;
}
