import type { FastifyReply, FastifyRequest } from 'fastify';
import { isAuthorized } from './auth.js';
import { errorBody } from './errors.js';

/**
 * An `onRequest` hook for a service that keeps its reads private (`readToken: true`,
 * `serve --auth-reads`): every GET needs the token except `/health` and `/ready` (for probes) and the
 * dashboard's static files in `openPaths` and pages under `openPrefixes` (the same for everyone;
 * they hold no data: with private reads a strategy page is the dashboard for any id). The live
 * stream also takes it as `?token=` because a browser's EventSource cannot send headers; the
 * service's log never shows it (see `redactedUrl`).
 */
export function requireTokenForReads(token: string, openPaths: readonly string[], openPrefixes: readonly string[] = []) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return; // writes check the token in their route
    const [path, query = ''] = request.url.split('?', 2);
    if (isOpenRead(path, openPaths, openPrefixes)) return;
    if (presentsToken(request, token, path, query)) return;
    reply.header('WWW-Authenticate', 'Bearer');
    return reply
      .status(401)
      .send(
        errorBody(
          'UNAUTHORIZED',
          'this service keeps its reads private: send Authorization: Bearer <token> (the stream also takes ?token=)',
        ),
      );
  };
}

/**
 * Whether a read of `path` stays open with private reads: `/health`, `/ready`, a path in
 * `openPaths` or under one of `openPrefixes`. The OpenAPI document asks it too, of its templated
 * paths (`/ui/strategies/{id}` is under `/ui/strategies/`), to declare 401 on every other read.
 */
export function isOpenRead(path: string, openPaths: readonly string[], openPrefixes: readonly string[] = []): boolean {
  // `/ready` too: a load balancer's probe holds no token (it tells only whether the store and clock answer).
  return path === '/health' || path === '/ready' || openPaths.includes(path) || openPrefixes.some((prefix) => path.startsWith(prefix));
}

/**
 * Whether a request carries the service's token: `Authorization: Bearer <token>`, or for the live
 * stream (whose browser client cannot send headers) `?token=`.
 */
export function presentsToken(request: FastifyRequest, token: string, path?: string, query?: string): boolean {
  if (isAuthorized(request.headers.authorization, token)) return true;
  if (path === undefined || query === undefined) [path, query = ''] = request.url.split('?', 2);
  const fromQuery = path === '/events' ? new URLSearchParams(query).get('token') : null;
  return fromQuery !== null && isAuthorized(`Bearer ${fromQuery}`, token);
}

/**
 * A request URL fit for the log: the value of every query key that reads `token` once decoded
 * (`token`, `%74oken`, `TOKEN`: the stream's reader decodes keys too) replaced, and the whole cut
 * at 200 characters. Before, only the literal `token=` was, and `?%74oken=<token>` was accepted
 * and logged in clear.
 */
export function redactedUrl(url: string): string {
  const mark = url.indexOf('?');
  let safe = url;
  if (mark >= 0) {
    const pairs = url.slice(mark + 1).split('&');
    const kept = pairs.map((pair) => {
      const eq = pair.indexOf('=');
      const rawKey = eq >= 0 ? pair.slice(0, eq) : pair;
      let key = rawKey;
      try {
        key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
      } catch {
        // a malformed escape: compared as written
      }
      return key.trim().toLowerCase() === 'token' ? `${rawKey}=(redacted)` : pair;
    });
    safe = `${url.slice(0, mark)}?${kept.join('&')}`;
  }
  return safe.length > 200 ? `${safe.slice(0, 200)}...` : safe;
}
