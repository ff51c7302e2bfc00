import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InspectionEvent, Observer } from 'xstate';
import type * as StatelyInspect from '@statelyai/inspect';
import { WebSocket, WebSocketServer } from 'ws';
import { StrategyLifecycleError } from '../machines/errors.js';
import { createInspectionReplay } from './inspectorReplay.js';

/** The Stately inspector page the bridge embeds. */
export const STATELY_INSPECTOR_URL = 'https://stately.ai/inspect';

/** The path the bridge's own `@statelyai/inspect` WebSocket inspector connects on (any other path is a viewer or an outside source). */
const SOURCE_PATH = '/source';

/** The bridge's own inspector could not connect to its WebSocket in time. */
export class InspectorBridgeError extends StrategyLifecycleError {
  override name = 'InspectorBridgeError';
}

/** A running inspector bridge: open `url` in a browser to watch the system in the Stately inspector. */
export interface InspectorBridge {
  /** The page to open (it embeds the Stately inspector and relays the events to it). */
  url: string;
  /** The WebSocket endpoint inspection events are published on. */
  wsUrl: string;
  /** The `inspect` observer to give to the strategy system. */
  inspect: Observer<InspectionEvent>;
  stop(): Promise<void>;
}

// `@statelyai/inspect` ships only ES modules: load it with a real dynamic import, which the
// CommonJS build would otherwise turn into require().
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- the one way to keep import() in the CommonJS build
const importEsm = new Function('specifier', 'return import(specifier)') as <T>(specifier: string) => Promise<T>;

/** Largest message a client may send the bridge (a snapshot of a big context is far below it). */
export const BRIDGE_MAX_PAYLOAD = 4 * 1024 * 1024;

/**
 * Most a client may fall behind (bytes queued for it, unread) before the bridge drops it: a viewer
 * that stopped reading (a frozen tab, a stalled network) would otherwise be buffered for without
 * end. A dropped viewer may reconnect: it is given the replay of every live actor.
 */
export const BRIDGE_MAX_BACKLOG = 16 * 1024 * 1024;

/**
 * Per viewer, what its replay left queued as it connected: a catch-up it asked for, not falling
 * behind. A replay of a big system (each actor's message carries its machine's definition) can be
 * larger than {@link BRIDGE_MAX_BACKLOG} on its own; counted as backlog, every late viewer was
 * dropped before it had read it, on every reconnection.
 */
const replayed = new WeakMap<WebSocket, number>();

/** Sends `message` to `client`, or drops the client if it is more than {@link BRIDGE_MAX_BACKLOG} behind (its replay aside). */
function deliver(client: WebSocket, message: string): void {
  if (client.bufferedAmount > BRIDGE_MAX_BACKLOG + (replayed.get(client) ?? 0)) client.terminate();
  else client.send(message);
}

/**
 * Whether a request may use the bridge: it knows the bridge's key (in the URLs the bridge prints),
 * names the bridge by a loopback host (a DNS-rebound name is refused), and comes from no page or
 * from the bridge's own page (browsers let any site open a WebSocket to 127.0.0.1).
 */
function admitted(request: http.IncomingMessage, key: string, host: string, port: number): boolean {
  const url = new URL(request.url ?? '/', 'http://bridge');
  if (url.searchParams.get('key') !== key) return false;
  const loopback = [`${host}:${port}`, `127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  if (!loopback.includes(request.headers.host ?? '')) return false;
  const origin = request.headers.origin;
  return origin === undefined || loopback.some((host) => origin === `http://${host}`);
}

function bridgePage(wsUrl: string, inspectorUrl: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>strategy-lifecycle - Stately inspector</title>
<style>html,body,iframe{margin:0;width:100%;height:100%;border:0}</style></head>
<body><iframe id="inspector" src="${inspectorUrl}"></iframe><script>
const frame = document.getElementById('inspector'); const buffer = []; let connected = false;
const target = ${JSON.stringify(new URL(inspectorUrl).origin)};
window.addEventListener('message', (e) => { if (e.origin === target && e.data && e.data.type === '@statelyai.connected') { connected = true; buffer.splice(0).forEach((m) => frame.contentWindow.postMessage(m, target)); } });
const ws = new WebSocket(${JSON.stringify(wsUrl)});
ws.onmessage = (e) => { const m = JSON.parse(e.data); if (connected) frame.contentWindow.postMessage(m, target); else buffer.push(m); };
</script></body></html>`;
}

/** Options of {@link startInspectorBridge}. */
export interface InspectorBridgeOptions {
  /** The port to listen on (default 0: any free one). */
  port?: number;
  /** The interface to listen on (default 127.0.0.1). */
  host?: string;
  /** The inspector page to embed (default {@link STATELY_INSPECTOR_URL}). */
  inspectorUrl?: string;
  /** How many recent `@xstate.event` messages a late viewer is given (default 100). */
  eventTail?: number;
  /** How long to wait for the bridge's own inspector to connect (default 10 s). */
  connectTimeoutMs?: number;
}

/**
 * Starts the bridge between the strategy system and the Stately inspector: a WebSocket relay on
 * 127.0.0.1 (the same protocol as `@statelyai/inspect/server`, which listens on every interface)
 * fed by `@statelyai/inspect`'s WebSocket inspector, and a page that embeds the inspector UI.
 * Every message one client sends is relayed to the others; a client that sends a frame over
 * {@link BRIDGE_MAX_PAYLOAD} or a malformed one is disconnected, and the rest carry on; so is one
 * that falls more than {@link BRIDGE_MAX_BACKLOG} behind (it reads nothing). A viewer that connects late first
 * receives every live actor's `@xstate.actor` message, the recent events (bounded by
 * `eventTail`) and each live actor's latest `@xstate.snapshot` (see {@link createInspectionReplay}),
 * then the live messages. Resolves once its own inspector is connected, so nothing the system
 * does after it is dropped by the inspector's pre-connection buffer.
 *
 * @throws {InspectorBridgeError} when its own inspector cannot connect within `connectTimeoutMs`.
 *
 * @example
 * ```ts
 * const bridge = await startInspectorBridge();
 * const system = createStrategySystem({ inspect: bridge.inspect });
 * console.log(`open ${bridge.url}`);
 * ```
 */
export async function startInspectorBridge(options: InspectorBridgeOptions = {}): Promise<InspectorBridge> {
  const host = options.host ?? '127.0.0.1';
  const replay = createInspectionReplay({ eventTail: options.eventTail });
  // The bridge's key: only who was given its URLs (the operator, the application's own inspector) may use it.
  const key = randomBytes(18).toString('base64url');
  const portOf = () => (server.address() as AddressInfo).port;
  const server = http.createServer((request, response) => {
    if (!admitted(request, key, host, portOf())) {
      response.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' }).end('forbidden: open the URL the service printed\n');
      return;
    }
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'X-Frame-Options': 'DENY', 'Cache-Control': 'no-store' });
    response.end(bridgePage(`ws://${host}:${portOf()}/?key=${key}`, options.inspectorUrl ?? STATELY_INSPECTOR_URL));
  });
  const wss = new WebSocketServer({
    server,
    maxPayload: BRIDGE_MAX_PAYLOAD,
    verifyClient: ({ req }: { req: http.IncomingMessage }) => admitted(req, key, host, portOf()),
  });
  let sourceConnected: () => void = () => undefined;
  const sourceOpen = new Promise<void>((resolve) => (sourceConnected = resolve));
  wss.on('connection', (socket, request) => {
    if (new URL(request.url ?? '/', 'http://bridge').pathname === SOURCE_PATH) sourceConnected();
    else {
      for (const message of replay.replay()) socket.send(message);
      replayed.set(socket, socket.bufferedAmount);
    }
    // A client's protocol error (a frame too big or malformed) is emitted here after ws closed its
    // connection: without a listener it would be thrown, and end the process the bridge runs in.
    socket.on('error', () => undefined);
    socket.on('message', (data) => {
      const message = data.toString();
      replay.record(message);
      for (const client of wss.clients) if (client !== socket && client.readyState === WebSocket.OPEN) deliver(client, message);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = portOf();
  const wsUrl = `ws://${host}:${port}/?key=${key}`;
  let inspector: ReturnType<typeof StatelyInspect.createWebSocketInspector> | undefined;
  const stop = async () => {
    inspector?.stop();
    for (const client of wss.clients) client.terminate();
    wss.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  try {
    const { createWebSocketInspector } = await importEsm<typeof StatelyInspect>('@statelyai/inspect');
    inspector = createWebSocketInspector({ url: `ws://${host}:${port}${SOURCE_PATH}?key=${key}` });
  } catch (error) {
    await stop();
    throw error;
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), options.connectTimeoutMs ?? 10_000)));
  const connected = await Promise.race([sourceOpen.then(() => true), timedOut]);
  clearTimeout(timer);
  if (!connected) {
    await stop();
    throw new InspectorBridgeError(`the inspector did not connect to its bridge at ${wsUrl}`);
  }
  return {
    url: `http://${host}:${port}/?key=${key}`,
    wsUrl,
    inspect: inspector.inspect,
    stop,
  };
}
