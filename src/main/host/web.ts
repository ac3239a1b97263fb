import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyError } from 'fastify';
import { existsSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ApiErrorCode } from '../../shared/api';
import { createApi, type Api } from '../api/handlers';
import type { EventStore } from '../engine/types';
import { createJobStreamHandler, createSseHandler } from './sse';
import { createGuard, newToken } from './webGuard';
import type { Workspace } from './workspace';

/** The renderer may load only its own code; data never becomes markup or script (DESIGN §6). */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'";

export interface WebHostOptions {
  /** One store for the host's lifetime… */
  store?: EventStore;
  /** …or a workspace whose store `openStore` can switch (the app's mode). */
  workspace?: Workspace;
  /** Reuse a handler table (e.g. one with logging); default createApi(store). */
  api?: Api;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Folder of the built renderer (`out/renderer`); without one, `/` explains how to build it. */
  rendererDir?: string;
  /** Where bugs (non-ChronoscopeErrors) are reported; default stderr. */
  log?: (message: string) => void;
}

export interface WebHost {
  /** The URL to open, carrying the token once. */
  url: string;
  token: string;
  port: number;
  /** Live-tail connections currently open (each holds one store subscription). */
  openStreams(): number;
  close(): Promise<void>;
}

const STATUS: Partial<Record<ApiErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  INVALID_EVENT: 400,
  NOT_FOUND: 404,
  CONCURRENCY_CONFLICT: 409,
  DUPLICATE_ID: 409,
  READ_ONLY: 409,
  LOCKED: 423,
  CLOSED: 503,
  INTERNAL: 500,
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Chronoscope</title>
<p>The renderer is not built yet. Run <code>npx electron-vite build</code> and reload.</p>`;

/** The local web host: the built renderer, the JSON API and an SSE live tail, on 127.0.0.1 only, behind a per-run token. */
export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const ws = options.workspace;
  if (!ws && !options.store) throw new Error('startWebHost: give a store or a workspace');
  const fixedApi = ws
    ? undefined
    : (options.api ??
      createApi(options.store!, {
        onInternalError: (err, method) =>
          log(`internal error in ${method}: ${(err as Error)?.stack ?? String(err)}`),
      }));
  const api = () => ws?.api ?? fixedApi!;
  const store = () => ws?.store ?? options.store!;
  const token = newToken();
  let port = 0;
  const streams = new Set<ServerResponse>();
  const app = Fastify({ logger: false, bodyLimit: 64 << 20, forceCloseConnections: true });

  app.addHook(
    'onRequest',
    createGuard(token, () => port),
  );
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    return payload;
  });
  app.setErrorHandler((err: FastifyError, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) log(`web host error: ${err.stack ?? err.message}`);
    const message = status === 500 ? 'internal error' : `bad request: ${err.message}`;
    void reply
      .code(status)
      .send({ ok: false, error: { code: status === 500 ? 'INTERNAL' : 'INVALID_ARGUMENT', message } });
  });

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/api/events/stream', createSseHandler(store, streams));
  app.get(
    '/api/jobs/stream',
    createJobStreamHandler(() => api().jobs, streams),
  );
  app.post('/api/:method', async (req, reply) => {
    const { method } = req.params as { method: string };
    const result = await api().dispatch(method, req.body);
    reply.header('cache-control', 'no-store');
    if (!result.ok) reply.code(STATUS[result.error.code] ?? 500);
    return result;
  });

  const dir = options.rendererDir;
  if (dir && existsSync(join(dir, 'index.html'))) {
    await app.register(fastifyStatic, { root: dir, index: ['index.html'], wildcard: true });
    // One-page app: any other GET that is not the API shows the page, which reads its state from the URL.
    app.setNotFoundHandler((req, reply) => {
      if (req.method === 'GET' && !req.url.startsWith('/api/')) return reply.sendFile('index.html');
      return reply.code(404).send({ ok: false, error: { code: 'NOT_FOUND', message: 'no such endpoint' } });
    });
  } else {
    app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(NOT_BUILT));
  }

  // Push connections hold the old store's subscription: end them, and clients reconnect to the new one.
  const dropStreams = () => {
    for (const res of streams) res.destroy();
  };
  ws?.on('switched', dropStreams);

  await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  port = (app.server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    token,
    port,
    openStreams: () => streams.size,
    close: async () => {
      ws?.off('switched', dropStreams);
      dropStreams();
      await fixedApi?.close();
      await app.close();
    },
  };
}
