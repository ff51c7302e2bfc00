import type { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { PersistentStrategySystem } from '../services/persistentSystem.js';
import { errorBody } from './errors.js';
import type { StrategyActor } from '../services/strategyActor.js';
import type { StrategyView } from './views.js';

/** Limits of the live stream (`GET /events`); every one protects the service from its readers. */
export interface StreamLimits {
  /** Most clients streaming at once; one more is answered 503 `TOO_MANY_STREAMS` (default 32). */
  maxClients?: number;
  /** Bytes a client may leave unread; past it the client is disconnected (default 1 MiB). */
  maxBufferedBytes?: number;
  /** How long a client may stay backed up (no `drain` after a refused write) before it is disconnected (default 30 s). */
  stallMs?: number;
  /** Comment line sent this often so proxies keep the connection open (default 15 s). */
  heartbeatMs?: number;
}

/** What the stream has done since the service started, for operators and tests. */
export interface StreamStats {
  clients: number;
  /** Clients disconnected because they did not read (buffer over the limit or stalled too long). */
  slowDisconnected: number;
  /** Connections refused because `maxClients` were streaming. */
  refused: number;
}

interface Client {
  res: ServerResponse;
  stalled: NodeJS.Timeout | undefined;
}

/**
 * Serves `GET /events`: every transition and system event as Server-Sent Events. Each event is
 * serialised once for all clients. A client that does not read is disconnected as soon as it
 * holds more than `maxBufferedBytes` unsent or stays backed up for `stallMs`, so a paused
 * reader cannot grow the service's memory; at most `maxClients` stream at once.
 *
 * @returns live figures and `closeAll()`, which ends every stream so a shutdown can drain.
 */
export function registerEventStream(
  app: FastifyInstance,
  system: PersistentStrategySystem,
  systemEvents: EventEmitter,
  /** The API's view of a strategy (the same as `GET /strategies/:id` shows). */
  view: (strategy: StrategyActor) => StrategyView,
  limits: StreamLimits = {},
): { stats: StreamStats; closeAll(): void } {
  const maxClients = limits.maxClients ?? 32;
  const maxBufferedBytes = limits.maxBufferedBytes ?? 1024 * 1024;
  const stallMs = limits.stallMs ?? 30_000;
  const stats: StreamStats = { clients: 0, slowDisconnected: 0, refused: 0 };
  const clients = new Set<Client>();

  const disconnect = (client: Client, why: string) => {
    if (!clients.delete(client)) return;
    clearTimeout(client.stalled);
    stats.clients = clients.size;
    stats.slowDisconnected++;
    app.log.warn({ unread: client.res.writableLength, why }, 'event stream: slow client disconnected');
    client.res.destroy();
  };
  const write = (client: Client, text: string) => {
    if (client.res.writableLength > maxBufferedBytes) return disconnect(client, `more than ${maxBufferedBytes} bytes unread`);
    if (!client.res.write(text) && client.stalled === undefined) {
      client.stalled = setTimeout(() => disconnect(client, `no drain within ${stallMs} ms`), stallMs);
      client.stalled.unref();
    }
  };
  const broadcast = (text: string) => {
    for (const client of clients) write(client, text);
  };
  const frame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

  // One subscription for all clients, made while any client streams.
  let unsubscribe: (() => void) | undefined;
  const onSystem = (event: unknown) => broadcast(frame('system', event));
  const listen = () => {
    unsubscribe = system.subscribe(({ strategyId, record }) => {
      const strategy = system.has(strategyId) ? view(system.get(strategyId)) : null;
      broadcast(frame('transition', { strategyId, record, strategy }));
    });
    systemEvents.on('event', onSystem);
  };
  const unlisten = () => {
    unsubscribe?.();
    unsubscribe = undefined;
    systemEvents.off('event', onSystem);
  };
  const heartbeat = setInterval(() => broadcast(': keep-alive\n\n'), limits.heartbeatMs ?? 15_000);
  heartbeat.unref();

  app.get('/events', (_request, reply) => {
    if (clients.size >= maxClients) {
      stats.refused++;
      return reply.status(503).header('Retry-After', '5').send(errorBody('TOO_MANY_STREAMS', `${maxClients} clients are streaming already (the limit); retry later`));
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    const client: Client = { res, stalled: undefined };
    res.on('drain', () => {
      clearTimeout(client.stalled);
      client.stalled = undefined;
    });
    if (clients.size === 0) listen();
    clients.add(client);
    stats.clients = clients.size;
    res.write(': connected\n\n');
    // Also after a slow client was disconnected: the last one to go unsubscribes.
    res.on('close', () => {
      clearTimeout(client.stalled);
      if (clients.delete(client)) stats.clients = clients.size;
      if (clients.size === 0) unlisten();
    });
  });

  return {
    stats,
    closeAll() {
      clearInterval(heartbeat);
      for (const client of clients) client.res.end();
    },
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Figures of the live stream (`GET /events`): clients now, slow ones disconnected, refused. */
    eventStream: StreamStats;
  }
}
