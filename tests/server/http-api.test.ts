/** The HTTP API through real HTTP on 127.0.0.1: happy paths, every error code, the token. */
import { request as httpRequest } from 'node:http';
import { createSimulatedClock } from '../../services/market/clock';
import { startService, type RunningService } from '../../server/service';
import { FRIDAY_11AM, MINUTE, VARIANTS } from '../support/fixtures';
import { tempDir } from '../persistence/helpers';

const TOKEN = 't'.repeat(40);
let service: RunningService;
let cleanup: () => void;
let clock: ReturnType<typeof createSimulatedClock>;

beforeEach(async () => {
  const tmp = tempDir('sl-http-');
  cleanup = tmp.cleanup;
  clock = createSimulatedClock(FRIDAY_11AM);
  service = await startService({ dataDir: tmp.dir, port: 0, logger: false, token: TOKEN, clock, market: false });
});
afterEach(async () => {
  await service.close();
  cleanup();
});

async function api(method: string, path: string, body?: unknown, token: string | null = TOKEN, raw?: string) {
  const headers: Record<string, string> = {};
  if (body !== undefined || raw !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

const create = (id: string, variant = 'lt112') => api('POST', '/strategies', { id, variant, params: { underlying: 'SPX' } });

test('the service binds to 127.0.0.1 by default', () => {
  expect(service.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
});

test('create, list, send events, read a strategy with its statistics and a page of its audit trail', async () => {
  expect((await create('lt-1')).status).toBe(201);
  const opened = await api('POST', '/strategies/lt-1/events', { type: 'MARKET_OPEN' });
  expect(opened).toMatchObject({ status: 200, body: { result: { accepted: true, from: 'INITIALIZING', to: 'READY' } } });
  clock.increment(5 * MINUTE);
  await api('POST', '/strategies/lt-1/events', { type: 'TIME_WINDOW_START' });
  await api('POST', '/strategies/lt-1/events', VARIANTS[1].entry);

  const list = await api('GET', '/strategies', undefined, null);
  expect(list.body.strategies).toEqual([
    expect.objectContaining({ id: 'lt-1', variant: 'lt112', state: 'PENDING_ENTRY', params: { underlying: 'SPX' } }),
  ]);
  const one = await api('GET', '/strategies/lt-1?limit=2', undefined, null);
  expect(one.status).toBe(200);
  expect(one.body.statistics).toMatchObject({ currentState: 'PENDING_ENTRY', totalTransitions: 3 });
  expect(one.body.audit.total).toBe(3);
  expect(one.body.audit.records.map((r: { trigger: string }) => r.trigger)).toEqual(['ENTRY_CONDITIONS_MET', 'TIME_WINDOW_START']);
  const older = await api('GET', '/strategies/lt-1?limit=2&offset=2', undefined, null);
  expect(older.body.audit.records.map((r: { trigger: string }) => r.trigger)).toEqual(['MARKET_OPEN']);

  const summary = await api('GET', '/summary', undefined, null);
  expect(summary.body).toMatchObject({ totalStrategies: 1, countByState: { PENDING_ENTRY: 1 }, tradingState: 'ACTIVE' });
  expect((await api('GET', '/health', undefined, null)).body).toMatchObject({ status: 'ok', strategies: 1 });
});

test('system operations: suspend, resume, trading state and kill switch', async () => {
  await create('a');
  await create('b');
  await api('POST', '/strategies/a/events', { type: 'MARKET_OPEN' });
  const suspended = await api('POST', '/system/suspend', { reason: 'FOMC' });
  expect(suspended.body.result.changed).toEqual([{ strategyId: 'a', to: 'SUSPENDED' }]);
  expect(suspended.body.result.skipped).toEqual([expect.objectContaining({ strategyId: 'b', state: 'INITIALIZING' })]);
  expect((await api('POST', '/system/resume', {})).body.result.changed).toEqual([{ strategyId: 'a', to: 'READY' }]);
  expect((await api('POST', '/system/trading-state', { state: 'REDUCING', reason: 'drawdown' })).body.change).toMatchObject({
    from: 'ACTIVE',
    to: 'REDUCING',
  });
  // Like every time the API gives: New York time with its offset.
  expect((await api('GET', '/health', undefined, null)).body.trading).toMatchObject({
    state: 'REDUCING',
    since: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-0[45]:00$/),
  });
  const kill = await api('POST', '/system/kill-switch', { reason: 'end of day' });
  expect(kill).toMatchObject({ status: 202, body: { status: 'flattening', tradingState: 'HALTED' } });
});

test('every write needs the token: missing or wrong is 401, and nothing changes', async () => {
  await create('a');
  for (const token of [null, 'wrong-token-wrong-token-wrong-token!']) {
    const writes = [
      api('POST', '/strategies', { id: 'x', variant: 'lt112' }, token),
      api('POST', '/strategies/a/events', { type: 'MARKET_OPEN' }, token),
      api('POST', '/system/suspend', { reason: 'x' }, token),
      api('POST', '/system/resume', {}, token),
      api('POST', '/system/kill-switch', { reason: 'x' }, token),
      api('POST', '/system/trading-state', { state: 'HALTED', reason: 'x' }, token),
      api('DELETE', '/strategies/a', undefined, token),
    ];
    for (const response of await Promise.all(writes)) {
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('UNAUTHORIZED');
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    }
  }
  const summary = (await api('GET', '/summary', undefined, null)).body;
  expect(summary).toMatchObject({ totalStrategies: 1, countByState: { INITIALIZING: 1 }, tradingState: 'ACTIVE' });
});

test.each([
  ['unknown strategy', () => api('POST', '/strategies/nope/events', { type: 'MARKET_OPEN' }), 404, 'UNKNOWN_STRATEGY'],
  ['unknown strategy (read)', () => api('GET', '/strategies/nope', undefined, null), 404, 'UNKNOWN_STRATEGY'],
  ['rejected trigger', () => api('POST', '/strategies/a/events', { type: 'ORDER_FILLED', quantity: 1 }), 409, 'NO_EDGE'],
  ['malformed event', () => api('POST', '/strategies/a/events', { type: 'ORDER_FILLED', quantity: -1 }), 400, 'INVALID_EVENT'],
  ['unknown event type', () => api('POST', '/strategies/a/events', { type: 'BUY_EVERYTHING' }), 400, 'INVALID_EVENT'],
  ['bad body for create', () => api('POST', '/strategies', { id: 'b', variant: 'lt112', extra: 1 }), 400, 'INVALID_REQUEST'],
  ['unknown variant', () => api('POST', '/strategies', { id: 'b', variant: 'butterfly' }), 400, 'UNKNOWN_VARIANT'],
  ['duplicate strategy', () => api('POST', '/strategies', { id: 'a', variant: 'lt112' }), 409, 'DUPLICATE_STRATEGY'],
  ['invalid JSON', () => api('POST', '/strategies/a/events', undefined, TOKEN, '{"type":'), 400, 'INVALID_JSON'],
  ['bad trading state', () => api('POST', '/system/trading-state', { state: 'PANIC', reason: 'x' }), 400, 'INVALID_REQUEST'],
  ['path trick in id', () => api('GET', '/strategies/..%2F..%2Fetc%2Fpasswd', undefined, null), 400, 'INVALID_ID'],
  ['unknown route', () => api('GET', '/nowhere', undefined, null), 404, 'NOT_FOUND'],
] as const)('%s -> %s', async (_name, call, status, code) => {
  await create('a');
  const response = await call();
  expect(response.status).toBe(status);
  expect(response.body.error.code).toBe(code);
  expect(typeof response.body.error.message).toBe('string');
  expect(response.body.error.message.length).toBeGreaterThan(5);
});

test('a rejected trigger is 409 with the reason naming the state and the event, and is audited', async () => {
  await create('a');
  const response = await api('POST', '/strategies/a/events', { type: 'ORDER_FILLED', quantity: 1 });
  expect(response.body.error.message).toBe('INITIALIZING has no edge for ORDER_FILLED');
  expect((await api('GET', '/strategies/a', undefined, null)).body.audit.total).toBe(1);
});

test('an oversized body is 413', async () => {
  await create('a');
  const response = await api(
    'POST',
    '/strategies/a/events',
    undefined,
    TOKEN,
    JSON.stringify({ type: 'MARKET_OPEN', pad: 'x'.repeat(100_000) }),
  );
  expect(response.status).toBe(413);
  expect(response.body.error.code).toBe('BODY_TOO_LARGE');
});

test('the live stream delivers each transition as a Server-Sent Event', async () => {
  await create('a');
  const events: string[] = [];
  const url = new URL(`${service.url}/events`);
  const stream = httpRequest({ host: url.hostname, port: url.port, path: '/events' });
  const received = new Promise<void>((resolve) => {
    stream.on('response', (response) => {
      response.on('data', (chunk: Buffer) => {
        events.push(chunk.toString());
        if (events.join('').includes('"currentState":"READY"')) resolve();
      });
    });
  });
  stream.end();
  await new Promise((r) => setTimeout(r, 100));
  await api('POST', '/strategies/a/events', { type: 'MARKET_OPEN' });
  await received;
  const text = events.join('');
  expect(text).toContain('event: transition');
  expect(text).toMatch(/"strategyId":"a"/);
  stream.destroy();
});

test('close() drains a request in flight and commits it', async () => {
  await create('a');
  // Close while the request is being handled: its transition is committed, its answer not yet sent.
  let closing: Promise<void> | undefined;
  service.system.subscribe(() => {
    closing ??= service.close();
  });
  const response = await api('POST', '/strategies/a/events', { type: 'MARKET_OPEN' });
  expect(closing).toBeDefined();
  await closing;
  expect(response.status).toBe(200);
  const { openStrategySystem } = await import('../../services/runtime/persistentSystem');
  const { SqliteStore } = await import('../../services/store/sqliteStore');
  const { DEFAULT_VARIANTS } = await import('../../server/service');
  const reopened = await openStrategySystem({
    store: new SqliteStore(service.system.store.name.replace(/^sqlite:/, '')),
    variants: DEFAULT_VARIANTS,
    clock,
  });
  expect(reopened.get('a').state).toBe('READY');
  await reopened.close();
});
