import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { ChronoscopeError } from '../../shared/errors';
import { parseFilter, type EventFilter } from '../../shared/query';
import { toApiError } from '../api/toApiError';
import type { JobRegistry } from '../api/jobs';
import type { EventStore } from '../engine/types';

const HEARTBEAT_MS = 15_000;

/** Reads `fromSeq`, `filter` (JSON) and a reconnecting EventSource's Last-Event-ID. */
function parseStreamQuery(req: FastifyRequest): { fromSeq?: number; filter: EventFilter } {
  const q = req.query as Record<string, string | undefined>;
  const lastId = req.headers['last-event-id'];
  const raw = typeof lastId === 'string' && lastId !== '' ? String(Number(lastId) + 1) : q.fromSeq;
  let fromSeq: number | undefined;
  if (raw !== undefined && raw !== '') {
    fromSeq = Number(raw);
    if (!Number.isSafeInteger(fromSeq) || fromSeq < 1)
      throw new ChronoscopeError('INVALID_ARGUMENT', 'fromSeq: expected an integer ≥ 1', {
        field: 'fromSeq',
      });
  }
  let filter: unknown = {};
  if (q.filter) {
    try {
      filter = JSON.parse(q.filter);
    } catch {
      throw new ChronoscopeError('INVALID_ARGUMENT', 'filter: not valid JSON', { field: 'filter' });
    }
  }
  return { fromSeq, filter: parseFilter(filter) };
}

function writeAndWait(res: ServerResponse, chunk: string): Promise<void> | undefined {
  if (res.write(chunk)) return undefined;
  return new Promise((resolve) => {
    res.once('drain', resolve);
    res.once('close', resolve);
  });
}

/** Opens an SSE response: headers, reconnect delay, heartbeat; returns the function that stops the heartbeat. */
function openSse(res: ServerResponse, open: Set<ServerResponse>): () => void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-content-type-options': 'nosniff',
  });
  res.write('retry: 2000\n\n');
  open.add(res);
  const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
  return () => {
    clearInterval(heartbeat);
    open.delete(res);
  };
}

/** Job progress over SSE: one `job` message per update of any long call (ApiJobUpdate). */
export function createJobStreamHandler(jobs: () => JobRegistry, open: Set<ServerResponse>) {
  return async function jobStream(_req: FastifyRequest, reply: FastifyReply): Promise<void> {
    reply.hijack();
    const res = reply.raw;
    const close = openSse(res, open);
    const off = jobs().on((u) => {
      if (!res.destroyed) res.write(`event: job\ndata: ${JSON.stringify(u)}\n\n`);
    });
    res.on('close', () => {
      off();
      close();
    });
  };
}

/**
 * Live tail over Server-Sent Events: catch-up then live from the store's subscription, one
 * `event` message per stored event (its seq as the message id, so reconnects resume exactly).
 * The subscription closes when the client goes away or the host shuts down.
 */
export function createSseHandler(current: () => EventStore, open: Set<ServerResponse>) {
  return async function sse(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    let args: { fromSeq?: number; filter: EventFilter };
    try {
      args = parseStreamQuery(req);
    } catch (err) {
      return void reply.code(400).send({ ok: false, error: toApiError(err) });
    }
    reply.hijack();
    const res = reply.raw;
    const close = openSse(res, open);
    const sub = current().subscribe(args);
    const stop = () => {
      close();
      void sub.close();
    };
    res.on('close', stop);
    try {
      for await (const e of sub) {
        if (res.destroyed) break;
        await writeAndWait(res, `id: ${e.seq}\nevent: event\ndata: ${JSON.stringify(e)}\n\n`);
      }
    } catch (err) {
      if (!res.destroyed) res.write(`event: failure\ndata: ${JSON.stringify(toApiError(err))}\n\n`);
    } finally {
      stop();
      if (!res.destroyed) res.end();
    }
  };
}
