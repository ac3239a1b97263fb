import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiError } from '../../shared/api';

/** A fresh secret per run: whoever can read the printed URL may use the host, nobody else. */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

function sameSecret(a: string, b: string): boolean {
  // Hash first so lengths match and the comparison time says nothing about the token.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function deny(reply: FastifyReply, status: 401 | 403, error: ApiError): FastifyReply {
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .type('application/json; charset=utf-8')
    .send({ ok: false, error });
}

/**
 * The web host's front door (DESIGN §6): Host and Origin must name this loopback host (stops DNS
 * rebinding and cross-site requests), and every request but /healthz must carry the run's token — in
 * the URL once (exchanged for an HttpOnly SameSite=Strict cookie and a redirect that drops it), then
 * in the cookie or an `Authorization: Bearer` header.
 */
export function createGuard(token: string, port: () => number) {
  // Cookies ignore ports, so two hosts on one machine must not share a cookie name.
  const cookieName = () => `chronoscope_${port()}`;
  return async function guard(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const p = port();
    const host = req.headers.host;
    if (host !== `127.0.0.1:${p}` && host !== `localhost:${p}`)
      return deny(reply, 403, { code: 'FORBIDDEN', message: `Host ${String(host)} is not this host` });
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://127.0.0.1:${p}` && origin !== `http://localhost:${p}`)
      return deny(reply, 403, { code: 'FORBIDDEN', message: `Origin ${origin} may not use this host` });
    if (req.headers['sec-fetch-site'] === 'cross-site')
      return deny(reply, 403, { code: 'FORBIDDEN', message: 'cross-site requests are refused' });

    const url = new URL(req.url, `http://${host}`);
    if (url.pathname === '/healthz') return undefined;

    const fromUrl = url.searchParams.get('token');
    if (fromUrl !== null) {
      if (req.method !== 'GET' || !sameSecret(fromUrl, token))
        return deny(reply, 401, { code: 'UNAUTHORIZED', message: 'wrong access token' });
      url.searchParams.delete('token');
      const rest = url.searchParams.toString();
      return reply
        .header('set-cookie', `${cookieName()}=${token}; HttpOnly; SameSite=Strict; Path=/`)
        .header('cache-control', 'no-store')
        .redirect(`${url.pathname}${rest ? `?${rest}` : ''}`, 303);
    }

    const auth = req.headers.authorization;
    const bearer = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
    const presented = bearer ?? cookieValue(req.headers.cookie, cookieName());
    if (presented === undefined)
      return deny(reply, 401, {
        code: 'UNAUTHORIZED',
        message: 'no access token: open the URL that `chronoscope serve` printed (it carries the token)',
      });
    if (!sameSecret(presented, token))
      return deny(reply, 401, { code: 'UNAUTHORIZED', message: 'wrong access token' });
    return undefined;
  };
}
