/**
 * The live stream (`GET /events`) protects the service from its readers: a client that never
 * reads is disconnected once it holds too much unread (or stays backed up too long), so memory
 * stays bounded however many transitions are sent; past the client cap a stream is refused.
 */
import { connect, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join } from 'node:path';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { SqliteStore } from '../../services/store/sqliteStore';
import { startService, type RunningService, type ServiceOptions } from '../../server/service';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM } from '../support/fixtures';

const TOKEN = 's'.repeat(40);
let services: Array<{ service: RunningService; cleanup: () => void }> = [];

async function start(options: Partial<ServiceOptions>): Promise<RunningService> {
  const tmp = tempDir('sl-stream-');
  // NORMAL: thousands of transitions without one fsync each; durability is not what is tested here.
  const store = new SqliteStore(join(tmp.dir, 'strategy-lifecycle.db'), { synchronous: 'NORMAL' });
  const service = await startService({
    dataDir: tmp.dir,
    store,
    port: 0,
    logger: false,
    token: TOKEN,
    clock: createSimulatedClock(FRIDAY_11AM),
    ...options,
  });
  services.push({ service, cleanup: tmp.cleanup });
  await service.system.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
  await service.system.send('lt', { type: 'MARKET_OPEN' });
  return service;
}
afterEach(async () => {
  for (const { service, cleanup } of services) {
    await service.close();
    cleanup();
  }
  services = [];
});

/** A stream client over a raw socket that never reads what the service sends. */
function pausedClient(service: RunningService): Promise<{ socket: Socket; closed: Promise<void> }> {
  const { port } = new URL(service.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write('GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      resolve({ socket, closed: new Promise((done) => socket.on('close', () => done())) });
    });
    socket.pause(); // never read: what the service writes piles up in the kernel, then in the service
    socket.on('error', reject);
  });
}

/** A stream client that reads, counting the transitions it received. */
async function readingClient(service: RunningService, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const response = await fetch(`${service.url}/events`, { signal: controller.signal, headers });
  const counter = { transitions: 0, status: response.status };
  void (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>)
        counter.transitions += decoder.decode(chunk).split('event: transition\n').length - 1;
    } catch {
      // aborted at the end of the test
    }
  })();
  return { counter, stop: () => controller.abort() };
}

/**
 * Transitions (each an audit record on the stream, about 2.5 KB with its 1,000-character reason):
 * ORDER_REJECTED refused in READY, `n` times. The event loop gets a turn every 20, as it does
 * between HTTP requests, so readers can read.
 */
async function transitions(service: RunningService, n: number) {
  for (let i = 0; i < n; i++) {
    await service.system.send('lt', { type: 'ORDER_REJECTED', reason: REASON });
    if (i % 20 === 19) await new Promise((r) => setImmediate(r));
  }
}

/** Resolves once `check` holds (polled every 20 ms, at most `ms`). */
async function until(check: () => boolean, ms = 5000) {
  for (const end = performance.now() + ms; !check() && performance.now() < end;) await new Promise((r) => setTimeout(r, 20));
}

const REASON = 'r'.repeat(1000);
// A full collection before each reading, so the figure is what is retained, not garbage that a
// busy machine has not collected yet.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;
const memory = () => {
  collect();
  const m = process.memoryUsage();
  return { rss: m.rss, heapAndBuffers: m.heapUsed + m.external };
};
const mb = (bytes: number) => Math.round(bytes / 1024 / 102.4) / 10;

test('20 paused clients and 8,000 transitions: every paused client is disconnected, memory stays bounded, a reading client gets everything', async () => {
  const service = await start({ stream: { maxBufferedBytes: 256 * 1024, maxClients: 25, reservedForToken: 0 } });
  const paused = await Promise.all(Array.from({ length: 20 }, () => pausedClient(service)));
  const reader = await readingClient(service);
  await new Promise((r) => setTimeout(r, 100)); // the streams are open
  expect(service.app.eventStream.clients).toBe(21);
  const before = memory();

  await transitions(service, 8000);
  await until(() => service.app.eventStream.slowDisconnected === 20);
  const after = memory();

  expect(service.app.eventStream).toMatchObject({ clients: 1, slowDisconnected: 20 });
  const growth = { rss: mb(after.rss - before.rss), heapAndBuffers: mb(after.heapAndBuffers - before.heapAndBuffers) };
  // Unbounded (before the limits), the same run grew RSS by 255 MB and heap plus buffers by 209 MB;
  // bounded, 67 and 32 MB, most of it the 8,000 audit records the strategy itself keeps (about
  // 20 MB) and the stream's replay buffer of its last 1,000 events (about 2.5 MB), both retained
  // whatever the readers do. Heap and buffers are measured after a full collection.
  expect(growth.rss).toBeLessThan(150);
  expect(growth.heapAndBuffers).toBeLessThan(80);
  process.stdout.write(`stream memory: before rss ${mb(before.rss)} MB, after ${mb(after.rss)} MB; growth ${JSON.stringify(growth)} MB\n`);
  await until(() => reader.counter.transitions === 8000);
  expect(reader.counter.transitions).toBe(8000);
  // The service closed the paused connections: once they read what was in flight, they end.
  for (const p of paused) p.socket.resume();
  await Promise.all(paused.map((p) => p.closed));
  reader.stop();
  expect((await fetch(`${service.url}/health`)).status).toBe(200);
}, 60_000);

test('places are kept for token holders: clients without the token cannot take every stream', async () => {
  // Reads are open (no --auth-reads), so any local page or script may stream; 4 places, 1 kept.
  const service = await start({ stream: { maxClients: 4 } });
  const open = [await readingClient(service), await readingClient(service), await readingClient(service)];
  expect(open.map((c) => c.counter.status)).toEqual([200, 200, 200]);
  const refused = await fetch(`${service.url}/events`);
  expect(refused.status).toBe(503);
  expect(await refused.json()).toEqual({
    error: {
      code: 'TOO_MANY_STREAMS',
      message: expect.stringContaining('3 clients without the token are streaming already (the limit; 1 of 4 places are kept'),
    },
  });
  // The operator's dashboard sends the token (as ?token=, as a browser's EventSource must) and gets the kept place.
  const operator = await readingClient(service, { authorization: `Bearer ${TOKEN}` });
  expect(operator.counter.status).toBe(200);
  expect(service.app.eventStream.clients).toBe(4);
  // A wrong token is no token.
  expect((await fetch(`${service.url}/events?token=wrong-token-wrong-token`)).status).toBe(503);
  // A place freed by a client without the token is open to one again.
  open[0].stop();
  for (let i = 0; i < 40 && service.app.eventStream.clients > 3; i++) await new Promise((r) => setTimeout(r, 25));
  const again = await readingClient(service);
  expect(again.counter.status).toBe(200);
  for (const c of [...open, again, operator]) c.stop();
});

test('a client backed up longer than stallMs is disconnected even under the byte limit', async () => {
  const service = await start({ stream: { maxBufferedBytes: 1024 * 1024 * 1024, stallMs: 300 } });
  const paused = await pausedClient(service);
  await new Promise((r) => setTimeout(r, 50));
  // Enough to fill the kernel's buffers on loopback (a few MB): write() then says "wait" for good.
  await transitions(service, 8000);
  const started = performance.now();
  await until(() => service.app.eventStream.slowDisconnected === 1);
  expect(performance.now() - started).toBeLessThan(1000);
  expect(service.app.eventStream).toMatchObject({ clients: 0, slowDisconnected: 1 });
  paused.socket.resume();
  await paused.closed;
}, 30_000);

test('past maxClients a stream is refused 503 TOO_MANY_STREAMS in our shape; a place freed is taken again', async () => {
  const service = await start({ stream: { maxClients: 2 } });
  const first = await readingClient(service);
  const second = await readingClient(service);
  const third = await fetch(`${service.url}/events`);
  expect(third.status).toBe(503);
  expect(third.headers.get('retry-after')).toBe('5');
  expect(await third.json()).toEqual({
    error: { code: 'TOO_MANY_STREAMS', message: expect.stringContaining('2 clients are streaming already') },
  });
  expect(service.app.eventStream).toMatchObject({ clients: 2, refused: 1 });
  first.stop();
  for (let i = 0; i < 40 && service.app.eventStream.clients > 1; i++) await new Promise((r) => setTimeout(r, 25));
  const again = await readingClient(service);
  expect(again.counter.status).toBe(200);
  second.stop();
  again.stop();
});
