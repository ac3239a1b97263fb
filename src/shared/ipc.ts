import type { ApiJobUpdate, ApiMethod, ApiParams, ApiResult, ApiResultOf } from './api';

/** The IPC channel both the Electron main process and the preload use (kept free of zod for the preload bundle). */
export const IPC_CHANNEL = 'chronoscope:call';
/** Main → page pushes of job progress (ApiJobUpdate). */
export const JOB_CHANNEL = 'chronoscope:job';

/** What the preload exposes as `window.chronoscope`: the typed call and job progress, nothing else. */
export interface PreloadApi {
  call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResult<ApiResultOf<M>>>;
  /** The path of a file dropped on the page (Electron's webUtils); a browser never reveals it. */
  pathForFile?(file: File): string;
  /** Subscribes to job progress; returns the unsubscribe function. */
  onJob(listener: (update: ApiJobUpdate) => void): () => void;
}
