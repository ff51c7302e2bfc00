/**
 * Hostile input at the service: each case gets its documented 4xx with a clear message, changes
 * nothing, and the service stays up (checked after every case).
 */
import { rawRequest } from './rawHttp';
import { createSimulatedClock } from '../../services/market/clock';
import { startService, type RunningService } from '../../server/service';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM } from '../support/fixtures';

const TOKEN = 'h'.repeat(40);
let service: RunningService;
let cleanup: () => void;

beforeAll(async () => {
  const tmp = tempDir('sl-hostile-');
  cleanup = tmp.cleanup;
  service = await startService({
    dataDir: tmp.dir,
    port: 0,
    logger: false,
    token: TOKEN,
    clock: createSimulatedClock(FRIDAY_11AM),
    market: false,
  });
  await send('POST', '/strategies', JSON.stringify({ id: 'target', variant: 'lt112' }));
  await send('POST', '/strategies/target/events', JSON.stringify({ type: 'MARKET_OPEN' }));
});
afterAll(async () => {
  await service.close();
  cleanup();
});

/** Raw HTTP, so bodies can be anything (invalid UTF-8 included). */
function send(
  method: string,
  path: string,
  body?: Buffer | string,
  headers: Record<string, string> = {},
  token: string | null = TOKEN,
): Promise<{ status: number; text: string; json: { error?: { code: string; message: string } } }> {
  return rawRequest(service.url, method, path, body, {
    'content-type': 'application/json',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...headers,
  }).then(({ status, text }) => ({ status, text, json: text ? JSON.parse(text) : {} }));
}

const nested = (depth: number, leaf = '1') => `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;
const event = (payload: string) => ['POST', '/strategies/target/events', payload] as const;
const create = (payload: string) => ['POST', '/strategies', payload] as const;
const LEG = '"right":"P","strike":4000,"expiry":"2026-12-18","quantity":-1';

interface Case {
  name: string;
  request: readonly [string, string, (Buffer | string)?];
  status: number;
  code: string;
  /** Extra headers; null sends no token. */
  headers?: Record<string, string> | null;
  /** The trigger reaches the strategy and is audited as a rejection (invalid events only). */
  audited?: boolean;
  /** Text the message must contain. */
  message?: string;
}

const CASES: Case[] = [
  { name: 'unknown event type', request: event('{"type":"SELL_THE_FIRM"}'), status: 400, code: 'INVALID_EVENT', audited: true },
  { name: 'wrong type of type', request: event('{"type":42}'), status: 400, code: 'INVALID_EVENT', audited: true },
  { name: 'event is an array', request: event('[{"type":"MARKET_OPEN"}]'), status: 400, code: 'INVALID_EVENT', audited: true },
  { name: 'event is null', request: event('null'), status: 400, code: 'INVALID_EVENT', audited: true },
  {
    name: 'missing field',
    request: event('{"type":"MANUAL_OVERRIDE","target":"READY"}'),
    status: 400,
    code: 'INVALID_EVENT',
    audited: true,
  },
  { name: 'wrong field type', request: event('{"type":"ORDER_FILLED","quantity":"2"}'), status: 400, code: 'INVALID_EVENT', audited: true },
  { name: 'huge number', request: event('{"type":"ORDER_FILLED","quantity":1e308}'), status: 400, code: 'INVALID_EVENT', audited: true },
  {
    name: 'huge integer',
    request: event('{"type":"ORDER_FILLED","quantity":123456789012345678901234567890}'),
    status: 400,
    code: 'INVALID_EVENT',
    audited: true,
  },
  {
    name: 'negative quantity',
    request: event('{"type":"ORDER_PARTIALLY_FILLED","quantity":-5}'),
    status: 400,
    code: 'INVALID_EVENT',
    audited: true,
  },
  {
    name: 'NaN-like string vix',
    request: event('{"type":"ENTRY_CONDITIONS_MET","vix":"NaN"}'),
    status: 400,
    code: 'INVALID_EVENT',
    audited: true,
  },
  {
    name: 'an extra key in a leg',
    request: event(`{"type":"ORDER_FILLED","quantity":1,"legs":[{${LEG},"note":{"a":{"a":1}}}]}`),
    status: 400,
    code: 'INVALID_EVENT',
    audited: true,
    message: 'legs [0].note is not a field of a leg',
  },
  {
    name: 'invalid UTF-8 in the type',
    request: [
      'POST',
      '/strategies/target/events',
      Buffer.from([0x7b, 0x22, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    ],
    status: 400,
    code: 'INVALID_JSON',
    message: 'not valid UTF-8 (a bad byte sequence at byte 9)',
  },
  {
    // Decoded lossily, these bytes reached the audit as U+FFFD in an accepted SYSTEM_ERROR's reason.
    name: 'invalid UTF-8 inside a field',
    request: [
      'POST',
      '/strategies/target/events',
      Buffer.concat([Buffer.from('{"type":"SYSTEM_ERROR","reason":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
    ],
    status: 400,
    code: 'INVALID_JSON',
    message: 'not valid UTF-8 (a bad byte sequence at byte 33)',
  },
  {
    // A three-byte character cut short after two bytes: the sequence starts at byte 9.
    name: 'a UTF-8 sequence cut short inside a field',
    request: ['POST', '/strategies/target/events', Buffer.concat([Buffer.from('{"type":"'), Buffer.from([0xe2, 0x82]), Buffer.from('"}')])],
    status: 400,
    code: 'INVALID_JSON',
    message: 'not valid UTF-8 (a bad byte sequence at byte 9)',
  },
  {
    name: '__proto__ key',
    request: event('{"type":"MARKET_CLOSE","__proto__":{"isAdmin":true}}'),
    status: 400,
    code: 'FORBIDDEN_KEY',
    message: 'key "__proto__" is refused',
  },
  {
    name: 'constructor.prototype key',
    request: event('{"type":"MARKET_CLOSE","constructor":{"prototype":{"isAdmin":true}}}'),
    status: 400,
    code: 'FORBIDDEN_KEY',
    message: 'key "constructor" is refused',
  },
  {
    name: '__proto__ inside a leg',
    request: event(`{"type":"ORDER_FILLED","quantity":1,"legs":[{${LEG},"__proto__":{"x":1}}]}`),
    status: 400,
    code: 'FORBIDDEN_KEY',
    message: 'key "__proto__" is refused (in legs.0)',
  },
  {
    name: 'the event type written twice (JSON.parse would keep the last)',
    request: event('{"type":"MARKET_CLOSE","type":"EMERGENCY_EXIT"}'),
    status: 400,
    code: 'DUPLICATE_KEY',
    message: 'key "type" appears twice (in body)',
  },
  {
    name: 'a key written twice, once escaped',
    request: event('{"type":"MARKET_CLOSE","\\u0074ype":"EMERGENCY_EXIT"}'),
    status: 400,
    code: 'DUPLICATE_KEY',
    message: 'key "type" appears twice',
  },
  {
    name: 'a key written twice in the second leg',
    request: event(`{"type":"ORDER_FILLED","quantity":1,"legs":[{${LEG}},{${LEG},"strike":1}]}`),
    status: 400,
    code: 'DUPLICATE_KEY',
    message: 'key "strike" appears twice (in legs.1)',
  },
  {
    name: 'create with the id written twice',
    request: create('{"id":"target","variant":"lt112","id":"other"}'),
    status: 400,
    code: 'DUPLICATE_KEY',
    message: 'key "id" appears twice',
  },
  {
    name: 'trading state written twice',
    request: ['POST', '/system/trading-state', '{"state":"ACTIVE","reason":"r","state":"HALTED"}'],
    status: 400,
    code: 'DUPLICATE_KEY',
  },
  {
    name: 'a quantity of 1e309 (Infinity once parsed)',
    request: event('{"type":"ORDER_FILLED","quantity":1e309}'),
    status: 400,
    code: 'INVALID_EVENT',
    message: 'quantity',
    audited: true,
  },
  { name: 'a quantity of -0', request: event('{"type":"ORDER_FILLED","quantity":-0}'), status: 400, code: 'INVALID_EVENT', audited: true },
  {
    name: 'a list where the trading state object is expected',
    request: ['POST', '/system/trading-state', '["HALTED"]'],
    status: 400,
    code: 'INVALID_REQUEST',
    message: 'expected object',
  },
  {
    name: 'a list where the create object is expected',
    request: create('[{"id":"x","variant":"lt112"}]'),
    status: 400,
    code: 'INVALID_REQUEST',
    message: 'expected object',
  },
  {
    name: 'nested 33 levels (one past the limit)',
    request: event(`{"type":"MARKET_CLOSE","reason":${nested(32)}}`),
    status: 400,
    code: 'BODY_TOO_DEEP',
    message: 'deeper than 32 levels',
  },
  { name: 'nested 3,000 levels', request: event(nested(3000)), status: 400, code: 'BODY_TOO_DEEP', message: 'deeper than 32 levels' },
  {
    name: 'nested 5,000 levels in a leg',
    request: event(`{"type":"ORDER_FILLED","quantity":1,"legs":[{${LEG},"note":${nested(5000)}}]}`),
    status: 400,
    code: 'BODY_TOO_DEEP',
    message: 'deeper than 32 levels',
  },
  {
    name: 'brackets inside strings do not count as nesting',
    request: event(`{"type":"ORDER_REJECTED","reason":"${'{['.repeat(200)}\\"${'{'.repeat(50)}"}`),
    status: 409,
    code: 'NO_EDGE',
    audited: true,
  },
  {
    name: 'oversized body',
    request: event(JSON.stringify({ type: 'MARKET_CLOSE', reason: 'x'.repeat(200_000) })),
    status: 413,
    code: 'BODY_TOO_LARGE',
  },
  { name: 'truncated JSON', request: event('{"type":"MARKET_'), status: 400, code: 'INVALID_JSON' },
  { name: 'not JSON at all', request: event('type=MARKET_OPEN'), status: 400, code: 'INVALID_JSON' },
  { name: 'an empty JSON body', request: event(''), status: 400, code: 'INVALID_JSON', message: 'empty' },
  {
    name: 'a form body',
    request: ['POST', '/strategies/target/events', 'type=MARKET_OPEN'],
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  },
  {
    name: 'a text/plain body',
    request: event('{"type":"MARKET_CLOSE"}'),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    headers: { 'content-type': 'text/plain' },
  },
  {
    name: 'a text/plain create',
    request: create('{"id":"t","variant":"lt112"}'),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    headers: { 'content-type': 'text/plain' },
  },
  {
    name: 'a text/plain suspend',
    request: ['POST', '/system/suspend', '{"reason":"x"}'],
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    headers: { 'content-type': 'text/plain' },
  },
  {
    name: 'unknown strategy id',
    request: ['POST', '/strategies/ghost/events', '{"type":"MARKET_CLOSE"}'],
    status: 404,
    code: 'UNKNOWN_STRATEGY',
  },
  {
    name: 'path traversal id',
    request: ['POST', '/strategies/..%2F..%2Fdata%2Ftoken/events', '{"type":"MARKET_CLOSE"}'],
    status: 400,
    code: 'INVALID_ID',
  },
  { name: 'overlong id', request: ['GET', `/strategies/${'a'.repeat(300)}`], status: 400, code: 'INVALID_ID' },
  { name: 'an id of 10,000 characters', request: ['GET', `/strategies/${'a'.repeat(10_000)}`], status: 414, code: 'URL_TOO_LONG' },
  { name: 'id with a NUL', request: ['GET', '/strategies/a%00b'], status: 400, code: 'INVALID_ID' },
  { name: 'bad percent-encoding', request: ['GET', '/strategies/%E0%A4%A'], status: 400, code: 'INVALID_URL' },
  {
    name: 'bad percent-encoding on a write',
    request: ['POST', '/strategies/%ff%fe/events', '{"type":"MARKET_CLOSE"}'],
    status: 400,
    code: 'INVALID_URL',
  },
  { name: 'an unknown route', request: ['GET', `/nowhere/${'x'.repeat(5000)}`], status: 404, code: 'NOT_FOUND' },
  {
    name: 'create with __proto__ params',
    request: create('{"id":"p","variant":"lt112","params":{"__proto__":{"x":1}}}'),
    status: 400,
    code: 'FORBIDDEN_KEY',
    message: 'key "__proto__" is refused (in params)',
  },
  { name: 'create with a path id', request: create('{"id":"../etc","variant":"lt112"}'), status: 400, code: 'INVALID_REQUEST' },
  {
    name: 'params of the wrong type',
    request: create('{"id":"p","variant":"lt112","params":{"underlying":5}}'),
    status: 400,
    code: 'INVALID_PARAMS',
    message: 'params.underlying must be a ticker symbol',
  },
  {
    name: 'params with an unknown key',
    request: create('{"id":"p","variant":"lt112","params":{"underlying":"SPX","note":{"a":1}}}'),
    status: 400,
    code: 'INVALID_PARAMS',
    message: 'params.note is not a parameter of lt112',
  },
  {
    name: 'params nested 4,500 levels',
    request: create(`{"id":"p","variant":"lt112","params":{"x":${nested(4500)}}}`),
    status: 400,
    code: 'BODY_TOO_DEEP',
  },
  {
    name: 'params nested 9,000 levels',
    request: create(`{"id":"p","variant":"lt112","params":{"x":${nested(9000)}}}`),
    status: 400,
    code: 'BODY_TOO_DEEP',
  },
  {
    name: 'suspend with an extra key',
    request: ['POST', '/system/suspend', '{"reason":"x","force":true}'],
    status: 400,
    code: 'INVALID_REQUEST',
  },
  {
    name: 'trading state with an extra key',
    request: ['POST', '/system/trading-state', '{"state":"HALTED","reason":"x","force":true}'],
    status: 400,
    code: 'INVALID_REQUEST',
  },
  { name: 'missing token', request: event('{"type":"MARKET_CLOSE"}'), status: 401, code: 'UNAUTHORIZED', headers: null },
  {
    name: 'wrong token',
    request: event('{"type":"MARKET_CLOSE"}'),
    status: 401,
    code: 'UNAUTHORIZED',
    headers: { authorization: 'Bearer nope' },
  },
  {
    name: 'token in the wrong scheme',
    request: event('{"type":"MARKET_CLOSE"}'),
    status: 401,
    code: 'UNAUTHORIZED',
    headers: { authorization: `Basic ${TOKEN}` },
  },
];

type Read = { strategy: { state: string }; audit: { total: number } };
const state = async () => {
  const one = await send('GET', '/strategies/target', undefined, {}, null);
  const all = await send('GET', '/strategies', undefined, {}, null);
  return {
    one: one.json as unknown as Read,
    ids: (all.json as unknown as { strategies: Array<{ id: string }> }).strategies.map((s) => s.id),
  };
};

test.each(CASES)(
  '$name -> $status $code, our error shape, nothing changes unless audited, the service stays up',
  async ({ request: [method, path, body], status, code, headers, audited, message }) => {
    const before = await state();
    const response = await send(method, path, body, headers ?? {}, headers === null ? null : TOKEN);
    expect(response.status).toBe(status);
    expect(response.json.error?.code).toBe(code);
    expect(response.json.error?.message.length).toBeGreaterThan(5);
    if (message) expect(response.json.error?.message).toContain(message);
    // Our shape only ({ error } and, for a refused trigger, its result), and no long echo of the input.
    expect(Object.keys(response.json).filter((key) => key !== 'result')).toEqual(['error']);
    expect(response.text.length).toBeLessThan(4000);
    const after = await state();
    expect(after.one.strategy.state).toBe(before.one.strategy.state);
    expect(after.one.audit.total).toBe(before.one.audit.total + (audited ? 1 : 0));
    expect(after.ids).toEqual(before.ids);
    expect((await send('GET', '/health', undefined, {}, null)).status).toBe(200);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  },
);

test('the same key in two objects is not a duplicate: two legs, each with every key, get past the parser', async () => {
  const response = await send('POST', '/strategies/target/events', `{"type":"ORDER_FILLED","quantity":1,"legs":[{${LEG}},{${LEG}}]}`);
  expect(response.json.error?.code).not.toBe('DUPLICATE_KEY');
  expect(response.status).toBe(409); // refused by the chart (no fill in READY), not by the parser
});

test('valid UTF-8 beyond ASCII (accents, symbols, emoji) reaches the record as sent', async () => {
  const reason = 'panne réseau: 100 € perdus 📉';
  const response = await send('POST', '/strategies/target/events', Buffer.from(JSON.stringify({ type: 'SYSTEM_ERROR', reason }), 'utf8'));
  expect(response.status).toBe(200);
  const trail = await send('GET', '/strategies/target?limit=1');
  expect(JSON.stringify(trail.json)).toContain(JSON.stringify(reason).slice(1, -1));
});
