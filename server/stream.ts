import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PersistentStrategySystem } from '../services/runtime/persistentSystem.js';
import { errorBody } from './errors.js';
import type { StrategyActor } from '../services/runtime/strategyActor.js';
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
  /** Events kept for clients that reconnect with `Last-Event-ID` (default 1000); an older id gets `reset`. */
  replay?: number;
  /** How often strategies added or removed other than through this API are looked for (default 1 s). */
  syncMs?: number;
}

/** What the stream has done since the service started, for operators and tests. */
export interface StreamStats {
  clients: number;
  /** Clients disconnected because they did not read (buffer over the limit or stalled too long). */
  slowDisconnected: number;
  /** Connections refused because `maxClients` were streaming. */
  refused: number;
}

/** The live stream as the app drives it. */
export interface EventStream {
  stats: StreamStats;
  /** Sends `strategyAdded` / `strategyRemoved` for strategies that appeared or went since the last look. */
  sync(): void;
  /** Ends every stream (a shutdown can drain) and stops listening. */
  closeAll(): void;
}

interface Client {
  res: ServerResponse;
  stalled: NodeJS.Timeout | undefined;
}

/** One event of the stream; its text is made once, when first sent or replayed. */
interface Entry {
  id: number;
  event: string;
  data: () => unknown;
  text?: string;
}

/**
 * Serves `GET /events`: every transition, `strategyAdded`, `strategyRemoved` and system event as
 * Server-Sent Events, each with an `id:` (`<stream>-<n>`, n increasing; `<stream>` changes with
 * every start of the service). The last `replay` events are kept: a client reconnecting with
 * `Last-Event-ID` (EventSource sends it by itself; `?lastEventId=` also works) gets what it
 * missed, or one `reset` event when that is no longer kept or its id is from an earlier start
 * (it reloads then). Every client first gets a `connected` event carrying the current id, so even
 * a client that saw nothing can resume.
 *
 * Each event is serialised once for all clients. A client that does not read is disconnected as
 * soon as it holds more than `maxBufferedBytes` unsent or stays backed up for `stallMs`, so a
 * paused reader cannot grow the service's memory; at most `maxClients` stream at once.
 */
export function registerEventStream(
  app: FastifyInstance,
  system: PersistentStrategySystem,
  systemEvents: EventEmitter,
  /** The API's view of a strategy (the same as `GET /strategies/:id` shows). */
  view: (strategy: StrategyActor) => StrategyView,
  limits: StreamLimits = {},
): EventStream {
  const maxClients = limits.maxClients ?? 32;
  const maxBufferedBytes = limits.maxBufferedBytes ?? 1024 * 1024;
  const stallMs = limits.stallMs ?? 30_000;
  const replay = Math.max(0, limits.replay ?? 1000);
  const stats: StreamStats = { clients: 0, slowDisconnected: 0, refused: 0 };
  const clients = new Set<Client>();
  // Names this run of the service: an id from an earlier run (counted from 1 again) is not resumable.
  const run = randomBytes(4).toString('hex');
  const buffer: Entry[] = [];
  let head = 0;

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
  const idOf = (n: number) => `${run}-${n}`;
  const frame = (id: number, event: string, data: unknown) => `id: ${idOf(id)}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
  const textOf = (entry: Entry) => (entry.text ??= frame(entry.id, entry.event, entry.data()));
  /**
   * Keeps the event for replay and sends it to every client. Its data is made lazily: with no
   * client reading, a transition costs a closure, and a replay shows the strategy as it is then.
   */
  const push = (event: string, data: () => unknown) => {
    const entry: Entry = { id: ++head, event, data };
    if (replay > 0) {
      buffer.push(entry);
      if (buffer.length > replay) buffer.shift();
    }
    if (clients.size === 0) return;
    const text = textOf(entry);
    for (const client of clients) write(client, text);
  };
  const viewOf = (id: string): StrategyView | null => {
    try {
      return system.has(id) ? view(system.get(id)) : null;
    } catch {
      return null; // owned by another instance now
    }
  };

  // Strategies the stream has announced; compared with the system's on every look.
  const known = new Set(system.ids());
  const sync = () => {
    const now = new Set(system.ids());
    for (const id of now) {
      if (known.has(id)) continue;
      known.add(id);
      push('strategyAdded', () => ({ strategyId: id, strategy: viewOf(id) }));
    }
    for (const id of known) {
      if (now.has(id)) continue;
      known.delete(id);
      push('strategyRemoved', () => ({ strategyId: id }));
    }
  };

  // Listens for as long as the service runs (not only while clients read): a client that
  // reconnects gets what happened while it was away.
  const unsubscribe = system.subscribe(({ strategyId, record }) => {
    if (!known.has(strategyId)) sync();
    push('transition', () => ({ strategyId, record, strategy: viewOf(strategyId) }));
  });
  const onSystem = (event: unknown) => push('system', () => event);
  systemEvents.on('event', onSystem);
  const heartbeat = setInterval(() => {
    for (const client of clients) write(client, ': keep-alive\n\n');
  }, limits.heartbeatMs ?? 15_000);
  heartbeat.unref();
  const syncer = setInterval(sync, limits.syncMs ?? 1000);
  syncer.unref();

  /** What a client reconnecting after `lastEventId` is sent: the events it missed, or a reset. */
  const resumeFrom = (lastEventId: string | undefined): string => {
    if (lastEventId === undefined) return frame(head, 'connected', { lastEventId: idOf(head), replayed: 0 });
    const match = /^([0-9a-f]{8})-(\d{1,15})$/.exec(lastEventId);
    const seen = match && match[1] === run ? Number(match[2]) : NaN;
    const oldest = buffer[0]?.id ?? head + 1;
    if (!(seen <= head) || seen + 1 < oldest) {
      const reason = match && match[1] === run ? 'the events since that id are no longer kept' : 'the id is from an earlier start of the service, or not one of its ids';
      return frame(head, 'reset', { reason: `cannot resume after ${lastEventId.slice(0, 40)}: ${reason}; read the state again`, lastEventId: idOf(head) });
    }
    const missed = buffer.filter((entry) => entry.id > seen);
    return missed.map(textOf).join('') + frame(head, 'connected', { lastEventId: idOf(head), replayed: missed.length });
  };

  app.get('/events', { schema: { tags: ['service'], summary: 'Live stream (Server-Sent Events): transitions, strategyAdded, strategyRemoved, system, reset', description: 'Resume with the Last-Event-ID header (or ?lastEventId=); with private reads the token may go in ?token=.' } }, (request, reply) => {
    if (clients.size >= maxClients) {
      stats.refused++;
      return reply.status(503).header('Retry-After', '5').send(errorBody('TOO_MANY_STREAMS', `${maxClients} clients are streaming already (the limit); retry later`));
    }
    const opening = resumeFrom(lastEventIdOf(request));
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    const client: Client = { res, stalled: undefined };
    res.on('drain', () => {
      clearTimeout(client.stalled);
      client.stalled = undefined;
    });
    clients.add(client);
    stats.clients = clients.size;
    res.write(': connected\n\n');
    write(client, opening);
    // Also after a slow client was disconnected.
    res.on('close', () => {
      clearTimeout(client.stalled);
      if (clients.delete(client)) stats.clients = clients.size;
    });
  });

  return {
    stats,
    sync,
    closeAll() {
      clearInterval(heartbeat);
      clearInterval(syncer);
      unsubscribe();
      systemEvents.off('event', onSystem);
      for (const client of clients) client.res.end();
    },
  };
}

/** The id a reconnecting client last saw: the `Last-Event-ID` header, else `?lastEventId=`. */
function lastEventIdOf(request: FastifyRequest): string | undefined {
  const header = request.headers['last-event-id'];
  if (typeof header === 'string' && header !== '') return header;
  const query = (request.query ?? {}) as Record<string, unknown>;
  return typeof query.lastEventId === 'string' && query.lastEventId !== '' ? query.lastEventId : undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Figures of the live stream (`GET /events`): clients now, slow ones disconnected, refused. */
    eventStream: StreamStats;
  }
}
