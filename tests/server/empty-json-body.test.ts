/**
 * An empty body sent with `Content-Type: application/json` is no body: fetch wrappers and axios
 * set that header on every request, a `DELETE` included. On a route that takes no body (DELETE,
 * POST /system/resume, which needs nothing, a route that does not exist) it is answered as a
 * request without one; before, every such request was 400 INVALID_JSON "request body is empty".
 * A route that needs a body still answers an empty one 400 INVALID_JSON naming it empty, and a
 * malformed body is 400 INVALID_JSON on any route.
 */
import { rawRequest } from './rawHttp';
import { serviceFixture } from './services';
import type { RunningService } from '../../server/service';

const TOKEN = 'e'.repeat(40);
const start = serviceFixture('sl-empty-json-', TOKEN);
let service: RunningService;

beforeEach(async () => {
  service = await start();
});

/** How the empty body is framed: a Content-Length of 0, or a chunked body of no chunks. */
const FRAMINGS = [
  ['Content-Length: 0', { 'content-length': '0' }],
  ['chunked, no chunks', { 'transfer-encoding': 'chunked' }],
] as const;

/** Raw HTTP with the token and a JSON content type, so the framing and the body are exactly what a test says. */
function send(
  method: string,
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; code: string | undefined; message: string }> {
  // Node frames no body of a DELETE by itself: without a length the server reads it as a malformed request.
  const length: Record<string, string> = headers['transfer-encoding'] ? {} : { 'content-length': String(Buffer.byteLength(body)) };
  return rawRequest(service.url, method, path, body, {
    authorization: `Bearer ${TOKEN}`,
    'content-type': 'application/json',
    ...length,
    ...headers,
  }).then(({ status, text }) => {
    const error = (text.startsWith('{') ? (JSON.parse(text) as { error?: { code: string; message: string } }) : {}).error;
    return { status, code: error?.code, message: error?.message ?? '' };
  });
}

const create = (id: string) =>
  send('POST', '/strategies', JSON.stringify({ id, variant: 'lt112' })).then((a) => expect(a.status).toBe(201));

describe.each(FRAMINGS)('an empty JSON body (%s)', (_framing, framing) => {
  test('DELETE /strategies/:id removes the strategy (204), also with a charset', async () => {
    await create('gone');
    await create('gone-too');
    expect(await send('DELETE', '/strategies/gone', '', framing)).toMatchObject({ status: 204 });
    expect(
      await send('DELETE', '/strategies/gone-too', '', { ...framing, 'content-type': 'application/json; charset=utf-8' }),
    ).toMatchObject({
      status: 204,
    });
    expect(await send('GET', '/strategies/gone', '', framing)).toMatchObject({ status: 404, code: 'UNKNOWN_STRATEGY' });
    expect(await send('GET', '/strategies/gone-too', '', framing)).toMatchObject({ status: 404, code: 'UNKNOWN_STRATEGY' });
  });

  test('routes that take no body answer as they do without one', async () => {
    // The route's own answers, not the body's.
    expect(await send('DELETE', '/strategies/unknown', '', framing)).toMatchObject({ status: 404, code: 'UNKNOWN_STRATEGY' });
    expect(await send('DELETE', '/no/such/route', '', framing)).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect(await send('OPTIONS', '/strategies', '', framing)).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    // POST /system/resume needs nothing: an empty body is checked as {}, like no body at all.
    expect(await send('POST', '/system/resume', '', framing)).toMatchObject({ status: 200 });
  });

  test('routes that need a body refuse an empty one, naming it empty', async () => {
    await create('target');
    for (const [method, path] of [
      ['POST', '/strategies'],
      ['POST', '/strategies/target/events'],
      ['POST', '/system/suspend'],
      ['POST', '/system/trading-state'],
      ['POST', '/system/kill-switch'],
    ] as const) {
      const answer = await send(method, path, '', framing);
      expect([path, answer.status, answer.code]).toEqual([path, 400, 'INVALID_JSON']);
      expect(answer.message).toBe('request body is empty: send a JSON object');
    }
  });
});

test("JSON's whitespace alone is no body either; other characters are a malformed one", async () => {
  await create('kept');
  expect(await send('DELETE', '/strategies/kept', ' \t\r\n')).toMatchObject({ status: 204 });
  await create('kept');
  expect(await send('DELETE', '/strategies/kept', '\u00a0')).toMatchObject({ status: 400, code: 'INVALID_JSON' });
  expect(await send('POST', '/strategies', ' \n')).toMatchObject({
    status: 400,
    code: 'INVALID_JSON',
    message: 'request body is empty: send a JSON object',
  });
});

test('a malformed body is a clear 400 on every route, one that takes no body included', async () => {
  await create('target');
  for (const [method, path] of [
    ['POST', '/strategies'],
    ['POST', '/strategies/target/events'],
    ['POST', '/system/suspend'],
    ['POST', '/system/resume'],
    ['DELETE', '/strategies/target'],
  ] as const) {
    const answer = await send(method, path, '{"id":');
    expect([path, answer.status, answer.code]).toEqual([path, 400, 'INVALID_JSON']);
    expect(answer.message).toMatch(/^request body is not valid JSON: /);
  }
  // Nothing was removed by the malformed DELETE.
  expect(await send('GET', '/strategies/target', '')).toMatchObject({ status: 200 });
});
