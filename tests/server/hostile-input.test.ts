/**
 * Hostile input at the service: each case gets its documented 4xx with a clear message, changes
 * nothing, and the service stays up (checked after every case).
 */
import { request as httpRequest } from 'node:http';
import { createSimulatedClock } from '../../services/clock';
import { startService, type RunningService } from '../../server/service';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM } from '../support/fixtures';

const TOKEN = 'h'.repeat(40);
let service: RunningService;
let cleanup: () => void;

beforeAll(async () => {
  const tmp = tempDir('sl-hostile-');
  cleanup = tmp.cleanup;
  service = await startService({ dataDir: tmp.dir, port: 0, logger: false, token: TOKEN, clock: createSimulatedClock(FRIDAY_11AM), market: false });
  await send('POST', '/strategies', JSON.stringify({ id: 'target', variant: 'lt112' }));
  await send('POST', '/strategies/target/events', JSON.stringify({ type: 'MARKET_OPEN' }));
});
afterAll(async () => {
  await service.close();
  cleanup();
});

/** Raw HTTP, so bodies can be anything (invalid UTF-8 included). */
function send(method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}, token: string | null = TOKEN): Promise<{ status: number; json: { error?: { code: string; message: string } } }> {
  const url = new URL(service.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : {} });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

let nested = '1';
for (let i = 0; i < 5000; i++) nested = `{"a":${nested}}`;
const event = (payload: string) => ['POST', '/strategies/target/events', payload] as const;

const CASES: Array<[string, readonly [string, string, (Buffer | string)?], number, string, (Record<string, string> | null)?]> = [
  ['unknown event type', event('{"type":"SELL_THE_FIRM"}'), 400, 'INVALID_EVENT'],
  ['wrong type of type', event('{"type":42}'), 400, 'INVALID_EVENT'],
  ['event is an array', event('[{"type":"MARKET_OPEN"}]'), 400, 'INVALID_EVENT'],
  ['event is null', event('null'), 400, 'INVALID_EVENT'],
  ['missing field', event('{"type":"MANUAL_OVERRIDE","target":"READY"}'), 400, 'INVALID_EVENT'],
  ['wrong field type', event('{"type":"ORDER_FILLED","quantity":"2"}'), 400, 'INVALID_EVENT'],
  ['huge number', event('{"type":"ORDER_FILLED","quantity":1e308}'), 400, 'INVALID_EVENT'],
  ['huge integer', event('{"type":"ORDER_FILLED","quantity":123456789012345678901234567890}'), 400, 'INVALID_EVENT'],
  ['negative quantity', event('{"type":"ORDER_PARTIALLY_FILLED","quantity":-5}'), 400, 'INVALID_EVENT'],
  ['NaN-like string vix', event('{"type":"ENTRY_CONDITIONS_MET","vix":"NaN"}'), 400, 'INVALID_EVENT'],
  ['__proto__ key', event('{"type":"MARKET_CLOSE","__proto__":{"isAdmin":true}}'), 400, 'INVALID_JSON'],
  ['constructor.prototype key', event('{"type":"MARKET_CLOSE","constructor":{"prototype":{"isAdmin":true}}}'), 400, 'INVALID_JSON'],
  ['deeply nested JSON', event(nested), 400, 'INVALID_EVENT'],
  ['oversized body', event(JSON.stringify({ type: 'MARKET_CLOSE', reason: 'x'.repeat(200_000) })), 413, 'BODY_TOO_LARGE'],
  ['invalid UTF-8', ['POST', '/strategies/target/events', Buffer.from([0x7b, 0x22, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])], 400, 'INVALID_EVENT'],
  ['truncated JSON', event('{"type":"MARKET_'), 400, 'INVALID_JSON'],
  ['not JSON at all', event('type=MARKET_OPEN'), 400, 'INVALID_JSON'],
  ['wrong content type', ['POST', '/strategies/target/events', 'type=MARKET_OPEN'], 415, 'UNSUPPORTED_MEDIA_TYPE', { 'content-type': 'application/x-www-form-urlencoded' }],
  ['unknown strategy id', ['POST', '/strategies/ghost/events', '{"type":"MARKET_CLOSE"}'], 404, 'UNKNOWN_STRATEGY'],
  ['path traversal id', ['POST', '/strategies/..%2F..%2Fdata%2Ftoken/events', '{"type":"MARKET_CLOSE"}'], 400, 'INVALID_ID'],
  ['overlong id', ['GET', `/strategies/${'a'.repeat(300)}`], 400, 'INVALID_ID'],
  ['id with a NUL', ['GET', '/strategies/a%00b'], 400, 'INVALID_ID'],
  ['create with __proto__ params', ['POST', '/strategies', '{"id":"p","variant":"lt112","params":{"__proto__":{"x":1}}}'], 400, 'INVALID_JSON'],
  ['create with a path id', ['POST', '/strategies', '{"id":"../etc","variant":"lt112"}'], 400, 'INVALID_REQUEST'],
  ['missing token', event('{"type":"MARKET_CLOSE"}'), 401, 'UNAUTHORIZED', null],
  ['wrong token', event('{"type":"MARKET_CLOSE"}'), 401, 'UNAUTHORIZED', { authorization: 'Bearer nope' }],
  ['token in the wrong scheme', event('{"type":"MARKET_CLOSE"}'), 401, 'UNAUTHORIZED', { authorization: `Basic ${TOKEN}` }],
];

// Objects, not arrays: a row shorter than the function's parameters would make jest pass `done`.
const ROWS = CASES.map(([name, request, status, code, headers]) => ({ name, request, status, code, headers }));

test.each(ROWS)('$name -> $status $code, nothing changes, the service stays up', async ({ request: [method, path, body], status, code, headers }) => {
  const before = await send('GET', '/strategies/target', undefined, {}, null);
  const response = await send(method, path, body, headers ?? {}, headers === null ? null : TOKEN);
  expect(response.status).toBe(status);
  expect(response.json.error?.code).toBe(code);
  expect(response.json.error?.message.length).toBeGreaterThan(5);
  const after = await send('GET', '/strategies/target', undefined, {}, null);
  expect(after.status).toBe(200);
  expect((after.json as { strategy: { state: string } }).strategy.state).toBe((before.json as { strategy: { state: string } }).strategy.state);
  expect((await send('GET', '/health', undefined, {}, null)).status).toBe(200);
  expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
});
