import type { ApiError, ApiResult } from '@shared/api';

/** How a call reaches the handler table: Electron IPC or HTTP to the web host. Both return envelopes. */
export interface Transport {
  readonly kind: 'ipc' | 'http';
  call(method: string, params: unknown): Promise<ApiResult<unknown>>;
}

/** IPC through the preload's `window.chronoscope` (Electron). */
export function ipcTransport(bridge: NonNullable<Window['chronoscope']>): Transport {
  return {
    kind: 'ipc',
    call: (method, params) =>
      (bridge.call as (m: string, p: unknown) => Promise<ApiResult<unknown>>)(method, params),
  };
}

function isEnvelope(v: unknown): v is ApiResult<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { ok?: unknown }).ok === 'boolean';
}

/** JSON over HTTP to the web host; the HttpOnly cookie set from the launch URL authenticates it. */
export function httpTransport(base = ''): Transport {
  return {
    kind: 'http',
    async call(method, params) {
      let res: Response;
      try {
        res = await fetch(`${base}/api/${encodeURIComponent(method)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(params ?? {}),
          credentials: 'same-origin',
        });
      } catch (err) {
        const error: ApiError = {
          code: 'NETWORK',
          message: `cannot reach the Chronoscope host (${(err as Error).message}); is it still running?`,
        };
        return { ok: false, error };
      }
      const body: unknown = await res.json().catch(() => undefined);
      if (isEnvelope(body)) return body;
      return {
        ok: false,
        error: {
          code: 'NETWORK',
          message: `the host answered ${res.status} ${res.statusText} without a result`,
        },
      };
    },
  };
}
