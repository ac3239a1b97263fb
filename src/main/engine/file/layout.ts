import { join } from 'node:path';

/** File names inside a store folder (DESIGN §3). Seqs are zero-padded to 12 digits so names sort. */
export const DB_FILE = 'chronoscope.db';
export const SEGMENTS_DIR = 'segments';
export const LOCK_FILE = 'LOCK';
export const QUARANTINE_DIR = 'quarantine';

const pad = (n: number) => String(n).padStart(12, '0');

export function activeSegmentName(firstSeq: number): string {
  return `${pad(firstSeq)}.jsonl`;
}

export function sealedSegmentName(firstSeq: number, lastSeq: number): string {
  return `${pad(firstSeq)}-${pad(lastSeq)}.jsonl.gz`;
}

export type SegmentName =
  | { kind: 'active'; firstSeq: number }
  | { kind: 'sealed'; firstSeq: number; lastSeq: number }
  | { kind: 'tmp' }
  | { kind: 'other' };

/** Classifies a file found in segments/: what recovery should make of it. */
export function parseSegmentName(name: string): SegmentName {
  if (name.endsWith('.tmp')) return { kind: 'tmp' };
  let m = /^(\d{12})\.jsonl$/.exec(name);
  if (m) return { kind: 'active', firstSeq: Number(m[1]) };
  m = /^(\d{12})-(\d{12})\.jsonl\.gz$/.exec(name);
  if (m) return { kind: 'sealed', firstSeq: Number(m[1]), lastSeq: Number(m[2]) };
  return { kind: 'other' };
}

export function storePaths(root: string) {
  return {
    root,
    db: join(root, DB_FILE),
    segments: join(root, SEGMENTS_DIR),
    lock: join(root, LOCK_FILE),
    quarantine: join(root, QUARANTINE_DIR),
    segment: (name: string) => join(root, SEGMENTS_DIR, name),
  };
}
export type StorePaths = ReturnType<typeof storePaths>;
