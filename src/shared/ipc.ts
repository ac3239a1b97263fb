import type { ApiMethod, ApiParams, ApiResult, ApiResultOf } from './api';

/** The IPC channel both the Electron main process and the preload use (kept free of zod for the preload bundle). */
export const IPC_CHANNEL = 'chronoscope:call';

/** What the preload exposes as `window.chronoscope`: nothing but the typed call. */
export interface PreloadApi {
  call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResult<ApiResultOf<M>>>;
}
