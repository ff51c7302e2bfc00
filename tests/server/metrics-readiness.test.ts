/**
 * `GET /metrics` in Prometheus' text format (names, labels and values move with the strategies)
 * and `GET /ready` (200 only with the store open and, with a market driver, its clock moving).
 */
import { renameSync } from 'node:fs';
import type { RunningService } from '../../server/service';
import { setImmutable } from '../persistence/helpers';
import { serviceFixture } from './services';

const TOKEN = 'm'.repeat(40);
const start = serviceFixture('sl-metrics-', TOKEN);

const post = (service: RunningService, path: string, body: unknown) =>
  fetch(`${service.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  }).then((r) => r.json());

/** The exposition parsed: `name{labels}` -> value, every sample line checked against the format. */
async function scrape(service: RunningService): Promise<{ type: string | null; samples: Map<string, number>; text: string }> {
  const response = await fetch(`${service.url}/metrics`);
  const text = await response.text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|[Nn]a[Nn]|\+Inf|-Inf)$/.exec(line);
    // NaN in any case: Prometheus parses values with Go's ParseFloat, and prom-client writes `Nan`
    // for the event-loop lag before its first sample.
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    samples.set(`${match[1]}${match[2] ?? ''}`, Number(match[3]));
  }
  return { type: response.headers.get('content-type'), samples, text };
}

test('/metrics: transitions and rejections by variant and state, strategies per state, store commit latency, event-loop lag, stream clients', async () => {
  const service = await start();
  await post(service, '/strategies', { id: 'lt', variant: 'lt112', params: { underlying: 'SPX' } });
  const before = await scrape(service);
  expect(before.type).toMatch(/^text\/plain; version=0\.0\.4/);
  expect(before.samples.get('strategy_lifecycle_strategies{variant="lt112",state="INITIALIZING"}')).toBe(1);
  expect(before.samples.get('strategy_lifecycle_transitions_total{variant="lt112",state="READY"}')).toBe(0);
  expect(before.samples.get('strategy_lifecycle_store_commit_seconds_count{operation="create",outcome="ok"}')).toBe(1);
  expect(before.samples.has('nodejs_eventloop_lag_seconds')).toBe(true);
  expect(before.samples.get('strategy_lifecycle_trading_state{state="ACTIVE"}')).toBe(1);
  expect(before.samples.get('strategy_lifecycle_sse_clients')).toBe(0);

  await post(service, '/strategies/lt/events', { type: 'MARKET_OPEN' });
  await post(service, '/strategies/lt/events', { type: 'ORDER_FILLED', quantity: 1 }); // READY has no edge for it
  const stream = new AbortController();
  const reading = await fetch(`${service.url}/events`, { signal: stream.signal });
  expect(reading.status).toBe(200);
  const after = await scrape(service);
  expect(after.samples.get('strategy_lifecycle_transitions_total{variant="lt112",state="READY"}')).toBe(1);
  expect(after.samples.get('strategy_lifecycle_rejections_total{variant="lt112",state="READY",code="NO_EDGE"}')).toBe(1);
  expect(after.samples.get('strategy_lifecycle_strategies{variant="lt112",state="READY"}')).toBe(1);
  expect(after.samples.get('strategy_lifecycle_strategies{variant="lt112",state="INITIALIZING"}')).toBe(0);
  expect(after.samples.get('strategy_lifecycle_store_commit_seconds_count{operation="append",outcome="ok"}')).toBe(2);
  expect(after.samples.get('strategy_lifecycle_store_commit_seconds_bucket{le="+Inf",operation="append",outcome="ok"}')).toBe(2);
  expect(after.samples.get('strategy_lifecycle_sse_clients')).toBe(1);
  stream.abort();
});

test('/ready: 200 while the store is open, 503 NOT_READY in our shape once it is closed; /health stays 200', async () => {
  const service = await start();
  const ready = await fetch(`${service.url}/ready`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toEqual({ status: 'ready', store: service.system.store.name, clock: 'no driver' });
  await service.system.store.close();
  const down = await fetch(`${service.url}/ready`);
  expect(down.status).toBe(503);
  expect(await down.json()).toEqual({ error: { code: 'NOT_READY', message: expect.stringContaining('the store is not available') } });
  expect(((await (await fetch(`${service.url}/health`)).json()) as { status: string }).status).toBe('ok');
});

test('/ready: 503 once the database file was moved away, while every write is refused', async () => {
  const service = await start();
  expect((await fetch(`${service.url}/ready`)).status).toBe(200);
  const file = service.system.store.name.replace(/^sqlite:/, '');
  renameSync(file, `${file}.moved`);
  const refused = await fetch(`${service.url}/strategies`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ id: 'after-move', variant: 'lt112' }),
  });
  expect(refused.status).toBe(503);
  const down = await fetch(`${service.url}/ready`);
  expect(down.status).toBe(503);
  expect(await down.json()).toEqual({
    error: { code: 'NOT_READY', message: expect.stringContaining('was deleted or replaced while open') },
  });
  renameSync(`${file}.moved`, file);
});

test('/ready: 503 while commits fail (an I/O error writing the log), 200 again once a write goes through', async () => {
  const service = await start();
  await post(service, '/strategies', { id: 'io', variant: 'lt112' });
  const file = service.system.store.name.replace(/^sqlite:/, '');
  setImmutable([`${file}-wal`], true);
  try {
    const refused = await fetch(`${service.url}/strategies/io/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ type: 'MARKET_OPEN' }),
    });
    expect(refused.status).toBe(503);
    const down = await fetch(`${service.url}/ready`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ error: { code: 'NOT_READY', message: expect.stringMatching(/^the store cannot commit: /) } });
  } finally {
    setImmutable([`${file}-wal`], false);
  }
  // Nothing else writes: the probe's own write finds the store can commit again.
  expect((await fetch(`${service.url}/ready`)).status).toBe(200);
  expect(await post(service, '/strategies/io/events', { type: 'MARKET_OPEN' })).toMatchObject({ result: { accepted: true, to: 'READY' } });
});

test('/ready: with a market driver, 503 once its simulated clock has stopped (at --until)', async () => {
  const from = Date.parse('2026-11-23T05:00:00Z'); // midnight in New York
  const service = await start({ clock: undefined, market: { simulate: { from: '2026-11-23', speed: 600, until: from + 60_000 } } });
  let status = 0;
  let body: unknown;
  for (let i = 0; i < 100 && status !== 503; i++) {
    const response = await fetch(`${service.url}/ready`);
    status = response.status;
    body = await response.json();
    if (status !== 503) await new Promise((r) => setTimeout(r, 20));
  }
  expect(status).toBe(503);
  expect(body).toEqual({ error: { code: 'NOT_READY', message: 'the market driver is stopped or its clock stopped moving' } });
});
