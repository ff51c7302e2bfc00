/**
 * A client catching up from the store that reads slowly: the stream waits for `drain` (or
 * `close`) on its response again and again, and each wait must take its listeners away with it,
 * so the response's listener count stays bounded however many waits a long catch-up takes.
 */
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { createSimulatedClock } from '../../services/market/clock';
import { startService, type RunningService } from '../../server/service';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM } from '../support/fixtures';
import { openStream } from './sse';

const TOKEN = 'd'.repeat(40);
let service: RunningService | undefined;
let dir: string | undefined;
afterEach(async () => {
  await service?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const kinds = ['close', 'drain', 'error'] as const;
type Counts = Record<(typeof kinds)[number], number>;
const countsOf = (res: ServerResponse): Counts => ({
  close: res.listenerCount('close'),
  drain: res.listenerCount('drain'),
  error: res.listenerCount('error'),
});

test('a slow reader catching up from the store leaves no close, drain or error listener behind per wait', async () => {
  ({ dir } = tempDir('sl-drain-'));
  service = await startService({
    port: 0,
    logger: false,
    token: TOKEN,
    clock: createSimulatedClock(FRIDAY_11AM),
    market: false,
    dataDir: dir,
  });
  const system = service.system;
  const auth = { authorization: `Bearer ${TOKEN}` };
  const created = await fetch(`${service.url}/strategies`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'a', variant: 'lt112' }),
  });
  expect(created.status).toBe(201);
  const first = await openStream(service.url, auth);
  const seen = first.lastId();
  first.close();
  // Each bell is one audit record (accepted or refused), so one transition the client missed.
  for (let i = 0; i < 2000; i++) await system.send('a', { type: i % 2 ? 'MARKET_CLOSE' : 'MARKET_OPEN' });

  // The service's own response objects, seen as the stream's route gets them: every `drain` is one wait ended.
  const responses: ServerResponse[] = [];
  let drains = 0;
  const most: Counts = { close: 0, drain: 0, error: 0 };
  service.app.server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!req.url?.startsWith('/events')) return;
    responses.push(res);
    res.on('drain', () => {
      drains++;
      const now = countsOf(res);
      for (const kind of kinds) most[kind] = Math.max(most[kind], now[kind]);
    });
  });
  // A client with nothing to catch up: the listeners a stream holds when it never waited.
  const idle = await openStream(service.url, auth);
  const reference = countsOf(responses[0]);

  // The slow reader: a raw socket that takes one chunk only once the service is held up on it.
  const socket = connect(Number(new URL(service.url).port), '127.0.0.1');
  socket.pause();
  socket.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nLast-Event-ID: ${seen}\r\n\r\n`);
  let received = '';
  while (!received.includes('event: connected')) {
    // Turns of the event loop, not time: the service writes until its buffer is full.
    for (let turn = 0; turn < 200 && !(responses[1]?.writableNeedDrain ?? false); turn++) await new Promise((done) => setImmediate(done));
    socket.resume();
    received += String((await once(socket, 'data'))[0]);
    socket.pause();
  }
  socket.resume();
  const slow = responses[1];
  expect(received.split('event: transition').length - 1).toBe(2000);
  // Many waits (an emitter warns past 10 listeners of one kind)...
  expect(drains).toBeGreaterThan(20);
  // ...each holding at most its own one of each kind while it waited, and none left once caught up.
  expect(most.close).toBeLessThanOrEqual(reference.close + 1);
  expect(most.error).toBeLessThanOrEqual(reference.error + 2); // events.once listens for 'error' too, once per event waited for
  expect(most.drain).toBeLessThanOrEqual(reference.drain + 1); // both counts hold the test's own drain listener
  expect(countsOf(slow)).toEqual(reference);
  socket.destroy();
  idle.close();
});
