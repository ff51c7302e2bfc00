/**
 * Limits at the HTTP level, over raw sockets: a request that never finishes is answered 408 within
 * the configured timeout, malformed requests and oversized headers get our error shape, and a
 * service started with `readToken` keeps every read but /health and the dashboard's files private.
 */
import { connect } from 'node:net';
import { useService } from './services';

const TOKEN = 'l'.repeat(40);
const TIMEOUT_MS = 500;
const running = useService('sl-limits-', { token: TOKEN, requestTimeoutMs: TIMEOUT_MS, readToken: true });

/** Writes `chunks` on a raw connection and resolves with what came back once the server closes it (at most `deadlineMs`). */
function raw(chunks: string[], deadlineMs = 5000): Promise<{ text: string; ms: number; closedByServer: boolean }> {
  const { port } = new URL(running.service.url);
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(Number(port), '127.0.0.1');
    let text = '';
    const done = (closedByServer: boolean) => {
      clearTimeout(deadline);
      socket.destroy();
      resolve({ text, ms: performance.now() - started, closedByServer });
    };
    const deadline = setTimeout(() => done(false), deadlineMs);
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('close', () => done(true));
    socket.on('error', () => undefined);
    for (const chunk of chunks) socket.write(chunk);
  });
}

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
const bodyOf = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string } };

test('a body that never finishes is answered 408 REQUEST_TIMEOUT and closed within about a second of the timeout', async () => {
  const head = `POST /strategies HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`;
  const { text, ms, closedByServer } = await raw([head, '{"id":"slow"']);
  expect(closedByServer).toBe(true);
  expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
  expect(ms).toBeLessThan(TIMEOUT_MS + 1200);
  expect(statusOf(text)).toBe(408);
  expect(bodyOf(text).error.code).toBe('REQUEST_TIMEOUT');
  expect(running.service.system.ids()).toEqual([]);
});

test('headers that never finish are answered 408 as well', async () => {
  const { text, ms, closedByServer } = await raw(['GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n']);
  expect(closedByServer).toBe(true);
  expect(ms).toBeLessThan(TIMEOUT_MS + 1200);
  expect(statusOf(text)).toBe(408);
  expect(bodyOf(text).error.code).toBe('REQUEST_TIMEOUT');
});

test('a malformed request line and oversized headers get our error shape', async () => {
  const garbage = await raw(['NOT HTTP AT ALL\r\n\r\n']);
  expect(statusOf(garbage.text)).toBe(400);
  expect(bodyOf(garbage.text).error.code).toBe('BAD_REQUEST');
  const huge = await raw([`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: ${'f'.repeat(20_000)}\r\n\r\n`]);
  expect(statusOf(huge.text)).toBe(431);
  expect(bodyOf(huge.text).error.code).toBe('HEADERS_TOO_LARGE');
  expect(huge.text.length).toBeLessThan(600);
  expect((await fetch(`${running.service.url}/health`)).status).toBe(200);
});

describe('readToken: reads need the token', () => {
  const get = (path: string, token?: string) =>
    fetch(`${running.service.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  test.each(['/summary', '/strategies', '/variants', '/variants/lt112/diagram.svg', '/strategies/x', '/events', '/no-such-route'])(
    'GET %s without the token: 401 UNAUTHORIZED',
    async (path) => {
      const response = await get(path);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
      expect((await get(path, 'wrong-token')).status).toBe(401);
    },
  );

  test('with the token they answer; /health, /ready (a load balancer probe has no token) and the dashboard files stay open', async () => {
    expect((await get('/strategies', TOKEN)).status).toBe(200);
    expect((await get('/summary', TOKEN)).status).toBe(200);
    for (const path of ['/health', '/ready', '/', '/app.js', '/style.css']) expect((await get(path)).status).toBe(200);
  });

  test('a strategy page is the dashboard for any id, held or not: which ids exist is itself data', async () => {
    const created = await fetch(`${running.service.url}/strategies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ id: 'held', variant: 'lt112' }),
    });
    expect(created.status).toBe(201);
    const held = await get('/ui/strategies/held');
    const unknown = await get('/ui/strategies/not-held');
    expect([held.status, unknown.status]).toEqual([200, 200]);
    expect(await unknown.text()).toBe(await held.text());
    expect((await get('/strategies/not-held')).status).toBe(401);
  });

  test('the stream takes the token as ?token= (EventSource sends no headers); no other route does', async () => {
    const controller = new AbortController();
    const stream = await fetch(`${running.service.url}/events?token=${TOKEN}`, { signal: controller.signal });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    controller.abort();
    expect((await get(`/events?token=nope`)).status).toBe(401);
    expect((await get(`/strategies?token=${TOKEN}`)).status).toBe(401);
  });
});
