/**
 * The inspector bridge against clients that misbehave: whatever one client sends, the service the
 * bridge runs in (and the other viewers) carry on. The bridge runs in a child process on the BUILT
 * package (see ./inspect-support): `npm run build` first.
 */
import WebSocket from 'ws';
import { connectViewer, startProducer, type InspectMessage, type Producer, type Viewer } from './inspect-support';

let producer: Producer | undefined;
const viewers: Viewer[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  viewers.splice(0).forEach((v) => v.close());
  sockets.splice(0).forEach((s) => s.terminate());
  await producer?.stop();
  producer = undefined;
});

const marked = (reason: string) => (m: InspectMessage) =>
  m.type === '@xstate.event' && m.event?.type === 'system.setTradingState' && m.event.reason === reason;

/** A raw client on the bridge; resolves once it is closed by the bridge (or on error). */
async function rawClient(wsUrl: string, misbehave: (socket: WebSocket) => void): Promise<void> {
  const socket = new WebSocket(wsUrl);
  sockets.push(socket);
  socket.on('error', () => undefined);
  await new Promise<void>((open, reject) => socket.once('open', () => open()).once('error', reject));
  const closed = new Promise<void>((done) => socket.once('close', () => done()));
  misbehave(socket);
  await closed;
}

test.each([
  // e.g. an application's own inspector sending a snapshot of a huge context
  ['a message over the bridge limit (4 MB)', (s: WebSocket) => s.send('x'.repeat(5 * 1024 * 1024))],
  // a text frame that is not UTF-8 (written under ws's framing: a masked text frame of two bytes)
  [
    'a malformed frame',
    (s: WebSocket) =>
      (s as unknown as { _socket: { write(b: Buffer): void } })._socket.write(Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0xff, 0xfe])),
  ],
])('a client sending %s is dropped; the service and the other viewers carry on', async (_what, misbehave) => {
  producer = startProducer();
  const { wsUrl } = await producer.call<{ wsUrl: string }>({ cmd: 'bridge' });
  const viewer = await connectViewer(wsUrl);
  viewers.push(viewer);
  await producer.call({ cmd: 'open', mode: 'memory' });
  await rawClient(wsUrl, misbehave);
  // Before, ws's 'error' event on the bridge's socket had no listener: it was thrown, and the
  // uncaught exception ended the process (the service with it), so this went unanswered.
  const status = await producer.call({
    cmd: 'run',
    steps: [
      { op: 'add', id: 'after', variant: 'lt112' },
      { op: 'send', id: 'after', event: { type: 'MARKET_OPEN' } },
      { op: 'mark', reason: 'after' },
    ],
  });
  expect(status.strategies.map((s) => [s.id, s.state])).toEqual([['after', 'READY']]);
  await viewer.waitFor(marked('after'), 'the marker after the bad client');
  // A viewer connecting now still learns the strategy.
  const late = await connectViewer(wsUrl);
  viewers.push(late);
  await late.waitFor((m) => m.type === '@xstate.actor' && m.sessionId === status.strategies[0].sessionId, 'the strategy');
});

test('a viewer that stops reading is disconnected once its backlog passes the limit: the bridge does not buffer for it without end', async () => {
  producer = startProducer();
  const { wsUrl } = await producer.call<{ wsUrl: string }>({ cmd: 'bridge' });
  const { bytes: before } = await producer.call<{ bytes: number }>({ cmd: 'memory' });
  // A viewer whose tab froze: connected, reading nothing.
  const stalled = new WebSocket(wsUrl);
  sockets.push(stalled);
  stalled.on('error', () => undefined);
  await new Promise<void>((open, reject) => stalled.once('open', () => open()).once('error', reject));
  const closed = new Promise<void>((done) => stalled.once('close', () => done()));
  (stalled as unknown as { _socket: { pause(): void } })._socket.pause();
  // 64 MB through the bridge (an application's inspector feeding it), relayed to every client.
  const feeder = new WebSocket(wsUrl);
  sockets.push(feeder);
  await new Promise<void>((open, reject) => feeder.once('open', () => open()).once('error', reject));
  const chunk = JSON.stringify({ type: 'feed', data: 'x'.repeat(1024 * 1024) });
  for (let i = 0; i < 64; i++) await new Promise<void>((sent, failed) => feeder.send(chunk, (e) => (e ? failed(e) : sent())));
  // Everything sent has reached the bridge (and been relayed) once a round trip through it answers.
  const echo = await connectViewer(wsUrl);
  viewers.push(echo);
  feeder.send(JSON.stringify({ type: 'marker' }));
  await echo.waitFor((m) => m.type === 'marker', 'the marker');
  const { bytes: after } = await producer.call<{ bytes: number }>({ cmd: 'memory' });
  // Before, the bridge kept all of it for the stalled viewer (minus what the kernel's buffers took).
  expect(after - before).toBeLessThan(32 * 1024 * 1024);
  (stalled as unknown as { _socket: { resume(): void } })._socket.resume();
  await closed;
});
