import { request } from 'node:http';
import { connect } from 'node:net';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebHost, type WebHost } from '../../src/main/host/web';
import { FileStore } from '../../src/main/engine/file/FileStore';

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Raw HTTP so the test controls Host and Origin exactly (fetch would fill them in). */
function http(
  port: number,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        headers: { host: `127.0.0.1:${port}`, ...opts.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.end(opts.body);
    else req.end();
  });
}

describe('web host', () => {
  let dir: string;
  let store: FileStore;
  let host: WebHost;
  let cookie: string;

  const post = (method: string, params: unknown, headers: Record<string, string> = {}) =>
    http(host.port, `/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, ...headers },
      body: JSON.stringify(params),
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chronoscope-web-'));
    const renderer = join(dir, 'renderer');
    mkdirSync(renderer);
    writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>Chronoscope test page</title>');
    store = await FileStore.open(join(dir, 'store'), {});
    await store.append([{ stream: 'Order-1', type: 'OrderPlaced', data: { total: 5 } }]);
    host = await startWebHost({ store, rendererDir: renderer, log: () => {} });
  });
  afterAll(async () => {
    await host?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a loopback URL carrying a long random token', () => {
    expect(host.url).toBe(`http://127.0.0.1:${host.port}/?token=${host.token}`);
    expect(host.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('exchanges the URL token for an HttpOnly SameSite=Strict cookie and drops it from the URL', async () => {
    const r = await http(host.port, `/?token=${host.token}&type=OrderPlaced`);
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/?type=OrderPlaced');
    const set = String(r.headers['set-cookie']);
    expect(set).toContain(`chronoscope_${host.port}=${host.token}`);
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
    cookie = set.split(';')[0]!;
    const page = await http(host.port, '/?type=OrderPlaced', { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.body).toContain('Chronoscope test page');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
  });

  it('refuses a request without a token with 401', async () => {
    expect((await http(host.port, '/')).status).toBe(401);
    const api = await http(host.port, '/api/stats', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(api.status).toBe(401);
    expect(JSON.parse(api.body)).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    expect(api.body).not.toContain('OrderPlaced');
  });

  it('refuses a wrong token in the URL, the cookie or the Authorization header with 401', async () => {
    expect((await http(host.port, '/?token=not-the-token')).status).toBe(401);
    const wrong = `chronoscope_${host.port}=${'x'.repeat(32)}`;
    expect((await post('stats', {}, { cookie: wrong })).status).toBe(401);
    expect((await post('stats', {}, { cookie: '', authorization: 'Bearer nope' })).status).toBe(401);
  });

  it('accepts the token as a Bearer header', async () => {
    const r = await post('stats', {}, { cookie: '', authorization: `Bearer ${host.token}` });
    expect(r.status).toBe(200);
  });

  it('refuses a foreign Origin with 403 even with a valid cookie', async () => {
    const r = await post('stats', {}, { origin: 'http://evil.example' });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body)).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    const sameHostOtherPort = await post('stats', {}, { origin: `http://127.0.0.1:${host.port + 1}` });
    expect(sameHostOtherPort.status).toBe(403);
    expect((await post('stats', {}, { origin: `http://localhost:${host.port}` })).status).toBe(200);
  });

  it('refuses a foreign Host with 403 (DNS rebinding)', async () => {
    const r = await post('stats', {}, { host: `rebind.evil.example:${host.port}` });
    expect(r.status).toBe(403);
    expect((await http(host.port, '/healthz', { headers: { host: 'evil.example' } })).status).toBe(403);
    expect((await post('stats', {}, { host: `localhost:${host.port}` })).status).toBe(200);
  });

  it('listens on 127.0.0.1 only', async () => {
    const refused = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '::1', port: host.port });
      s.on('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.on('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });

  it('answers /healthz without a token and without leaking data', async () => {
    const r = await http(host.port, '/healthz');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ ok: true });
  });

  it('round-trips API calls with the cookie, including typed errors', async () => {
    const stats = await post('stats', {});
    expect(stats.status).toBe(200);
    expect(JSON.parse(stats.body)).toMatchObject({ ok: true, value: { events: 1, backend: 'file' } });
    const q = JSON.parse((await post('query', { filter: { types: ['OrderPlaced'] } })).body);
    expect(q.value.events[0]).toMatchObject({ seq: 1, stream: 'Order-1', data: { total: 5 } });
    const bad = await post('query', { filter: { types: 'OrderPlaced' } });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    const missing = await post('getEvent', { seq: 999 });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).error.code).toBe('NOT_FOUND');
    const unknown = await post('dropEverything', {});
    expect(JSON.parse(unknown.body).error.code).toBe('INVALID_ARGUMENT');
    const notJson = await http(host.port, '/api/stats', {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: '{oops',
    });
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.body)).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
  });

  it('refuses form posts (no JSON content type), which a foreign page could send', async () => {
    const r = await http(host.port, '/api/append', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: 'events=x',
    });
    expect(r.status).toBe(415);
  });

  it('delivers an appended event over SSE and closes the subscription when the client leaves', async () => {
    const ac = new AbortController();
    const filter = encodeURIComponent(JSON.stringify({ types: ['OrderShipped'] }));
    const res = await fetch(`http://127.0.0.1:${host.port}/api/events/stream?fromSeq=1&filter=${filter}`, {
      headers: { cookie },
      signal: ac.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    await store.append([
      { stream: 'Order-1', type: 'OrderPaid' },
      { stream: 'Order-1', type: 'OrderShipped', data: { carrier: 'DHL' } },
    ]);
    let text = '';
    while (!text.includes('\n\nid:') && !/event: event\ndata: .*\n\n/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    const data = /event: event\ndata: (.*)\n/.exec(text)![1]!;
    expect(JSON.parse(data)).toMatchObject({ seq: 3, type: 'OrderShipped', data: { carrier: 'DHL' } });
    expect(text).toContain('id: 3\n');
    expect(host.openStreams()).toBe(1);
    ac.abort();
    await reader.cancel().catch(() => {});
    for (let i = 0; i < 100 && host.openStreams() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(host.openStreams()).toBe(0);
  });

  it('rejects a malformed SSE filter with a typed error', async () => {
    const r = await http(host.port, '/api/events/stream?filter=%7Bnope', { headers: { cookie } });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error.code).toBe('INVALID_ARGUMENT');
    const r2 = await http(host.port, '/api/events/stream?fromSeq=-4', { headers: { cookie } });
    expect(r2.status).toBe(400);
  });
});
