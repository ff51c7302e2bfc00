/**
 * `serve --inspect`: the printed bridge page embeds the Stately inspector, and a WebSocket client
 * on the bridge receives @statelyai/inspect's messages for a strategy: the event an API call
 * sent and the snapshot it led to. A client that connects after hundreds of API events still
 * learns every live strategy in its current state, and nothing of a deleted one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { start, tempDir, type Running } from './cli';

interface InspectMessage {
  type: string;
  sessionId: string;
  name?: string;
  parentId?: string;
  event?: { type: string; [key: string]: unknown };
  snapshot?: { status?: string; value?: unknown; context?: { strategyId?: string } };
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
    /^inspector: (http:\/\/127\.0\.0\.1:\d+\/\?key=[\w-]+)\n {2}open it in a browser with internet access: it embeds the Stately inspector \(events on (ws:\/\/127\.0\.0\.1:\d+\/\?key=[\w-]+)\)$/m,
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
  expect(
    (await fetch(`${url}/strategies`, { method: 'POST', headers, body: JSON.stringify({ id: 'strangle-spy', variant: 'strangle' }) }))
      .status,
  ).toBe(201);
  const sent = await fetch(`${url}/strategies/strangle-spy/events`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ type: 'MARKET_OPEN' }),
  });
  expect(sent.status).toBe(200);

  const until = async <T>(find: () => T | undefined, what: string): Promise<T> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = find();
      if (found !== undefined) return found;
      if (Date.now() > deadline)
        throw new Error(`no ${what} among ${JSON.stringify(messages.map((m) => [m.type, m.sessionId, m.event?.type]))}`);
      await new Promise<void>((wake) => {
        arrived.push(wake);
        setTimeout(wake, 200);
      });
    }
  };
  const actor = await until(
    () => messages.find((m) => m.type === '@xstate.actor' && m.snapshot?.context?.strategyId === 'strangle-spy'),
    'actor message',
  );
  expect(actor.name).toBe('strangle-spy');
  const event = await until(
    () => messages.find((m) => m.type === '@xstate.event' && m.sessionId === actor.sessionId && m.event?.type === 'MARKET_OPEN'),
    'MARKET_OPEN event message',
  );
  expect(event.event).toMatchObject({ type: 'MARKET_OPEN', at: expect.any(Number) });
  const snapshot = await until(
    () => messages.find((m) => m.type === '@xstate.snapshot' && m.sessionId === actor.sessionId && m.event?.type === 'MARKET_OPEN'),
    'snapshot after MARKET_OPEN',
  );
  expect(snapshot.snapshot).toMatchObject({ value: 'READY', context: { strategyId: 'strangle-spy', variant: 'strangle' } });

  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
});

/** A WebSocket client keeping every message; `until` waits for one. */
async function listen(wsUrl: string) {
  const messages: InspectMessage[] = [];
  const arrived: Array<() => void> = [];
  const ws = new WebSocket(wsUrl);
  ws.on('message', (data) => {
    messages.push(JSON.parse(data.toString()) as InspectMessage);
    arrived.splice(0).forEach((wake) => wake());
  });
  await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
  const until = async (find: (m: InspectMessage) => boolean, what: string): Promise<InspectMessage> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const found = messages.find(find);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`no ${what} among ${messages.length} messages`);
      await new Promise<void>((wake) => {
        arrived.push(wake);
        setTimeout(wake, 200);
      });
    }
  };
  return { ws, messages, until };
}

test('a client that connects after 300+ API events learns every live strategy in its current state, and not a deleted one', async () => {
  const dataDir = join(dir, 'data');
  server = start(['serve', '--data-dir', dataDir, '--port', '0', '--no-market', '--inspect']);
  const [, url] = await server.waitFor(/^strategy-lifecycle: serving (http:\/\/127\.0\.0\.1:\d+) /m);
  const [, wsUrl] = await server.waitFor(/\(events on (ws:\/\/127\.0\.0\.1:\d+\/\?key=[\w-]+)\)$/m);
  const token = readFileSync(join(dataDir, 'token'), 'utf8').trim();
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    if (response.status >= 300) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  };
  const early = await listen(wsUrl);
  socket = early.ws;
  const ids = ['strangle-a', 'strangle-b', 'lt112-c'];
  for (const id of ids) await post('/strategies', { id, variant: id.split('-')[0] });
  for (const id of ids) await post(`/strategies/${id}/events`, { type: 'MARKET_OPEN' });
  for (let round = 0; round < 55; round++) {
    for (const id of ids) {
      await post(`/strategies/${id}/events`, { type: 'TIME_WINDOW_START' });
      await post(`/strategies/${id}/events`, { type: 'ENTRY_CONDITIONS_FAILED' });
    }
  }
  await post('/strategies/strangle-a/events', { type: 'TIME_WINDOW_START' });
  await post('/strategies/lt112-c/events', { type: 'SYSTEM_ERROR', reason: 'left in ERROR' });
  expect(
    (await fetch(`${url}/strategies/strangle-b`, { method: 'DELETE', headers: { authorization: headers.authorization } })).status,
  ).toBeLessThan(300);
  const actorOf = (id: string) => early.messages.find((m) => m.type === '@xstate.actor' && m.name === id)!;
  const deleted = (await early.until((m) => m.type === '@xstate.actor' && m.name === 'strangle-b', 'actor of strangle-b')).sessionId;
  await early.until(
    (m) => m.type === '@xstate.snapshot' && m.sessionId === deleted && m.snapshot?.status === 'stopped',
    'strangle-b stopped',
  );
  await early.until(
    (m) => m.type === '@xstate.snapshot' && m.sessionId === actorOf('lt112-c').sessionId && m.event?.type === 'SYSTEM_ERROR',
    'lt112-c in ERROR',
  );
  expect(early.messages.length).toBeGreaterThan(600); // more than a replay of the last 500 could hold

  const late = await listen(wsUrl);
  // One more event after connecting: what came before it is the replay.
  await post('/strategies/strangle-a/events', { type: 'ENTRY_CONDITIONS_FAILED', eventId: 'after-connecting' });
  const live = await late.until((m) => m.type === '@xstate.event' && m.event?.eventId === 'after-connecting', 'the live event');
  const replay = late.messages.slice(0, late.messages.indexOf(live));
  late.ws.terminate();
  const states = Object.fromEntries(
    await Promise.all(
      ['strangle-a', 'lt112-c'].map(async (id) => [
        id,
        (
          (await (await fetch(`${url}/strategies/${id}`, { headers: { authorization: headers.authorization } })).json()) as {
            strategy: { state: string };
          }
        ).strategy.state,
      ]),
    ),
  ) as Record<string, string>;
  expect(states).toEqual({ 'strangle-a': 'READY', 'lt112-c': 'ERROR' }); // strangle-a left ANALYZING with the live event
  expect(replay[0]).toMatchObject({ type: '@xstate.actor', name: 'strategySystem' });
  // The live strategies and their invoked actors running now (strangle-a's entryAnalyzer in
  // ANALYZING, lt112-c's errorAlert in ERROR); none of the 165 entryAnalyzers stopped before.
  const nameOf = new Map(early.messages.filter((m) => m.type === '@xstate.actor').map((m) => [m.sessionId, m.name]));
  expect(
    replay.filter((m) => m.type === '@xstate.actor').map((m) => [m.name, m.parentId === undefined ? undefined : nameOf.get(m.parentId)]),
  ).toEqual([
    ['strategySystem', undefined],
    ['strangle-a', 'strategySystem'],
    ['lt112-c', 'strategySystem'],
    ['entryAnalyzer', 'strangle-a'],
    ['errorAlert', 'lt112-c'],
  ]);
  expect(early.messages.filter((m) => m.type === '@xstate.actor' && m.name === 'entryAnalyzer')).toHaveLength(3 * 55 + 1);
  const lastValue = (sessionId: string) =>
    replay.filter((m) => m.type === '@xstate.snapshot' && m.sessionId === sessionId).at(-1)?.snapshot?.value;
  expect(lastValue(actorOf('strangle-a').sessionId)).toBe('ANALYZING');
  expect(lastValue(actorOf('lt112-c').sessionId)).toBe('ERROR');
  expect(replay.filter((m) => m.sessionId === deleted)).toEqual([]);
  expect(replay.length).toBeLessThanOrEqual(2 * 5 + 100);

  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
});

test('the bridge admits only who has its key, by a loopback host, from no page or its own: any web page could read and forge the inspector before', async () => {
  server = start(['serve', '--data-dir', join(dir, 'data'), '--port', '0', '--no-market', '--inspect']);
  const [, page, wsUrl] = await server.waitFor(/^inspector: (\S+)\n.*\(events on (\S+)\)$/m);
  const bare = `ws://${new URL(wsUrl).host}/`;
  const refused = (url: string, headers: Record<string, string> = {}) =>
    new Promise<number>((resolve) => {
      const ws = new WebSocket(url, { headers });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => (ws.close(), resolve(101)));
      ws.once('error', () => resolve(-1));
    });
  expect(await refused(bare)).toBe(401);
  expect(await refused(`${bare}source`)).toBe(401); // the source path without the key
  expect(await refused(wsUrl, { origin: 'https://evil.example' })).toBe(401); // a web page elsewhere
  expect(await refused(wsUrl, { host: 'rebound.example' })).toBe(401); // a DNS-rebound name
  expect(await refused(wsUrl, { origin: `http://${new URL(wsUrl).host}` })).toBe(101); // the bridge's own page
  expect(await refused(wsUrl)).toBe(101); // a client with the key
  expect((await fetch(`http://${new URL(page).host}/`)).status).toBe(403);
  const own = await fetch(page);
  expect(own.status).toBe(200);
  expect(own.headers.get('x-frame-options')).toBe('DENY');
});
