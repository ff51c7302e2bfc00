/**
 * The connections of a PostgreSQL store: the pool, whose session lock wait is bounded like every
 * transaction's, a pooled client for each transaction, and a connection of its own for each LISTEN
 * (a pooled one would be handed back, and its notifications lost).
 */
import type * as pg from 'pg';
import { StoreUnavailableError } from '../../machines/errors.js';
import { loadPg } from './pgModule.js';
import { isQueryTimeout } from './postgresErrors.js';

/** How the store's connections are made (see {@link createPostgresPool}). */
export interface PostgresPoolSettings {
  connectionString: string;
  maxConnections: number;
  /** The session's `lock_timeout`. */
  lockTimeoutMs: number;
  /** `pg`'s `query_timeout`: a query with no answer by then fails, and its connection is destroyed. */
  queryTimeoutMs: number;
  /** What the server shows in `pg_stat_activity.application_name` for these connections. */
  applicationName: string;
}

/**
 * The store's pool. The session's lock wait is bounded too: a batch that is one statement runs
 * without BEGIN. So is the wait for any answer (`query_timeout`): a server that stops answering
 * without closing the connection (paused, partitioned away) fails the query instead of hanging
 * every write, lease round and kill switch behind it. TCP keep-alive notices a peer that vanished
 * while a connection sits idle. An idle client's connection dropping (server restart) must not
 * crash the process.
 *
 * @example
 * ```ts
 * const pool = createPostgresPool({ connectionString: process.env.DATABASE_URL!, maxConnections: 10, lockTimeoutMs: 2000, queryTimeoutMs: 15_000, applicationName: 'strategy-lifecycle' });
 * ```
 */
export function createPostgresPool(settings: PostgresPoolSettings): pg.Pool {
  const pool = new (loadPg().Pool)({
    connectionString: settings.connectionString,
    max: settings.maxConnections,
    connectionTimeoutMillis: 5000,
    query_timeout: settings.queryTimeoutMs,
    keepAlive: true,
    application_name: settings.applicationName,
    options: `-c lock_timeout=${settings.lockTimeoutMs}`,
  });
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Gives a client back to its pool after its work succeeded, or `failed` with `error`. A query that timed out
 * still occupies its connection: that one is destroyed (the server rolls back what was open when it
 * sees the connection close); any other failure is rolled back first, and a client whose ROLLBACK
 * fails is destroyed too.
 *
 * `ignore` is the no-op 'error' listener the caller put on the client for its transaction. It is
 * taken off only once the client is back in the pool alive (the pool's own idle listener then
 * answers its errors). A destroyed client keeps it: a connection the server ended (a terminated
 * backend, a restart, a failover) emits its 'error' while or after it is given back, and an
 * 'error' event nobody listens to ends the whole process.
 */
export async function releaseAfter(client: pg.PoolClient, failed: boolean, error: unknown, ignore: () => void): Promise<void> {
  if (!failed) {
    client.release();
    client.removeListener('error', ignore);
    return;
  }
  if (isQueryTimeout(error)) return client.release(error as Error);
  const rollback = await client.query('ROLLBACK').then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  client.release(rollback);
  if (rollback === undefined) client.removeListener('error', ignore);
}

/** What a LISTEN connection does besides delivering notifications. */
export interface ListenOptions {
  /**
   * Called after the connection was lost (a restart, a failover, a terminated backend) and LISTEN
   * is back on a new one: notifications sent in between were never delivered, so whoever listens
   * reads the state again.
   */
  onReconnect?: () => void;
  /** The name the connection shows in `pg_stat_activity` (`application_name`). */
  applicationName?: string;
}

/** First wait before a lost LISTEN connection is opened again (ms, real time); doubles up to {@link LISTEN_RETRY_MAX_MS}. */
export const LISTEN_RETRY_MS = 100;
/** Longest wait between two tries to open a lost LISTEN connection again (ms). */
export const LISTEN_RETRY_MAX_MS = 5000;

/**
 * LISTENs on `channel` over a connection of its own; resolves once listening with the function
 * that stops. A `listener` that throws is reported (console.error), and the LISTEN goes on. A first connection or LISTEN that fails is closed, and its error thrown as `typed`
 * makes it. A connection lost later is opened again (after 100 ms, doubling up to 5 s, for as long
 * as it takes) and `onReconnect` called once it listens again: before, a restart of the server
 * silenced the channel for good, and other instances' halts and kill switches reached this one
 * only at its next lease round.
 *
 * @example
 * ```ts
 * const stop = await listenPostgres(process.env.DATABASE_URL!, 'strategy_lifecycle', (payload) => console.log(payload), (e) => e as Error);
 * await stop();
 * ```
 */
export async function listenPostgres(
  connectionString: string,
  channel: string,
  listener: (payload: string) => void,
  typed: (error: unknown) => Error,
  options: ListenOptions = {},
): Promise<() => Promise<void>> {
  let stopped = false;
  let current: pg.Client | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let wait = LISTEN_RETRY_MS;

  const connect = async (): Promise<pg.Client> => {
    // Keep-alive: a LISTEN connection is idle by design, and would not notice a vanished server otherwise.
    const client = new (loadPg().Client)({
      connectionString,
      keepAlive: true,
      ...(options.applicationName ? { application_name: options.applicationName } : {}),
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      client.on('notification', (message) => {
        if (message.channel !== channel || !message.payload) return;
        try {
          listener(message.payload);
        } catch (error) {
          // This runs in the driver's socket handler: a throw here (a listener's bug, a payload it
          // cannot read, as anyone may NOTIFY on the channel) would end the whole process.
          console.error(`strategy-lifecycle: LISTEN ${channel}: a notification's listener threw`, error);
        }
      });
      await client.query(`LISTEN ${channel}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    // The server ended it (or the network did): listen again on a new connection.
    client.once('end', () => {
      if (!stopped && current === client) reconnectLater();
    });
    return client;
  };

  const reconnectLater = (): void => {
    current = undefined;
    retry = setTimeout(() => {
      retry = undefined;
      if (stopped) return;
      connect().then(
        (client) => {
          if (stopped) return void client.end().catch(() => undefined);
          current = client;
          wait = LISTEN_RETRY_MS;
          try {
            options.onReconnect?.();
          } catch (error) {
            // A caller's callback that throws must not end the process (an unhandled rejection here).
            console.error(`strategy-lifecycle: LISTEN ${channel}: onReconnect threw`, error);
          }
        },
        () => {
          wait = Math.min(wait * 2, LISTEN_RETRY_MAX_MS);
          reconnectLater();
        },
      );
    }, wait);
    // A store's listener alone does not keep the process alive (its pool and timers decide).
    retry.unref();
  };

  try {
    current = await connect();
  } catch (error) {
    throw typed(error);
  }
  return async () => {
    stopped = true;
    if (retry !== undefined) clearTimeout(retry);
    const client = current;
    current = undefined;
    await client?.end();
  };
}

/**
 * The LISTEN connections of one store: each opened with {@link listenPostgres} and kept until it
 * is stopped, so that the store can drop every one that is still open at once (`abandon`, as a
 * crashed process would).
 *
 * @example
 * ```ts
 * const listeners = new PostgresListeners(url, (e) => e as Error, 'strategy-lifecycle a listen');
 * const stop = await listeners.listen('strategy_lifecycle', (payload) => console.log(payload));
 * await listeners.dropAll();
 * ```
 */
export class PostgresListeners {
  private readonly open = new Set<() => Promise<void>>();
  constructor(
    private readonly connectionString: string,
    private readonly typed: (error: unknown) => Error,
    private readonly applicationName?: string,
  ) {}

  /**
   * LISTENs on `channel`; resolves once listening with the function that stops (once: later calls
   * do nothing). `onReconnect`: see {@link ListenOptions}.
   */
  async listen(channel: string, listener: (payload: string) => void, onReconnect?: () => void): Promise<() => Promise<void>> {
    const stop = await listenPostgres(this.connectionString, channel, listener, this.typed, {
      ...(onReconnect ? { onReconnect } : {}),
      ...(this.applicationName ? { applicationName: this.applicationName } : {}),
    });
    const unlisten = async () => {
      if (!this.open.delete(unlisten)) return;
      await stop();
    };
    this.open.add(unlisten);
    return unlisten;
  }

  /** Closes every LISTEN connection still open, ignoring their failures. */
  async dropAll(): Promise<void> {
    await Promise.all([...this.open].map((unlisten) => unlisten().catch(() => undefined)));
  }
}

const ignore = () => undefined;

/**
 * Runs `work` in one transaction on a client of `pool` (`undefined`: the store `name` is not open),
 * begun with `begin` (see `beginTransaction`): committed when `work` resolves, rolled back and
 * handed to `fail` when anything throws. The client goes back to the pool either way.
 *
 * @example
 * ```ts
 * await runPostgresTransaction(pool, name, beginTransaction(2000, 15_000), (client) => client.query('DELETE ...'), fail);
 * ```
 */
export async function runPostgresTransaction<T>(
  pool: pg.Pool | undefined,
  name: string,
  begin: string,
  work: (client: pg.PoolClient) => Promise<T>,
  fail: (error: unknown) => never,
): Promise<T> {
  if (!pool) return fail(new StoreUnavailableError(name, 'not open'));
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    return fail(error);
  }
  // A connection dropping mid-transaction is reported through the failing query; without a
  // listener the client's own 'error' event would crash the process.
  client.on('error', ignore);
  let failed = false;
  let failure: unknown;
  try {
    // Bounded waits: a lock held by a paused instance fails this transaction instead of hanging
    // it, and a transaction of this process left idle (paused mid-write) is ended by the
    // server after a lease, releasing its locks for the instance that takes over.
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    failed = true;
    failure = error;
    return fail(error);
  } finally {
    await releaseAfter(client, failed, failure, ignore);
  }
}
