/**
 * `serve --inspect`: the printed bridge page embeds the Stately inspector, and a WebSocket client
 * on the bridge receives @statelyai/inspect's messages for a strategy: the event an API call
 * sent and the snapshot it led to.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { start, tempDir, type Running } from './cli';

interface InspectMessage {
  type: string;
  sessionId: string;
  name?: string;
  event?: { type: string; [key: string]: unknown };
  snapshot?: { value?: unknown; context?: { strategyId?: string } };
}

let dir: string;
let cleanup: () => void;
let server: Running | undefined;
let socket: WebSocket | undefined;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(async () => {
  socket?.terminate();
  if (server && server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  cleanup();
});

test('a WebSocket client on the bridge sees the posted event and the strategy snapshot', async () => {
  const dataDir = join(dir, 'data');
  server = start(['serve', '--data-dir', dataDir, '--port', '0', '--no-market', '--inspect']);
  const [, url] = await server.waitFor(/^strategy-lifecycle: serving (http:\/\/127\.0\.0\.1:\d+) /m);
  const [, page, wsUrl] = await server.waitFor(
    /^inspector: (http:\/\/127\.0\.0\.1:\d+\/)\n {2}open it in a browser with internet access: it embeds the Stately inspector \(events on (ws:\/\/127\.0\.0\.1:\d+)\)$/m,
  );
  expect(new URL(page).port).toBe(new URL(wsUrl).port);
  const html = await (await fetch(page)).text();
  expect(html).toContain('https://stately.ai/inspect');
  expect(html).toContain(JSON.stringify(wsUrl));

  const messages: InspectMessage[] = [];
  const arrived: Array<() => void> = [];
  socket = new WebSocket(wsUrl);
  socket.on('message', (data) => {
    messages.push(JSON.parse(data.toString()) as InspectMessage);
    arrived.splice(0).forEach((wake) => wake());
  });
  await new Promise<void>((resolve, reject) => socket!.once('open', () => resolve()).once('error', reject));

  const token = readFileSync(join(dataDir, 'token'), 'utf8').trim();
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  expect((await fetch(`${url}/strategies`, { method: 'POST', headers, body: JSON.stringify({ id: 'strangle-spy', variant: 'strangle' }) })).status).toBe(201);
  const sent = await fetch(`${url}/strategies/strangle-spy/events`, { method: 'POST', headers, body: JSON.stringify({ type: 'MARKET_OPEN' }) });
  expect(sent.status).toBe(200);

  const until = async <T>(find: () => T | undefined, what: string): Promise<T> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = find();
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`no ${what} among ${JSON.stringify(messages.map((m) => [m.type, m.sessionId, m.event?.type]))}`);
      await new Promise<void>((wake) => {
        arrived.push(wake);
        setTimeout(wake, 200);
      });
    }
  };
  const actor = await until(() => messages.find((m) => m.type === '@xstate.actor' && m.snapshot?.context?.strategyId === 'strangle-spy'), 'actor message');
  expect(actor.name).toBe('strangle-spy');
  const event = await until(() => messages.find((m) => m.type === '@xstate.event' && m.sessionId === actor.sessionId && m.event?.type === 'MARKET_OPEN'), 'MARKET_OPEN event message');
  expect(event.event).toMatchObject({ type: 'MARKET_OPEN', at: expect.any(Number) });
  const snapshot = await until(() => messages.find((m) => m.type === '@xstate.snapshot' && m.sessionId === actor.sessionId && m.event?.type === 'MARKET_OPEN'), 'snapshot after MARKET_OPEN');
  expect(snapshot.snapshot).toMatchObject({ value: 'READY', context: { strategyId: 'strangle-spy', variant: 'strangle' } });

  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
});
