/**
 * The connections of a PostgreSQL store besides its transactions: the pool, whose session lock
 * wait is bounded like every transaction's, and a connection of its own for each LISTEN (a pooled
 * one would be handed back, and its notifications lost).
 */
import type pg from 'pg';
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
