/**
 * The connections of a PostgreSQL store: the pool, whose session lock wait is bounded like every
 * transaction's, a pooled client for each transaction, and a connection of its own for each LISTEN
 * (a pooled one would be handed back, and its notifications lost).
 */
import type pg from 'pg';
import { StoreUnavailableError } from '../../machines/errors.js';
import { loadPg } from './pgModule.js';

/**
 * The store's pool. The session's lock wait is bounded too: a batch that is one statement runs
 * without BEGIN. An idle client's connection dropping (server restart) must not crash the process.
 *
 * @example
 * ```ts
 * const pool = createPostgresPool(process.env.DATABASE_URL!, 10, 2000);
 * ```
 */
export function createPostgresPool(connectionString: string, maxConnections: number, lockTimeoutMs: number): pg.Pool {
  const pool = new (loadPg().Pool)({
    connectionString,
    max: maxConnections,
    connectionTimeoutMillis: 5000,
    options: `-c lock_timeout=${lockTimeoutMs}`,
  });
  pool.on('error', () => undefined);
  return pool;
}

/**
 * LISTENs on `channel` over a connection of its own; resolves once listening with the function
 * that stops. A connection or LISTEN that fails is closed, and its error thrown as `typed` makes it.
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
): Promise<() => Promise<void>> {
  const client = new (loadPg().Client)({ connectionString });
  client.on('error', () => undefined);
  try {
    await client.connect();
    client.on('notification', (message) => {
      if (message.channel === channel && message.payload) listener(message.payload);
    });
    await client.query(`LISTEN ${channel}`);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw typed(error);
  }
  return () => client.end();
}

/**
 * The LISTEN connections of one store: each opened with {@link listenPostgres} and kept until it
 * is stopped, so that the store can drop every one that is still open at once (`abandon`, as a
 * crashed process would).
 *
 * @example
 * ```ts
 * const listeners = new PostgresListeners(url, (e) => e as Error);
 * const stop = await listeners.listen('strategy_lifecycle', (payload) => console.log(payload));
 * await listeners.dropAll();
 * ```
 */
export class PostgresListeners {
  private readonly open = new Set<() => Promise<void>>();
  constructor(
    private readonly connectionString: string,
    private readonly typed: (error: unknown) => Error,
  ) {}

  /** LISTENs on `channel`; resolves once listening with the function that stops (once: later calls do nothing). */
  async listen(channel: string, listener: (payload: string) => void): Promise<() => Promise<void>> {
    const stop = await listenPostgres(this.connectionString, channel, listener, this.typed);
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
  let client: pg.PoolClient | undefined;
  try {
    if (!pool) throw new StoreUnavailableError(name, 'not open');
    client = await pool.connect();
    // A connection dropping mid-transaction is reported through the failing query; without a
    // listener the client's own 'error' event would crash the process.
    client.on('error', ignore);
    // Bounded waits: a lock held by a paused instance fails this transaction instead of hanging
    // it, and a transaction of this process left idle (paused mid-write) is ended by the
    // server after a lease, releasing its locks for the instance that takes over.
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client?.query('ROLLBACK').catch(() => undefined);
    return fail(error);
  } finally {
    client?.removeListener('error', ignore);
    client?.release();
  }
}
