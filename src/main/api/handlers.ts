import {
  apiParamSchemas,
  isApiMethod,
  type ApiHealth,
  type ApiMethod,
  type ApiOpenReport,
  type ApiOpenedStore,
  type ApiRecentStore,
  type ApiParams,
  type ApiResult,
  type ApiResultOf,
  type CallContext,
  type Handlers,
} from '../../shared/api';
import { ChronoscopeError } from '../../shared/errors';
import { parseOrThrow } from '../../shared/query';
import type { MetricsSnapshot } from '../engine/metrics';
import type { EventStore } from '../engine/types';
import { buildChain } from './chain';
import type { OpenSnapshotOptions } from '../engine/timetravel/openSnapshots';
import { followHandlers } from './follow';
import { replayHandlers } from './replay';
import { JobRegistry } from './jobs';
import { timeTravelHandlers } from './timetravel';
import { toApiError } from './toApiError';

/** What some backends offer beyond EventStore; read structurally so the API needs no backend imports. */
interface Instrumented {
  metrics?: { snapshot(): MetricsSnapshot };
  report?: ApiOpenReport;
}

/** What a host that can switch stores lends the handler table (see host/workspace.ts). */
export interface WorkspaceLink {
  open(path: string, how: { readOnly: boolean; create: boolean }): Promise<ApiOpenedStore>;
  recent(): ApiRecentStore[];
}

export interface ApiOptions {
  /** Snapshot strategies and budget (chronoscope.config.json `snapshots`). */
  snapshots?: OpenSnapshotOptions;
  /** Present when the host can switch stores; without it `openStore` is refused. */
  workspace?: WorkspaceLink;
  /** Called with errors that are not ChronoscopeErrors (bugs), so the host can log them; callers see INTERNAL. */
  onInternalError?: (err: unknown, method: string) => void;
}

/** The one handler table (DESIGN §6) plus a validating dispatcher that every transport calls. */
export interface Api {
  readonly handlers: Handlers;
  /** Long calls in flight: hosts forward its updates to their push channel. */
  readonly jobs: JobRegistry;
  /** Validates and runs one call; never throws: every outcome is an envelope. */
  dispatch(method: unknown, params: unknown): Promise<ApiResult<unknown>>;
  /** Stops what the API started (followed files); the store itself is the host's to close. */
  close(): Promise<void>;
  /** Typed variant for in-process callers (CLI, tests). */
  call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResult<ApiResultOf<M>>>;
}

/** Binds every API method to one store; hosts share the result, so all of them behave alike. */
export function createApi(store: EventStore, options: ApiOptions = {}): Api {
  const extra = store as EventStore & Instrumented;
  const notFound = (what: string) => new ChronoscopeError('NOT_FOUND', `no event with ${what}`, { what });
  const resolve = async (ref: { id?: string; seq?: number }) => {
    const e = ref.id !== undefined ? await store.getEvent(ref.id) : await store.getBySeq(ref.seq!);
    if (!e) throw notFound(ref.id !== undefined ? `id ${ref.id}` : `seq ${ref.seq}`);
    return e;
  };

  const jobs = new JobRegistry();
  const follows = followHandlers(store);
  const replays = replayHandlers(store);
  const { close: closeTimeTravel, ...timeTravel } = timeTravelHandlers(store, options.snapshots);
  const handlers = {
    ...follows.handlers,
    ...replays.handlers,
    ...timeTravel,
    cancelJob: async (p) => ({ cancelled: jobs.cancel(p.job) }),
    openStore: async (p) => {
      if (!options.workspace)
        throw new ChronoscopeError('INVALID_ARGUMENT', 'this host serves one store and cannot open another', {
          field: 'path',
        });
      return options.workspace.open(p.path, { readOnly: p.readOnly, create: p.create });
    },
    recentStores: async () => options.workspace?.recent() ?? [],
    stats: () => store.stats(),
    query: (p) => store.query(p.filter ?? {}, p.options ?? {}),
    histogram: (p) => store.histogram(p.filter ?? {}, { buckets: p.buckets }),
    getEvent: (p) => resolve(p),
    readStream: async (p) => {
      const last = p.fromVersion + p.limit; // one extra tells whether more follow
      const to = p.toVersion === undefined ? last : Math.min(p.toVersion, last);
      const events = await store.readStream(p.stream, p.fromVersion, to);
      const hasMore = events.length > p.limit;
      return { events: hasMore ? events.slice(0, p.limit) : events, hasMore };
    },
    chain: async (p) => buildChain(store, await resolve(p), p.limit),
    metrics: async () => {
      const snap = extra.metrics?.snapshot() ?? { latency: {}, counters: {} };
      const stats = await store.stats();
      return {
        backend: store.backend,
        latency: snap.latency,
        counters: snap.counters,
        storage: stats.storage,
        openReport: extra.report ?? null,
      };
    },
    health: async () => {
      const h: ApiHealth = {
        status: 'ok',
        backend: store.backend,
        readOnly: store.readOnly,
        lastSeq: 0,
        sealBacklog: 0,
        problems: [],
      };
      try {
        await store.getBySeq(1); // a liveness probe every backend guards (health() does not check CLOSED)
        const engine = await store.health();
        return {
          ...h,
          status: engine.status,
          lastSeq: engine.lastSeq,
          sealBacklog: engine.sealBacklog,
          problems: engine.problems,
        };
      } catch (err) {
        const e = toApiError(err);
        return { ...h, status: e.code === 'CLOSED' ? 'closed' : 'degraded', problems: [e.message] };
      }
    },
    verify: () => store.verify(),
    append: (p) =>
      store.append(p.events, p.expectedVersion === undefined ? {} : { expectedVersion: p.expectedVersion }),
  } satisfies Handlers;

  async function dispatch(method: unknown, params: unknown): Promise<ApiResult<unknown>> {
    try {
      if (!isApiMethod(method))
        throw new ChronoscopeError('INVALID_ARGUMENT', `unknown method ${JSON.stringify(String(method))}`, {
          field: 'method',
        });
      const parsed = parseOrThrow(apiParamSchemas[method], params ?? {}, 'params');
      const run = handlers[method] as (p: unknown, ctx: CallContext) => Promise<unknown>;
      const jobId = (parsed as { jobId?: string }).jobId;
      return { ok: true, value: await jobs.run(jobId, method, (ctx) => run(parsed, ctx)) };
    } catch (err) {
      return { ok: false, error: toApiError(err, (e) => options.onInternalError?.(e, String(method))) };
    }
  }

  return {
    handlers,
    jobs,
    dispatch,
    close: async () => {
      await follows.close();
      await replays.close();
      await closeTimeTravel();
    },
    call: (method, params) => dispatch(method, params) as never,
  };
}
