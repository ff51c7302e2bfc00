/**
 * The live stream over loopback, resuming from memory (`fromStore: false`, as with a store without
 * an audit feed): every event has an `id:`, a client reconnecting with `Last-Event-ID` gets exactly
 * what it missed (or a `reset` when that is no longer kept or the id is from another start), and
 * strategies created or removed are announced. Resuming from the store: event-resume-store.test.ts.
 */
import type { RunningService } from '../../server/service';
import { serviceFixture } from './services';
import { openStream } from './sse';

const TOKEN = 'e'.repeat(40);
const fixture = serviceFixture('sl-resume-', TOKEN);
const start = (options: { stream?: Record<string, number> } = {}) => fixture({ stream: { ...options.stream, fromStore: false } });

const call = (service: RunningService, method: string, path: string, body?: unknown) =>
  fetch(`${service.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then((r) => r.status);

/** The shared stream reader, over this service. */
const open = (service: RunningService, headers: Record<string, string> = {}, query = '') => openStream(service.url, headers, query);

test('every event carries an increasing id; a new strategy is strategyAdded, a removed one strategyRemoved', async () => {
  const service = await start();
  const stream = await open(service);
  expect(stream.events[0]).toMatchObject({ event: 'connected', data: { replayed: 0 } });
  expect(await call(service, 'POST', '/strategies', { id: 'fresh', variant: 'lt112' })).toBe(201);
  await call(service, 'POST', '/strategies/fresh/events', { type: 'MARKET_OPEN' });
  expect(await call(service, 'DELETE', '/strategies/fresh')).toBe(204);
  await stream.until(() => stream.events.some((e) => e.event === 'strategyRemoved'));
  expect(stream.events.map((e) => e.event)).toEqual(['connected', 'strategyAdded', 'transition', 'strategyRemoved']);
  expect(stream.events[1].data).toMatchObject({ strategyId: 'fresh', strategy: { id: 'fresh', state: 'INITIALIZING' } });
  expect(stream.events[3].data).toEqual({ strategyId: 'fresh' });
  const numbers = stream.events.map((e) => Number(e.id.split('-')[1]));
  expect(numbers).toEqual([0, 1, 2, 3]);
  stream.close();
});

test('a strategy added without the API (straight into the system) is announced by the periodic look', async () => {
  const service = await start({ stream: { syncMs: 50 } });
  const stream = await open(service);
  const { lt112 } = await import('../../machines/variants');
  await service.system.add(lt112, { id: 'quiet', params: {} });
  await stream.until(() => stream.events.some((e) => e.event === 'strategyAdded' && e.data.strategyId === 'quiet'));
  stream.close();
});

test('reconnecting with Last-Event-ID resends exactly what was missed, in order, then carries on live', async () => {
  const service = await start();
  await call(service, 'POST', '/strategies', { id: 'a', variant: 'lt112' });
  const first = await open(service);
  await call(service, 'POST', '/strategies/a/events', { type: 'MARKET_OPEN' });
  await first.until(() => first.events.some((e) => e.event === 'transition'));
  const seen = first.lastId();
  first.close();
  // Missed while away: a rejection, a system event, a new strategy.
  await call(service, 'POST', '/strategies/a/events', { type: 'ORDER_FILLED', quantity: 1 });
  await call(service, 'POST', '/system/trading-state', { state: 'REDUCING', reason: 'drawdown' });
  await call(service, 'POST', '/strategies', { id: 'b', variant: 'strangle' });
  const again = await open(service, { 'Last-Event-ID': seen });
  expect(again.events.map((e) => e.event)).toEqual(['transition', 'system', 'strategyAdded', 'connected']);
  expect(again.events[0].data).toMatchObject({ strategyId: 'a', record: { trigger: 'ORDER_FILLED', accepted: false } });
  expect(again.events[3].data).toMatchObject({ replayed: 3 });
  await call(service, 'POST', '/strategies/b/events', { type: 'MARKET_OPEN' });
  await again.until(() => again.events.length === 5);
  expect(again.events[4]).toMatchObject({ event: 'transition', data: { strategyId: 'b' } });
  // The query form, for clients that cannot set the header, resumes the same way.
  const viaQuery = await open(service, {}, `?lastEventId=${encodeURIComponent(seen)}`);
  expect(viaQuery.events.map((e) => e.event)).toEqual(['transition', 'system', 'strategyAdded', 'transition', 'connected']);
  viaQuery.close();
  again.close();
});

test('an id no longer kept, or from another start of the service, gets one reset event', async () => {
  const service = await start({ stream: { replay: 2 } });
  await call(service, 'POST', '/strategies', { id: 'a', variant: 'lt112' });
  const first = await open(service);
  const seen = first.lastId();
  first.close();
  for (const type of ['MARKET_OPEN', 'MARKET_CLOSE', 'MARKET_OPEN']) await call(service, 'POST', '/strategies/a/events', { type });
  const tooOld = await open(service, { 'Last-Event-ID': seen });
  expect(tooOld.events.map((e) => e.event)).toEqual(['reset']);
  expect(tooOld.events[0].data.reason).toContain('no longer kept');
  tooOld.close();
  const stranger = await open(service, { 'Last-Event-ID': '0badf00d-7' });
  expect(stranger.events.map((e) => e.event)).toEqual(['reset']);
  expect(stranger.events[0].data.reason).toContain('earlier start');
  // The reset carries the current id: resuming from it works.
  const after = await open(service, { 'Last-Event-ID': stranger.lastId() });
  expect(after.events.map((e) => e.event)).toEqual(['connected']);
  stranger.close();
  after.close();
});
