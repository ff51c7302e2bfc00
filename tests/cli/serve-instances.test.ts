/**
 * Two real `serve` processes on one PostgreSQL database: each serves the strategies it holds
 * leases for and says which instance it is; a halt posted to one is the other's trading state at
 * once; after `kill -9` of one, the other takes its strategies over within a few lease periods
 * and serves them. `--no-market`: only what the test sends happens.
 */
import { join } from 'node:path';
import { freshDatabase } from '../persistence/pg';
import { start, type Running, serveFixture } from './cli';

const TOKEN = 'instances-test-token-0123456789';
const LEASE_MS = 1500;
const fixture = serveFixture('sl-instances-');

interface View {
  id: string;
  state: string;
  instance: string | null;
}

async function serve(store: string, instance: string, logLevel = 'silent'): Promise<{ server: Running; url: string }> {
  const server = start(
    [
      'serve',
      '--store',
      store,
      '--instance-id',
      instance,
      '--lease-ms',
      String(LEASE_MS),
      '--no-market',
      '--data-dir',
      join(fixture.dir, instance),
      '--port',
      '0',
      '--log-level',
      logLevel,
    ],
    { env: { STRATEGY_LIFECYCLE_TOKEN: TOKEN } },
  );
  fixture.track(server);
  // The banner names the store opened (--store), not the data dir's SQLite file.
  const [, url] = await server.waitFor(/^strategy-lifecycle: serving (http:\/\/127\.0\.0\.1:\d+) \(store postgres:/m);
  await server.waitFor(new RegExp(`^store: postgres:.* \\(instance ${instance}, lease ${LEASE_MS} ms\\)$`, 'm'));
  return { server, url };
}

const get = async <T>(url: string): Promise<T> => (await (await fetch(url)).json()) as T;
const post = (url: string, body: unknown) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  });

/** Polls `read` until `done` holds of its value, for at most `ms` (real time: two processes). */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('two serve instances on one database: each serves its own, one trading state, and kill -9 of one hands its strategies to the other', async () => {
  const store = await freshDatabase('serve_instances');
  const a = await serve(store, 'node-a');
  const b = await serve(store, 'node-b', 'info');

  for (const [id, variant] of [
    ['lt112-spx', 'lt112'],
    ['strangle-spy', 'strangle'],
    ['zero-spx', 'zeroDte'],
  ]) {
    expect((await post(`${a.url}/strategies`, { id, variant })).status).toBe(201);
  }
  expect((await post(`${a.url}/strategies/lt112-spx/events`, { type: 'MARKET_OPEN' })).status).toBe(200);
  const onA = await get<{ instance: string; strategies: View[] }>(`${a.url}/strategies`);
  expect(onA.instance).toBe('node-a');
  expect(onA.strategies.map((s) => [s.id, s.instance])).toEqual([
    ['lt112-spx', 'node-a'],
    ['strangle-spy', 'node-a'],
    ['zero-spx', 'node-a'],
  ]);
  expect(await get(`${b.url}/strategies`)).toEqual({ instance: 'node-b', strategies: [] });
  expect(await get(`${b.url}/market`)).toMatchObject({ driver: false, instance: 'node-b' });
  // b cannot change what a holds: it is not its to write.
  expect((await post(`${b.url}/strategies/lt112-spx/events`, { type: 'TIME_WINDOW_START' })).status).toBe(404);

  // One trading state for all: a halt posted to b is a's at once (NOTIFY), with its reason.
  expect((await post(`${b.url}/system/trading-state`, { state: 'HALTED', reason: 'exchange incident', operator: 'ops-b' })).status).toBe(
    200,
  );
  const health = await until(
    () => get<{ tradingState: string; trading: { reason: string; operator: string } }>(`${a.url}/health`),
    (h) => h.tradingState === 'HALTED',
    5000,
  );
  expect(health).toMatchObject({ tradingState: 'HALTED', trading: { reason: 'exchange incident', operator: 'ops-b' } });

  a.server.child.kill('SIGKILL');
  expect(await a.server.exited).toBe('SIGKILL');
  const killedAt = Date.now();
  const taken = await until(
    () => get<{ strategies: View[] }>(`${b.url}/strategies`),
    (r) => r.strategies.length === 3,
    6 * LEASE_MS + 5000,
  );
  const took = Date.now() - killedAt;
  expect(taken.strategies.map((s) => [s.id, s.state, s.instance])).toEqual([
    ['lt112-spx', 'READY', 'node-b'],
    ['strangle-spy', 'INITIALIZING', 'node-b'],
    ['zero-spx', 'INITIALIZING', 'node-b'],
  ]);
  // The lease runs out, then b's next round (every lease / 3) claims: a few lease periods at most.
  expect(took).toBeLessThan(4 * LEASE_MS + 1000);
  // Each takeover is in b's log, a JSON line an operator can search for. The log reaches this
  // process through a pipe, after the strategy is served: read until the three lines are there.
  const claimLines = async () =>
    b.server
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; lease?: string; strategyId?: string; state?: string; msg: string })
      .filter((line) => line.lease === 'claimed');
  const claims = await until(claimLines, (lines) => lines.length >= 3, 5000);
  expect(claims.map((c) => [c.strategyId, c.state, c.level]).sort()).toEqual([
    ['lt112-spx', 'READY', 30],
    ['strangle-spy', 'INITIALIZING', 30],
    ['zero-spx', 'INITIALIZING', 30],
  ]);
  expect(claims[0].msg).toMatch(/lease claimed: taken over by a lease round/);
  // b serves them now: its audit trail came with them, and it accepts events for them.
  const lt112 = await get<{ audit: { total: number } }>(`${b.url}/strategies/lt112-spx`);
  expect(lt112.audit.total).toBe(1);
  const sent = await post(`${b.url}/strategies/lt112-spx/events`, { type: 'SYSTEM_ERROR', reason: 'checked after failover' });
  expect(sent.status).toBe(200);
  expect(((await sent.json()) as { result: { to: string } }).result.to).toBe('ERROR');
  expect((await get<{ tradingState: string }>(`${b.url}/health`)).tradingState).toBe('HALTED');
}, 60_000);
