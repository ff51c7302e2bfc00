/**
 * A write's token is checked before its body is read: a write without the token (or with a wrong
 * one) is answered 401 UNAUTHORIZED with `WWW-Authenticate: Bearer` whatever its body, and the body
 * is not read at all (an oversized one is not 413, one never sent is not waited for). With the
 * token, a bad body is answered as before.
 *
 * Before, the token was checked in the write routes' `preValidation` hook, which fastify runs after
 * the body parser: a write without the token whose body was malformed JSON, not JSON, nested too
 * deep, held a forbidden key or was too large got 400 INVALID_JSON / 415 / 400 FORBIDDEN_KEY /
 * 400 BODY_TOO_DEEP / 413, naming its body's problem instead of the missing token.
 */
import { connect } from 'node:net';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { useService, useSystemApps } from './services';

const TOKEN = 'v'.repeat(40);
const BODY_LIMIT = 1024;
const apps = useSystemApps('sl-auth-body-');

async function app(readToken: boolean): Promise<FastifyInstance> {
  const built = apps.app({ token: TOKEN, logger: false, readToken, bodyLimit: BODY_LIMIT });
  await built.ready();
  return built;
}

/** Bad bodies, each with what it is answered once the token is right. */
const BAD_BODIES: Array<[string, string, string, number, string]> = [
  ['malformed JSON', 'application/json', '{bad', 400, 'INVALID_JSON'],
  ['not JSON', 'text/plain', 'halt', 415, 'UNSUPPORTED_MEDIA_TYPE'],
  ['a forbidden key', 'application/json', '{"__proto__":{}}', 400, 'FORBIDDEN_KEY'],
  ['too deep', 'application/json', `${'['.repeat(40)}${']'.repeat(40)}`, 400, 'BODY_TOO_DEEP'],
  ['too large', 'application/json', JSON.stringify({ reason: 'x'.repeat(BODY_LIMIT * 4) }), 413, 'BODY_TOO_LARGE'],
];

const answerOf = (answer: LightMyRequestResponse) => ({
  status: answer.statusCode,
  code: answer.json<{ error: { code: string } }>().error.code,
});

describe.each([
  ['open reads', false],
  ['private reads', true],
])('with %s', (_reads, readToken) => {
  test.each(BAD_BODIES)('a write without the token is 401 whatever its body (%s)', async (_what, contentType, payload) => {
    const api = await app(readToken);
    for (const authorization of [undefined, 'Bearer wrong', `Basic ${TOKEN}`]) {
      const answer = await api.inject({
        method: 'POST',
        url: '/system/kill-switch',
        headers: { 'content-type': contentType, ...(authorization ? { authorization } : {}) },
        payload,
      });
      expect([authorization, answerOf(answer)]).toEqual([authorization, { status: 401, code: 'UNAUTHORIZED' }]);
      expect(answer.headers['www-authenticate']).toBe('Bearer');
    }
  });

  test.each(BAD_BODIES)('with the token, a bad body is answered as before (%s)', async (_what, contentType, payload, status, code) => {
    const api = await app(readToken);
    const answer = await api.inject({
      method: 'POST',
      url: '/system/kill-switch',
      headers: { 'content-type': contentType, authorization: `Bearer ${TOKEN}` },
      payload,
    });
    expect(answerOf(answer)).toEqual({ status, code });
    expect(answer.headers['www-authenticate']).toBeUndefined();
  });
});

test('every write checks the token before its body', async () => {
  const api = await app(false);
  for (const [method, url] of [
    ['POST', '/strategies'],
    ['POST', '/strategies/x1/events'],
    ['DELETE', '/strategies/x1'],
    ['POST', '/system/suspend'],
    ['POST', '/system/resume'],
    ['POST', '/system/trading-state'],
    ['POST', '/system/kill-switch'],
  ] as const) {
    const answer = await api.inject({ method, url, headers: { 'content-type': 'application/json' }, payload: '{bad' });
    expect([method, url, answerOf(answer)]).toEqual([method, url, { status: 401, code: 'UNAUTHORIZED' }]);
  }
});

test('with the token, a write without a body is still checked as {} (POST /system/resume)', async () => {
  const api = await app(false);
  const answer = await api.inject({ method: 'POST', url: '/system/resume', headers: { authorization: `Bearer ${TOKEN}` } });
  expect(answer.statusCode).toBe(200);
});

test('a JSON null body is not a missing one: refused naming the body, an event naming what was sent', async () => {
  const api = await app(false);
  const send = (url: string) =>
    api.inject({ method: 'POST', url, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, payload: 'null' });
  // Before, null was checked as {}: resume answered 200 and resumed, suspend named a missing reason.
  for (const url of ['/system/resume', '/system/suspend', '/strategies'])
    expect([url, (await send(url)).json()]).toEqual([
      url,
      { error: { code: 'INVALID_REQUEST', message: 'body: Invalid input: expected object, received null', field: 'body' } },
    ]);
  await api.inject({
    method: 'POST',
    url: '/strategies',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ id: 'null-body', variant: 'lt112', params: { underlying: 'SPX' } }),
  });
  const event = await send('/strategies/null-body/events');
  expect(event.statusCode).toBe(400);
  expect(event.json()).toMatchObject({
    error: { code: 'INVALID_EVENT', message: '(invalid event): event must be an object with a type, got null', field: 'event' },
  });
});

describe('over HTTP', () => {
  const TIMEOUT_MS = 3000;
  const running = useService('sl-auth-body-http-', { token: TOKEN, market: false, requestTimeoutMs: TIMEOUT_MS });

  /** Sends `head` on a raw connection and resolves with the first whole response (or what came by `deadlineMs`). */
  function firstResponse(head: string, deadlineMs = TIMEOUT_MS * 2): Promise<string> {
    const { port } = new URL(running.service.url);
    return new Promise((resolve) => {
      const socket = connect(Number(port), '127.0.0.1');
      let text = '';
      const finish = () => {
        clearTimeout(deadline);
        socket.destroy();
        resolve(text);
      };
      const deadline = setTimeout(finish, deadlineMs);
      socket.on('data', (chunk) => {
        text += chunk.toString();
        const end = text.indexOf('\r\n\r\n');
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text)?.[1] ?? NaN);
        if (end >= 0 && text.length >= end + 4 + length) finish();
      });
      socket.on('close', finish);
      socket.on('error', () => undefined);
      socket.write(head);
    });
  }

  test('a write without the token is answered 401 without waiting for its body (before: 408 once the body timed out)', async () => {
    const started = performance.now();
    const text = await firstResponse(
      'POST /system/kill-switch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n',
    );
    expect(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1])).toBe(401);
    expect(text).toMatch(/\r\nwww-authenticate: Bearer\r\n/i);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS);
  });

  test('an oversized write without the token is 401, and the service still answers', async () => {
    const answer = await fetch(`${running.service.url}/system/kill-switch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'x'.repeat(1024 * 1024) }),
    });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBe('Bearer');
    expect(await answer.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    const health = await fetch(`${running.service.url}/health`);
    expect(health.status).toBe(200);
    await health.arrayBuffer();
  });
});
