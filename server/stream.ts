import { randomBytes } from 'node:crypto';
import { once, type EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PersistentStrategySystem } from '../services/runtime/persistentSystem.js';
import type { AuditFeedEntry } from '../services/store/types.js';
import { mustExist } from '../machines/errors.js';
import { errorBody } from './errors.js';
import { followAuditFeed } from './streamFeed.js';
import { compareCursors, formatEventId, memoryReplay, parseEventId } from './streamIds.js';
import type { StrategyView } from './views.js';

/** Limits of the live stream (`GET /events`); every one protects the service from its readers. */
export interface StreamLimits {
  /** Most clients streaming at once; one more is answered 503 `TOO_MANY_STREAMS` (default 32). */
  maxClients?: number;
  /**
   * Places of `maxClients` kept for clients that send the service's token (header or `?token=`):
   * clients without it stream in the others, so a local page or script that opens streams in a
   * loop cannot shut the operator's dashboard out (default a quarter of `maxClients`, rounded down).
   */
  reservedForToken?: number;
  /** Bytes a client may leave unread; past it the client is disconnected (default 1 MiB). */
  maxBufferedBytes?: number;
  /** How long a client may stay backed up (no `drain` after a refused write) before it is disconnected (default 30 s). */
  stallMs?: number;
  /** Comment line sent this often so proxies keep the connection open (default 15 s). */
  heartbeatMs?: number;
  /** Memory-only events kept for clients that reconnect with `Last-Event-ID` (default 1000); an older id gets `reset`. */
  replay?: number;
  /** How often strategies added or removed other than through this API are looked for, and the store's feed read (default 1 s). */
  syncMs?: number;
  /**
   * Transitions come from the store's audit feed, so `Last-Event-ID` resumes them across
   * restarts (default: true when the store has a feed). False: from memory only, as without one.
   */
  fromStore?: boolean;
  /** Most transitions a reconnecting client is sent from the store; more missed gets `reset` (default 10,000). */
  maxResume?: number;
  /** Transitions read from the store at a time (default 500). */
  feedPage?: number;
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

/** One event of the stream; its data is serialised once, when first sent. */
interface Entry {
  /** Memory events: the run's count (the `<n>` of ids). Transitions from the store have none. */
  n?: number;
  event: string;
  data: () => unknown;
  json?: string;
}

interface Client {
  res: ServerResponse;
  stalled: NodeJS.Timeout | undefined;
  /** The newest memory event it has had. */
  n: number;
  /** The feed cursor of the newest transition it has had (from the store only). */
  cursor?: string;
  /** While it catches up from the store: the live events that came meanwhile, in order. */
  pending?: Array<{ entry: Entry; cursor?: string }>;
  /** It sent the service's token (it may stream in the places kept for token holders). */
  tokenHolder: boolean;
}

/**
 * Serves `GET /events`: every transition, `strategyAdded`, `strategyRemoved` and system event as
 * Server-Sent Events, each with an `id:` (see `streamIds.ts`). When the store has an audit feed,
 * transitions are read from it and the id carries the feed's durable cursor: a client
 * reconnecting with `Last-Event-ID` (EventSource sends it by itself; `?lastEventId=` also works)
 * is sent every transition after it from the store, page by page, even after a restart or from
 * another instance of a shared store; then the memory-only events it missed; then live events,
 * with nothing lost or repeated at the seam (live events are held while it catches up and those
 * already sent are dropped). A feed record the store cannot read is sent as a `damaged` event in
 * its place (strategy, seq, cursor, what is wrong), logged once, and the stream reads on after
 * it. The last `replay` memory-only events are kept; one `reset` event tells a client that what
 * it missed is no longer known (it reloads then). Every client first gets a `connected` event
 * carrying the current id, so even a client that saw nothing can resume.
 *
 * Each event is serialised once for all clients. A client that does not read is disconnected as
 * soon as it holds more than `maxBufferedBytes` unsent or stays backed up for `stallMs`, so a
 * paused reader cannot grow the service's memory; at most `maxClients` stream at once.
 */
export function registerEventStream(
  app: FastifyInstance,
  system: PersistentStrategySystem,
  systemEvents: EventEmitter,
  /** The API's view of a strategy by id (the same as `GET /strategies/:id` shows); it must not wake a dormant strategy. */
  view: (id: string) => StrategyView,
  limits: StreamLimits = {},
  /** Whether a request carries the service's token (it may take the places kept for token holders). */
  holdsToken: (request: FastifyRequest) => boolean = () => false,
): EventStream {
  const maxClients = limits.maxClients ?? 32;
  const reserved = Math.min(maxClients, Math.max(0, Math.floor(limits.reservedForToken ?? maxClients / 4)));
  /** Streaming clients that did not send the token. */
  let withoutToken = 0;
  const maxBufferedBytes = limits.maxBufferedBytes ?? 1024 * 1024;
  const stallMs = limits.stallMs ?? 30_000;
  const replay = Math.max(0, limits.replay ?? 1000);
  const maxResume = Math.max(0, limits.maxResume ?? 10_000);
  const feedPage = Math.max(1, limits.feedPage ?? 500);
  const store = system.store;
  const feed = limits.fromStore !== false && store.readAuditAfter ? store.readAuditAfter.bind(store) : undefined;
  const stats: StreamStats = { clients: 0, slowDisconnected: 0, refused: 0 };
  const clients = new Set<Client>();
  // Names this run of the service: memory ids from an earlier run (counted from 1 again) are not resumable.
  const run = randomBytes(4).toString('hex');
  const buffer: Entry[] = [];
  let head = 0;

  /** Takes a client off the list (false when it was not on it). */
  const forget = (client: Client): boolean => {
    if (!clients.delete(client)) return false;
    if (!client.tokenHolder) withoutToken--;
    stats.clients = clients.size;
    return true;
  };
  const disconnect = (client: Client, why: string) => {
    if (!forget(client)) return;
    clearTimeout(client.stalled);
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
  const idOf = (client: Client) => formatEventId(run, client.n, feed ? client.cursor : undefined);
  /** Sends one event to one client: its id is what this client has had once it has this one. */
  const send = (client: Client, entry: Entry, cursor?: string) => {
    if (entry.n !== undefined) client.n = entry.n;
    if (cursor !== undefined) client.cursor = cursor;
    write(client, `id: ${idOf(client)}\nevent: ${entry.event}\ndata: ${(entry.json ??= JSON.stringify(entry.data()))}\n\n`);
  };
  const control = (client: Client, event: 'connected' | 'reset', data: Record<string, unknown>) =>
    write(client, `id: ${idOf(client)}\nevent: ${event}\ndata: ${JSON.stringify({ ...data, lastEventId: idOf(client) })}\n\n`);
  /** Sends a live event to every client, or holds it for those still catching up. */
  const deliver = (entry: Entry, cursor?: string) => {
    for (const client of clients) {
      if (client.pending) {
        // A catch-up that cannot keep up with live events: the client starts again.
        if (client.pending.length >= maxResume + feedPage) disconnect(client, 'too many live events while catching up');
        else client.pending.push({ entry, cursor });
      } else if (cursor === undefined || compareCursors(cursor, client.cursor ?? '0') > 0) send(client, entry, cursor);
    }
  };
  /** A memory event: kept for replay, sent to every client. Its data is made lazily, when first sent. */
  const push = (event: string, data: () => unknown) => {
    const entry: Entry = { n: ++head, event, data };
    if (replay > 0) {
      buffer.push(entry);
      if (buffer.length > replay) buffer.shift();
    }
    if (clients.size > 0) deliver(entry);
  };
  const viewOf = (id: string): StrategyView | null => {
    try {
      return system.has(id) ? view(id) : null;
    } catch {
      return null; // owned by another instance now
    }
  };
  // Damaged records already logged, by cursor: every client that catches up reads them again.
  const reported = new Set<string>();
  /** A feed row as clients get it: its transition, or `damaged` naming the record that cannot be read. */
  const entryOf = (row: AuditFeedEntry): Entry => {
    if (!row.damaged) {
      return { event: 'transition', data: () => ({ strategyId: row.strategyId, record: row.record, strategy: viewOf(row.strategyId) }) };
    }
    const { strategyId, seq, cursor, damaged } = row;
    if (!reported.has(cursor)) {
      // Bounded: past it a record may be logged again, never the service's memory grown.
      if (reported.size >= 10_000) reported.clear();
      reported.add(cursor);
      app.log.error(
        { err: damaged, strategyId, seq, cursor },
        'event stream: a damaged audit record cannot be read; clients get a "damaged" event in its place and read on',
      );
    }
    return { event: 'damaged', data: () => ({ strategyId, seq, cursor, error: { code: 'STORE_CORRUPT', message: damaged.detail } }) };
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

  // From the store: one reader follows the feed while clients are connected.
  const follower = feed
    ? followAuditFeed(
        feed,
        feedPage,
        () => clients.size > 0,
        (row) => {
          // Another instance's strategies (a shared store) are its own stream's.
          if (system.has(row.strategyId)) deliver(entryOf(row), row.cursor);
        },
        (error) => app.log.warn({ err: error }, 'event stream: reading the store failed; read again on the next transition'),
      )
    : undefined;
  const pump = () => void follower?.pump();

  // Listens for as long as the service runs (not only while clients read): a client that
  // reconnects gets what happened while it was away.
  const unsubscribe = system.subscribe(({ strategyId, record }) => {
    if (!known.has(strategyId)) sync();
    // The record is committed before listeners hear of it: the pump finds it in the store.
    if (follower) pump();
    else push('transition', () => ({ strategyId, record, strategy: viewOf(strategyId) }));
  });
  const onSystem = (event: unknown) => push('system', () => event);
  systemEvents.on('event', onSystem);
  const heartbeat = setInterval(() => {
    for (const client of clients) write(client, ': keep-alive\n\n');
  }, limits.heartbeatMs ?? 15_000);
  heartbeat.unref();
  // The look also reads the feed: a record written after its listeners ran (a background write) is not left behind.
  const syncer = setInterval(() => {
    sync();
    if (clients.size > 0) pump();
  }, limits.syncMs ?? 1000);
  syncer.unref();

  const resetReason = (lastEventId: string, why: string) => `cannot resume after ${lastEventId.slice(0, 40)}: ${why}; read the state again`;

  /** Without a store feed: the events a client reconnecting after `lastEventId` missed, from memory, or a reset. */
  const resumeFromMemory = (client: Client, lastEventId: string | undefined): void => {
    client.n = head;
    if (lastEventId === undefined) return control(client, 'connected', { replayed: 0 });
    const missed = memoryReplay(buffer, head, run, lastEventId, false);
    if (typeof missed === 'string') return control(client, 'reset', { reason: resetReason(lastEventId, missed) });
    for (const entry of missed.entries) send(client, entry);
    control(client, 'connected', { replayed: missed.entries.length });
  };

  /** With a store feed: transitions after the client's cursor from the store, then memory events, then live. */
  const catchUp = async (client: Client, lastEventId: string | undefined): Promise<void> => {
    client.pending = [];
    // Everything below is decided on what memory holds now; what comes later is pending.
    client.n = head;
    const memory = lastEventId === undefined ? undefined : memoryReplay(buffer, head, run, lastEventId, true);
    const after = typeof memory === 'object' && lastEventId !== undefined ? parseEventId(lastEventId)?.cursor : undefined;
    const alive = () => clients.has(client);
    try {
      // Called only with a store feed, which has its follower.
      const read = mustExist(feed, 'the store feed');
      // The follower has its place before the store is read: what it reads later is pending, nothing falls between.
      await mustExist(follower, 'the store feed follower').ready();
      let page = await read(after, { limit: feedPage, ...(after === undefined ? {} : { countUpTo: maxResume + 1 }) });
      if (!alive()) return;
      let problem = typeof memory === 'string' ? memory : undefined;
      if (!problem && after !== undefined && !page.known) problem = "the id's cursor is not one of this store's";
      if (!problem && (page.remaining ?? 0) > maxResume) problem = `more than ${maxResume} transitions were missed`;
      if (lastEventId === undefined || problem) {
        client.cursor = page.head;
        if (problem) control(client, 'reset', { reason: resetReason(lastEventId ?? '', problem) });
        else control(client, 'connected', { replayed: 0 });
        return goLive(client);
      }
      const missed = memory as Exclude<typeof memory, string | undefined>;
      client.n = missed.n;
      client.cursor = after;
      let replayed = 0;
      for (;;) {
        for (const row of page.rows) {
          if (!system.has(row.strategyId)) continue;
          send(client, entryOf(row), row.cursor);
          replayed++;
          // Paged and paced: a long gap is read and sent as the client takes it, never all at once.
          if (client.res.writableNeedDrain) await drainedOrClosed(client.res);
          if (!alive()) return;
        }
        if (page.rows.length < feedPage) break;
        const from = page.rows[page.rows.length - 1].cursor;
        page = await read(from, { limit: feedPage });
        if (!alive()) return;
      }
      for (const entry of missed.entries) send(client, entry);
      control(client, 'connected', { replayed: replayed + missed.entries.length, ...(missed.earlierStart ? { earlierStart: true } : {}) });
      goLive(client);
    } catch (error) {
      app.log.warn({ err: error }, 'event stream: resuming from the store failed; the client reconnects');
      forget(client);
      client.res.end();
    }
  };
  /** Sends what came while the client caught up, less what it already had, and makes it live. */
  const goLive = (client: Client) => {
    const pending = client.pending ?? [];
    client.pending = undefined;
    for (const { entry, cursor } of pending) {
      if (entry.n !== undefined ? entry.n > client.n : cursor !== undefined && compareCursors(cursor, client.cursor ?? '0') > 0)
        send(client, entry, cursor);
    }
  };

  app.get(
    '/events',
    {
      schema: {
        tags: ['service'],
        summary: 'Live stream (Server-Sent Events): transitions, damaged, strategyAdded, strategyRemoved, system, reset',
        description: 'Resume with the Last-Event-ID header (or ?lastEventId=); with private reads the token may go in ?token=.',
      },
    },
    (request, reply) => {
      const tokenHolder = holdsToken(request);
      const full = clients.size >= maxClients;
      if (full || (!tokenHolder && withoutToken >= maxClients - reserved)) {
        stats.refused++;
        return reply
          .status(503)
          .header('Retry-After', '5')
          .send(
            errorBody(
              'TOO_MANY_STREAMS',
              full
                ? `${maxClients} clients are streaming already (the limit); retry later`
                : `${withoutToken} clients without the token are streaming already (the limit; ${reserved} of ${maxClients} places are kept for clients that send it); retry later`,
            ),
          );
      }
      const lastEventId = lastEventIdOf(request);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'Content-Type': 'text/event-stream',
        'Cache-Control': 'no-cache',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
      });
      const client: Client = { res, stalled: undefined, n: head, tokenHolder };
      if (!tokenHolder) withoutToken++;
      res.on('drain', () => {
        clearTimeout(client.stalled);
        client.stalled = undefined;
      });
      clients.add(client);
      stats.clients = clients.size;
      res.write(': connected\n\n');
      if (feed) void catchUp(client, lastEventId);
      else resumeFromMemory(client, lastEventId);
      // Also after a slow client was disconnected.
      res.on('close', () => {
        clearTimeout(client.stalled);
        forget(client);
      });
    },
  );

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

/**
 * Waits until `res` drains or closes, whichever comes first, and takes both listeners away
 * then: a catch-up waits once per buffer-full, thousands of times for a slow reader, and a
 * listener left behind by each wait would pile up on the response (memory, and
 * MaxListenersExceededWarning past ten).
 */
async function drainedOrClosed(res: ServerResponse): Promise<void> {
  const done = new AbortController();
  try {
    // The loser rejects with an AbortError once aborted; the race has already settled by then.
    await Promise.race([once(res, 'drain', { signal: done.signal }), once(res, 'close', { signal: done.signal })]);
  } finally {
    done.abort();
  }
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
