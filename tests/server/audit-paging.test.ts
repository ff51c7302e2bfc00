/**
 * `GET /strategies/:id` pages a trail longer than the strategy's in-memory window (issue 15):
 * `?before=&limit=` with a `next` cursor walks every record once, newest first, older pages
 * read from the store; `offset` still works; the OpenAPI document describes both.
 */
import Fastify from 'fastify';
import type { TransitionRecord } from '../../machines/types';
import { installErrorHandling } from '../../server/errors';
import { serviceFixture } from './services';

const TOKEN = 'p'.repeat(40);
const start = serviceFixture('sl-audit-page-', TOKEN);

type Audit = { total: number; offset: number; limit: number; records: TransitionRecord[]; next: number | null };

test('paging with before and next returns every record once, newest first, beyond the window', async () => {
  const service = await start({ auditWindow: 6 });
  const { app, system } = service;
  await app.inject({
    method: 'POST',
    url: '/strategies',
    headers: { authorization: `Bearer ${TOKEN}` },
    payload: { id: 'lt-1', variant: 'lt112', params: { underlying: 'SPX' } },
  });
  await system.send('lt-1', { type: 'MARKET_OPEN' });
  for (let i = 0; i < 10; i++) {
    await system.send('lt-1', { type: 'MANUAL_OVERRIDE', target: 'SUSPENDED', reason: `round ${i}`, operator: 'test' });
    await system.send('lt-1', { type: 'ORDER_FILLED', quantity: 1 }); // refused, still audited
    await system.send('lt-1', { type: 'RESUME' });
  }
  expect(system.get('lt-1').getAuditTrail()).toHaveLength(6);

  const read = async (query: string): Promise<Audit> => {
    const response = await app.inject({ method: 'GET', url: `/strategies/lt-1${query}` });
    expect(response.statusCode).toBe(200);
    return response.json<{ audit: Audit }>().audit;
  };
  const seen: number[] = [];
  let page = await read('?limit=4');
  let pages = 1;
  expect(page).toMatchObject({ total: 31, offset: 0, limit: 4, next: 28 });
  seen.push(...page.records.map((r) => r.seq));
  while (page.next !== null) {
    page = await read(`?limit=4&before=${page.next}`);
    pages++;
    seen.push(...page.records.map((r) => r.seq));
  }
  expect(seen).toEqual(Array.from({ length: 31 }, (_, i) => 31 - i));
  expect(pages).toBe(8);
  // The oldest page ends the walk and says so.
  expect(page).toMatchObject({ total: 31, offset: 28, next: null });
  expect(page.records.map((r) => r.trigger)).toEqual(['ORDER_FILLED', 'MANUAL_OVERRIDE', 'MARKET_OPEN']);

  // An offset is the same page as its `before`, far back in the store as near in memory.
  expect((await read('?limit=5&offset=20')).records).toEqual((await read('?limit=5&before=12')).records);
  expect((await read('?limit=5&offset=20')).records.map((r) => r.seq)).toEqual([11, 10, 9, 8, 7]);
  // Bad numbers fall back to the defaults (limit 50, from the newest).
  const whole = await read('?before=abc&limit=x');
  expect(whole).toMatchObject({ limit: 50, next: null });
  expect(whole.records).toHaveLength(31);
  // A negative limit is a bad number too (not 1); before=0 is older than the first record: empty.
  expect(await read('?limit=-1')).toMatchObject({ limit: 50 });
  expect((await read('?limit=-1')).records).toHaveLength(31);
  expect(await read('?before=0&limit=5')).toMatchObject({ records: [], next: null });

  // The bearer scheme is case-insensitive (RFC 7235).
  const lower = await app.inject({
    method: 'POST',
    url: '/strategies/lt-1/events',
    headers: { authorization: `bearer ${TOKEN}` },
    payload: { type: 'TIME_WINDOW_START' },
  });
  expect(lower.statusCode).toBe(200);
});

test('cursors the library refuses still page as documented; a refused bound is a 400 naming it', async () => {
  const service = await start({ auditWindow: 4 });
  const { app, system } = service;
  await app.inject({
    method: 'POST',
    url: '/strategies',
    headers: { authorization: `Bearer ${TOKEN}` },
    payload: { id: 'lt-2', variant: 'lt112', params: { underlying: 'SPX' } },
  });
  await system.send('lt-2', { type: 'MARKET_OPEN' });
  for (let i = 0; i < 3; i++) {
    await system.send('lt-2', { type: 'MANUAL_OVERRIDE', target: 'SUSPENDED', reason: `round ${i}`, operator: 'test' });
    await system.send('lt-2', { type: 'RESUME' });
  }
  const read = async (query: string): Promise<Audit> => {
    const response = await app.inject({ method: 'GET', url: `/strategies/lt-2${query}` });
    expect(response.statusCode).toBe(200);
    return response.json<{ audit: Audit }>().audit;
  };
  // readAuditTrail takes a whole `before` from 1 to MAX_SAFE_INTEGER: the route bounds what it parsed.
  expect(await read('?before=0')).toMatchObject({ total: 7, records: [], next: null });
  expect(await read('?offset=100')).toMatchObject({ total: 7, records: [], next: null });
  expect((await read('?before=99999999999999999999&limit=3')).records.map((r) => r.seq)).toEqual([7, 6, 5]);
  expect((await read(`?before=${'9'.repeat(400)}&limit=2`)).records.map((r) => r.seq)).toEqual([7, 6]);
  expect((await read('?before=2.9')).records.map((r) => r.seq)).toEqual([1]);

  // Should a refused bound reach the error handler, it answers 400 with the library's message.
  const probe = Fastify({ logger: false });
  installErrorHandling(probe, 1024);
  probe.get('/page', async () => system.readAuditTrail('lt-2', { limit: Number.NaN }));
  const refused = await probe.inject({ method: 'GET', url: '/page' });
  await probe.close();
  expect(refused.statusCode).toBe(400);
  expect(refused.json()).toEqual({
    error: {
      code: 'INVALID_REQUEST',
      message: 'readAuditTrail: option limit must be a whole number from 1 to 1000, got NaN',
      field: 'limit',
    },
  });
});

test('the OpenAPI document describes the cursor and the next page', async () => {
  const { app } = await start();
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{
    paths: Record<
      string,
      Record<
        string,
        {
          parameters?: Array<{ name: string }>;
          responses: Record<
            string,
            { content: Record<string, { schema: { properties: { audit: { properties: Record<string, unknown> } } } }> }
          >;
        }
      >
    >;
  }>();
  const route = doc.paths['/strategies/{id}'].get;
  expect(route.parameters?.map((p) => p.name)).toEqual(expect.arrayContaining(['before', 'offset', 'limit']));
  expect(Object.keys(route.responses['200'].content['application/json'].schema.properties.audit.properties)).toEqual(
    expect.arrayContaining(['next', 'records', 'total']),
  );
});
