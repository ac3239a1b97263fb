import type { Histogram, LatencySummary, OpenReport, StoreStats, VerifyReport } from './storeTypes';
import { z } from 'zod';
import type { ErrorCode } from './errors';
import { eventInputSchema, type StoredEvent } from './event';
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
}

export type ApiMethod = keyof EngineApi;
export type ApiParams<M extends ApiMethod> = EngineApi[M]['params'];
export type ApiResultOf<M extends ApiMethod> = EngineApi[M]['result'];
/** Params after validation (defaults filled in): what a handler receives. */
export type ParsedParams<M extends ApiMethod> = z.output<Schemas[M]>;

/** The handler table's shape: a missing or mistyped handler fails to compile. */
export type Handlers = { [M in ApiMethod]: (params: ParsedParams<M>) => Promise<ApiResultOf<M>> };

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
