/**
 * Plain data the engine reports and every host passes on unchanged (stats, verify findings,
 * recovery reports, latency summaries): declared once here so the API contract can name them.
 */

export interface StoreStats {
  backend: 'memory' | 'file';
  path?: string;
  readOnly: boolean;
  events: number;
  streams: number;
  firstSeq: number;
  lastSeq: number;
  firstTime?: string;
  lastTime?: string;
  types: Record<string, number>;
  tenants: Record<string, number>;
  storage: {
    /** Bytes of events held in the in-memory hot tier (estimated). */
    hotBytes: number;
    hotEvents: number;
    activeSegmentBytes: number;
    sealedSegmentBytes: number;
    sealedSegments: number;
    indexBytes: number;
  };
}

export interface VerifyIssue {
  file: string;
  offset?: number;
  seq?: number;
  problem: string;
}

export interface VerifyReport {
  ok: boolean;
  checkedEvents: number;
  checkedSegments: number;
  issues: VerifyIssue[];
}

/** What opening a store had to repair; shown by the CLI and kept in stats. */
export interface OpenReport {
  tornTailBytes: number;
  tornTailFile?: string;
  removedTmp: string[];
  /** Sealed segments found on disk but missing from the index, now indexed. */
  indexedSegments: string[];
  /** Plain segments whose sealed copy was already indexed (a crash after sealing), now removed. */
  removedSealedPlain: string[];
  rebuiltIndex: boolean;
  rebuildReason?: string;
  /** Problems that could not be repaired; reads touching them fail with CORRUPT. */
  problems: { file: string; offset?: number; problem: string }[];
}

/** Latency summary of one operation, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Per-operation latency summaries and named counters (index use, errors). */
export interface MetricsSnapshot {
  latency: Record<string, LatencySummary>;
  counters: Record<string, number>;
}

/** Events per time bucket for a filter: what the timeline shows. */
export interface Histogram {
  /** Start of the first bucket (ISO, a whole second). */
  from: string;
  /** End of the last bucket (exclusive). */
  to: string;
  /** Bucket width in milliseconds (a whole number of seconds). */
  bucketMs: number;
  counts: number[];
  total: number;
  /** Indexes of buckets far above the typical count (more than mean + 3σ, at least 5 events): bursts. */
  bursts: number[];
}
