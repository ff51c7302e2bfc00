import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InspectionEvent, Observer } from 'xstate';
import type * as Inspect from '@statelyai/inspect';
import { WebSocket, WebSocketServer } from 'ws';

/** The Stately inspector page the bridge embeds. */
export const STATELY_INSPECTOR_URL = 'https://stately.ai/inspect';

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
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- a fixed source text, no input in it
const importEsm = new Function('specifier', 'return import(specifier)') as <T>(specifier: string) => Promise<T>;

function bridgePage(wsUrl: string, inspectorUrl: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>strategy-lifecycle - Stately inspector</title>
<style>html,body,iframe{margin:0;width:100%;height:100%;border:0}</style></head>
<body><iframe id="inspector" src="${inspectorUrl}"></iframe><script>
const frame = document.getElementById('inspector'); const buffer = []; let connected = false;
window.addEventListener('message', (e) => { if (e.data && e.data.type === '@statelyai.connected') { connected = true; buffer.splice(0).forEach((m) => frame.contentWindow.postMessage(m, '*')); } });
const ws = new WebSocket(${JSON.stringify(wsUrl)});
ws.onmessage = (e) => { const m = JSON.parse(e.data); if (connected) frame.contentWindow.postMessage(m, '*'); else buffer.push(m); };
</script></body></html>`;
}

/**
 * Starts the bridge between the strategy system and the Stately inspector: a WebSocket relay on
 * 127.0.0.1 (the same protocol as `@statelyai/inspect/server`, which listens on every interface)
 * fed by `@statelyai/inspect`'s WebSocket inspector, and a page that embeds the inspector UI.
 * Late viewers get the last 500 messages first.
 */
export async function startInspectorBridge(options: { port?: number; host?: string; inspectorUrl?: string } = {}): Promise<InspectorBridge> {
  const host = options.host ?? '127.0.0.1';
  const buffer: string[] = [];
  const server = http.createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(bridgePage(`ws://${host}:${(server.address() as AddressInfo).port}`, options.inspectorUrl ?? STATELY_INSPECTOR_URL));
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket) => {
    for (const message of buffer) socket.send(message);
    socket.on('message', (data) => {
      const message = data.toString();
      buffer.push(message);
      if (buffer.length > 500) buffer.shift();
      for (const client of wss.clients) if (client !== socket && client.readyState === WebSocket.OPEN) client.send(message);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const wsUrl = `ws://${host}:${port}`;
  const { createWebSocketInspector } = await importEsm<typeof Inspect>('@statelyai/inspect');
  const inspector = createWebSocketInspector({ url: wsUrl });
  return {
    url: `http://${host}:${port}/`,
    wsUrl,
    inspect: inspector.inspect,
    async stop() {
      inspector.stop();
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
