/**
 * How a PostgreSQL store reports a failure: its own errors as they are; a lock wait past
 * `lock_timeout` and a lost connection as a retryable {@link StoreUnavailableError} that says which.
 */
import { StoreUnavailableError, StrategyLifecycleError } from '../../machines/errors.js';

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
  '53100',
  '53300',
  '25P03',
]);
/** lock_not_available: a lock wait ran past `lock_timeout`. */
const LOCK_TIMEOUT = '55P03';
/** What `pg` rejects a query with when no answer came within its `query_timeout`. */
const QUERY_TIMEOUT_MESSAGE = 'Query read timeout';

/**
 * Whether `error` is `pg`'s query timeout: the server sent no answer in time (paused, overloaded,
 * or cut off without the connection closing). The connection still waits for that answer, so it
 * must be destroyed, not reused or sent a ROLLBACK (which would wait behind it).
 */
export function isQueryTimeout(error: unknown): boolean {
  return (error as Error | undefined)?.message === QUERY_TIMEOUT_MESSAGE;
}

/**
 * The error a PostgreSQL store `name` throws for `error` (see the file's comment).
 *
 * @example
 * ```ts
 * throw typedPostgresError('postgres:db:5432/app', 2000, error); // 55P03 -> "a lock was held elsewhere ..."
 * ```
 */
export function typedPostgresError(name: string, lockTimeoutMs: number, error: unknown, queryTimeoutMs?: number): Error {
  // The package's own errors (a refusal, a conflict, a schema or data error) already name the problem.
  if (error instanceof StrategyLifecycleError) return error;
  const code = (error as { code?: string })?.code ?? '';
  const message = (error as Error)?.message ?? String(error);
  if (code === LOCK_TIMEOUT)
    return new StoreUnavailableError(
      name,
      `a lock was held elsewhere for more than ${lockTimeoutMs} ms (${code}); nothing was written, retry`,
      error,
    );
  if (isQueryTimeout(error))
    return new StoreUnavailableError(
      name,
      `no answer from the database within ${queryTimeoutMs ?? 'the query timeout'}${queryTimeoutMs === undefined ? '' : ' ms'} (queryTimeoutMs); the connection was closed: a write may or may not have committed, retry`,
      error,
    );
  // pg's own words when the socket closed under a query: no SQLSTATE, but the server is gone for this connection.
  const dropped = code === '' && CONNECTION_LOST.test(message);
  return new StoreUnavailableError(
    name,
    `${UNAVAILABLE_CODES.has(code) || dropped ? 'database unreachable' : 'query failed'}${code ? ` (${code})` : ''}: ${message}` +
      (dropped ? '; the connection was lost: a write may or may not have committed, retry' : ''),
    error,
  );
}

/** What `pg` rejects a query with when its connection closes under it (no SQLSTATE). */
const CONNECTION_LOST = /^Connection terminated( unexpectedly| due to connection timeout)?$|^Client has encountered a connection error/;
