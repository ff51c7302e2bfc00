/**
 * Load: autocannon against the events endpoint on loopback, bounded in time. Zero errors, and
 * afterwards exactly one audit record per answered request. The figures are printed (and copied
 * into docs/reliability.md by hand); nothing here asserts on speed.
 */
import autocannon from 'autocannon';
import { startService, type RunningService } from '../../server/service';
import { tempDir } from '../persistence/helpers';

const TOKEN = 'l'.repeat(40);
const STRATEGIES = 20;
let service: RunningService;
let cleanup: () => void;

beforeAll(async () => {
  const tmp = tempDir('sl-load-');
  cleanup = tmp.cleanup;
  service = await startService({ dataDir: tmp.dir, port: 0, logger: false, token: TOKEN, market: false });
  for (let i = 0; i < STRATEGIES; i++) {
    await fetch(`${service.url}/strategies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ id: `s${i}`, variant: 'lt112' }),
    });
  }
});
afterAll(async () => {
  await service.close();
  cleanup();
});

test('the events endpoint under load: no errors, one audit record per answered request', async () => {
  let n = 0;
  const events = [
    '{"type":"MARKET_OPEN"}',
    '{"type":"TIME_WINDOW_START"}',
    '{"type":"TIME_WINDOW_END"}',
    '{"type":"ORDER_FILLED","quantity":1}',
  ];
  const result = await autocannon({
    url: service.url,
    connections: 10,
    // A fixed number of requests, so every one is answered and counted (a duration would cut
    // off the last requests in flight); bounded in time by the test timeout.
    amount: 3000,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        setupRequest: (request) => {
          const i = n++;
          return { ...request, path: `/strategies/s${i % STRATEGIES}/events`, body: events[Math.floor(i / STRATEGIES) % events.length] };
        },
      },
    ],
  });
  const answered = result['2xx'] + result['4xx'];
  expect(result.errors).toBe(0);
  expect(result.timeouts).toBe(0);
  expect(result['5xx']).toBe(0);
  expect(result.non2xx).toBe(result['4xx']); // rejections (409), never failures
  // Counted in the store, page by page: a strategy keeps only its newest records in memory.
  let records = 0;
  for (let i = 0; i < STRATEGIES; i++) {
    let before: number | undefined;
    do {
      const page = await service.system.readAuditTrail(`s${i}`, before === undefined ? {} : { before });
      records += page.records.length;
      before = page.next ?? undefined;
    } while (before !== undefined);
  }
  expect(records).toBe(answered);
  console.log(
    `load: ${result.requests.average.toFixed(0)} requests/s, p99 ${result.latency.p99} ms, ${answered} answered (${result['2xx']} accepted, ${result['4xx']} rejected), ${result.errors} errors`,
  );
}, 30_000);
