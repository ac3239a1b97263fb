import type { Histogram, LatencySummary, OpenReport, StoreStats, VerifyReport } from './storeTypes';
import { z } from 'zod';
import type { ErrorCode } from './errors';
import { eventInputSchema, type JsonValue, type StoredEvent } from './event';
import type { DiffEntry } from './projection';
import { eventFilterSchema, queryOptionsSchema, type QueryPage } from './query';

/*
 * THE API (DESIGN §1, §6): every engine operation the hosts expose, as one mapped type plus the
 * zod schemas that validate its params at every edge. Pure: compiled for main and renderer alike.
 */

/** A method that takes no params still gets a strict object, so stray keys are rejected. */
const noParams = z.object({}).strict();

/** An event named by id or by seq — exactly one of them. */
const eventRefSchema = z
  .object({
    id: z.string().min(1).max(200).optional(),
    seq: z.number().int().min(1).optional(),
  })
  .strict()
  .refine((r) => (r.id === undefined) !== (r.seq === undefined), {
    message: 'give exactly one of id or seq',
  });

/** A caller-chosen id that makes a long call cancellable (`cancelJob`) and report progress. */
const jobIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, at most 64')
  .optional();

const streamNameSchema = z.string().min(1).max(1024);

/** Where to stop folding: after the last event with seq ≤ `seq`, time ≤ `time`, stream version ≤ `version`. */
const positionSchema = z
  .object({
    seq: z.number().int().min(0).optional(),
    time: z.string().min(1).max(64).optional(),
    version: z.number().int().min(0).optional(),
  })
  .strict();

/** A path on the host's machine, as a user types it in the browser (Electron's picker gives the same). */
const hostPathSchema = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes('\0'), 'must not contain NUL')
  .refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p), 'must be an absolute path');

const importFormatSchema = z.enum(['auto', 'native', 'cloudevents', 'snake', 'camel']).default('auto');

/** Params schemas for every method: the single source of truth for what a caller may send. */
export const apiParamSchemas = {
  stats: noParams,
  query: z.object({ filter: eventFilterSchema.optional(), options: queryOptionsSchema.optional() }).strict(),
  histogram: z
    .object({ filter: eventFilterSchema.optional(), buckets: z.number().int().min(1).max(10_000).optional() })
    .strict(),
  getEvent: eventRefSchema,
  readStream: z
    .object({
      stream: z.string().min(1).max(1024),
      fromVersion: z.number().int().min(1).default(1),
      toVersion: z.number().int().min(1).optional(),
      limit: z.number().int().min(1).max(10_000).default(1000),
    })
    .strict(),
  chain: z
    .object({
      id: z.string().min(1).max(200).optional(),
      seq: z.number().int().min(1).optional(),
      limit: z.number().int().min(1).max(10_000).default(1000),
    })
    .strict()
    .refine((r) => (r.id === undefined) !== (r.seq === undefined), {
      message: 'give exactly one of id or seq',
    }),
  metrics: noParams,
  health: noParams,
  verify: noParams,
  append: z
    .object({
      events: z.array(eventInputSchema).min(1).max(10_000),
      expectedVersion: z.number().int().min(0).optional(),
    })
    .strict(),
  stateAt: z
    .object({
      stream: streamNameSchema.optional(),
      at: positionSchema.default({}),
      /** A JS/TS projection module (init/apply) to fold instead of the generic reducer. */
      projection: hostPathSchema.optional(),
      jobId: jobIdSchema,
    })
    .strict(),
  diff: z
    .object({
      stream: streamNameSchema.optional(),
      from: positionSchema,
      to: positionSchema,
      projection: hostPathSchema.optional(),
      jobId: jobIdSchema,
    })
    .strict(),
  bisect: z
    .object({
      stream: streamNameSchema.optional(),
      /** A stream name or a prefix pattern ending in `*`: the first event after which ANY of them satisfies `where`. */
      streams: streamNameSchema.optional(),
      where: z.string().min(1).max(4096),
      /** `condition`: `total < 0 && exists(coupon)`; `js`: a JS expression over `state`. */
      language: z.enum(['condition', 'js']).default('condition'),
      projection: hostPathSchema.optional(),
      /** Fold once more through everything to check the condition never turns false again. */
      verify: z.boolean().optional(),
      jobId: jobIdSchema,
    })
    .strict()
    .refine((r) => r.stream === undefined || r.streams === undefined, {
      message: 'give stream or streams, not both',
    }),
  follow: z
    .object({
      /** An absolute path of a JSONL file or a folder of them, on the host's machine. */
      path: hostPathSchema,
      format: importFormatSchema,
    })
    .strict(),
  importFiles: z
    .object({
      paths: z.array(hostPathSchema).min(1).max(1000),
      format: importFormatSchema,
      jobId: jobIdSchema,
    })
    .strict(),
  unfollow: z.object({ id: z.string().min(1).max(64) }).strict(),
  follows: noParams,
  replayStart: z
    .object({
      /** A JS/TS module exporting init + apply (projection) or handle (handler). */
      module: hostPathSchema,
      filter: eventFilterSchema.optional(),
      from: z.number().int().min(1).optional(),
      to: z.number().int().min(0).optional(),
      /** Events per second; omitted: as fast as the module goes. */
      speed: z.number().positive().max(1_000_000).optional(),
      breakpoints: z
        .array(
          z
            .object({ expr: z.string().min(1).max(4096).optional(), filter: eventFilterSchema.optional() })
            .strict(),
        )
        .max(20)
        .default([]),
      startPaused: z.boolean().default(false),
    })
    .strict(),
  replayControl: z
    .object({
      id: z.string().min(1).max(64),
      action: z.enum(['pause', 'resume', 'step', 'back', 'retry', 'skip', 'abort', 'close']),
    })
    .strict(),
  replayStatus: z.object({ id: z.string().min(1).max(64) }).strict(),
  openStore: z
    .object({
      path: hostPathSchema,
      readOnly: z.boolean().default(false),
      create: z.boolean().default(false),
    })
    .strict(),
  recentStores: noParams,
  /** Named `job`, not `jobId`: a jobId param makes the call itself a job. */
  cancelJob: z.object({ job: z.string().min(1).max(64) }).strict(),
} as const;

type Schemas = typeof apiParamSchemas;

export type ApiStats = StoreStats;

export type ApiVerifyReport = VerifyReport;

export type ApiLatency = LatencySummary;

export type ApiOpenReport = OpenReport;

export interface ApiMetrics {
  backend: 'memory' | 'file';
  latency: Record<string, ApiLatency>;
  counters: Record<string, number>;
  storage: ApiStats['storage'];
  openReport: ApiOpenReport | null;
}

export interface ApiHealth {
  status: 'ok' | 'degraded' | 'closed';
  backend: 'memory' | 'file';
  readOnly: boolean;
  lastSeq: number;
  /** Segments waiting to be sealed (file backend); a growing backlog means sealing cannot keep up. */
  sealBacklog: number;
  /** Human-readable reasons when status is not ok. */
  problems: string[];
}

/** A correlation/causation chain: everything that shares the event's correlationId plus its causes. */
export interface ApiChain {
  event: StoredEvent;
  /** Events with the same correlationId, in seq order (empty when the event has none). */
  correlated: StoredEvent[];
  /** True when `correlated` was cut at the limit. */
  truncated: boolean;
  /** Causation ancestors, nearest cause first; stops at a missing id or a cycle. */
  ancestors: StoredEvent[];
  /** A causationId that names no stored event, if the walk ended on one. */
  missingCause?: string;
  /** Events whose causationId is this event's id, in seq order. */
  children: StoredEvent[];
}

export interface ApiStreamPage {
  events: StoredEvent[];
  /** True when the stream continues past the last returned version. */
  hasMore: boolean;
}

export interface ApiAppendResult {
  events: StoredEvent[];
  appended: number;
  duplicates: number;
  lastSeq: number;
}

/** A position a state stands after (seq 0 and no event: the initial state). */
export interface ApiPosition {
  seq: number;
  version?: number;
  time?: string;
  eventId?: string;
}

export interface ApiStateAt {
  scope: 'stream' | 'global';
  stream?: string;
  /** The projection that folded it (the built-in generic reducers unless said otherwise). */
  projection: string;
  state: JsonValue;
  position: ApiPosition;
  /** Events applied by this call, after the snapshot it started from. */
  folded: number;
  fromSnapshot?: number;
}

export interface ApiDiff {
  scope: 'stream' | 'global';
  stream?: string;
  from: ApiPosition;
  to: ApiPosition;
  entries: DiffEntry[];
  folded: number;
}

export interface ApiBisect {
  where: string;
  found: boolean;
  /** Seq of the event that flipped the condition (0: it holds before any event). */
  seq: number;
  version?: number;
  stream?: string;
  event?: StoredEvent;
  stateBefore?: JsonValue;
  stateAfter?: JsonValue;
  diff: DiffEntry[];
  folds: number;
  applied: number;
  monotone?: boolean;
  notes: string[];
}

/** One followed file's counters (engine/ingest/follow.ts). */
export interface ApiFollowedFile {
  path: string;
  /** Bytes of the current file consumed (complete lines only). */
  offset: number;
  /** Lines read since following began, across rotations and truncations. */
  lines: number;
  imported: number;
  duplicates: number;
  quarantined: number;
  /** The file was replaced by a new one (renamed away and recreated). */
  rotations: number;
  /** The file shrank below what was read (truncated in place): reading restarted at 0. */
  truncations: number;
  format?: string;
  /** The last problem reading it (the file is gone, unreadable, or its format is not recognised). */
  error?: string;
}

/** An external file or folder being tailed into the open store. */
export interface ApiFollow {
  id: string;
  path: string;
  kind: 'file' | 'folder';
  files: ApiFollowedFile[];
  quarantine: { file: string; line: number; reason: string; raw: string }[];
}

/** What an import did: per-file and total counts and the first quarantined lines. */
export interface ApiImportSummary {
  lines: number;
  blank: number;
  imported: number;
  duplicates: number;
  quarantined: number;
  failedFiles: number;
  elapsedMs: number;
  files: {
    file: string;
    bytes: number;
    lines: number;
    imported: number;
    duplicates: number;
    quarantined: number;
    format?: string;
    detection?: string;
    error?: { code: string; message: string };
  }[];
  quarantine: { file: string; line: number; reason: string; raw: string }[];
}

/** The store a host has open after `openStore`. */
export interface ApiOpenedStore {
  path: string;
  backend: 'memory' | 'file';
  readOnly: boolean;
  events: number;
}

/** A store opened before, newest first (kept in the user data folder). */
export interface ApiRecentStore {
  path: string;
  openedAt: string;
}

/** A replay session as the UI sees it (see engine/timetravel/replay.ts). */
export interface ApiReplay {
  id: string;
  file: string;
  kind: 'projection' | 'handler';
  codeHash: string;
  status: 'idle' | 'running' | 'paused' | 'error' | 'done' | 'aborted';
  from: number;
  to: number;
  /** Seq of the last event handled. */
  position: number;
  processed: number;
  /** 0..1 over the seq range. */
  fraction: number;
  /** The projection's state (null for a handler). */
  state: JsonValue;
  paused?: { reason: 'user' | 'breakpoint' | 'step'; next?: StoredEvent };
  failure?: { seq: number; event: StoredEvent; message: string; stack: string; attempt: number };
  result?: { status: 'done' | 'aborted'; skipped: number[]; notes: string[] };
  /** A setup or unexpected error that ended the run. */
  error?: string;
  /** The module's console output and reload notices, newest last. */
  log: string[];
}

/** A long call's progress, pushed to the UI (SSE `/api/jobs/stream`, or IPC in Electron). */
export interface ApiJobUpdate {
  jobId: string;
  method: string;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  done: number;
  total: number;
  message?: string;
}

/** What a handler gets besides its params: a cancel signal and a progress callback. */
export interface CallContext {
  signal: AbortSignal;
  progress(done: number, total: number): void;
}

/** Errors any method may report besides its own. */
type CommonErrors = 'INVALID_ARGUMENT' | 'CLOSED' | 'CORRUPT' | 'IO_ERROR' | 'INTERNAL';

/** THE contract: method → params (as callers write them), result, and the error codes it may report. */
export interface EngineApi {
  stats: { params: z.input<Schemas['stats']>; result: ApiStats; errors: CommonErrors };
  query: { params: z.input<Schemas['query']>; result: QueryPage; errors: CommonErrors };
  histogram: { params: z.input<Schemas['histogram']>; result: Histogram; errors: CommonErrors };
  getEvent: { params: z.input<Schemas['getEvent']>; result: StoredEvent; errors: CommonErrors | 'NOT_FOUND' };
  readStream: { params: z.input<Schemas['readStream']>; result: ApiStreamPage; errors: CommonErrors };
  chain: { params: z.input<Schemas['chain']>; result: ApiChain; errors: CommonErrors | 'NOT_FOUND' };
  metrics: { params: z.input<Schemas['metrics']>; result: ApiMetrics; errors: CommonErrors };
  health: { params: z.input<Schemas['health']>; result: ApiHealth; errors: never };
  verify: { params: z.input<Schemas['verify']>; result: ApiVerifyReport; errors: CommonErrors };
  append: {
    params: z.input<Schemas['append']>;
    result: ApiAppendResult;
    errors:
      CommonErrors | 'INVALID_EVENT' | 'CONCURRENCY_CONFLICT' | 'DUPLICATE_ID' | 'READ_ONLY' | 'NO_SPACE';
  };
  stateAt: { params: z.input<Schemas['stateAt']>; result: ApiStateAt; errors: CommonErrors | 'CANCELLED' };
  diff: { params: z.input<Schemas['diff']>; result: ApiDiff; errors: CommonErrors | 'CANCELLED' };
  bisect: { params: z.input<Schemas['bisect']>; result: ApiBisect; errors: CommonErrors | 'CANCELLED' };
  cancelJob: { params: z.input<Schemas['cancelJob']>; result: { cancelled: boolean }; errors: CommonErrors };
  follow: {
    params: z.input<Schemas['follow']>;
    result: ApiFollow;
    errors: CommonErrors | 'NOT_FOUND' | 'READ_ONLY';
  };
  unfollow: { params: z.input<Schemas['unfollow']>; result: { stopped: boolean }; errors: CommonErrors };
  follows: { params: z.input<Schemas['follows']>; result: ApiFollow[]; errors: CommonErrors };
  openStore: {
    params: z.input<Schemas['openStore']>;
    result: ApiOpenedStore;
    errors: CommonErrors | 'NOT_FOUND' | 'LOCKED';
  };
  recentStores: { params: z.input<Schemas['recentStores']>; result: ApiRecentStore[]; errors: CommonErrors };
  replayStart: {
    params: z.input<Schemas['replayStart']>;
    result: ApiReplay;
    errors: CommonErrors | 'NOT_FOUND';
  };
  replayControl: {
    params: z.input<Schemas['replayControl']>;
    result: ApiReplay;
    errors: CommonErrors | 'NOT_FOUND';
  };
  replayStatus: {
    params: z.input<Schemas['replayStatus']>;
    result: ApiReplay;
    errors: CommonErrors | 'NOT_FOUND';
  };
  importFiles: {
    params: z.input<Schemas['importFiles']>;
    result: ApiImportSummary;
    errors: CommonErrors | 'NOT_FOUND' | 'READ_ONLY' | 'NO_SPACE' | 'CANCELLED';
  };
}

export type ApiMethod = keyof EngineApi;
export type ApiParams<M extends ApiMethod> = EngineApi[M]['params'];
export type ApiResultOf<M extends ApiMethod> = EngineApi[M]['result'];
/** Params after validation (defaults filled in): what a handler receives. */
export type ParsedParams<M extends ApiMethod> = z.output<Schemas[M]>;

/** The handler table's shape: a missing or mistyped handler fails to compile. */
export type Handlers = {
  [M in ApiMethod]: (params: ParsedParams<M>, ctx: CallContext) => Promise<ApiResultOf<M>>;
};

/** Codes a transport adds on top of the engine's: the web host's auth checks and a lost connection. */
export type TransportErrorCode = 'UNAUTHORIZED' | 'FORBIDDEN' | 'NETWORK';
export type ApiErrorCode = ErrorCode | TransportErrorCode;

/** An error as data, so it survives IPC and HTTP (Electron's IPC keeps only an Error's message). */
export interface ApiError {
  code: ApiErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

/** Every response of every transport. */
export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export const API_METHODS = Object.keys(apiParamSchemas) as ApiMethod[];

/** True for an own key of the table, so `__proto__` or `toString` never reach a handler. */
export function isApiMethod(m: unknown): m is ApiMethod {
  return typeof m === 'string' && Object.prototype.hasOwnProperty.call(apiParamSchemas, m);
}
