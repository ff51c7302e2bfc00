/**
 * How the stores type a failure: the package's own errors pass through as they are (they already
 * name the problem, and a caller branches on their class); anything else from the driver becomes a
 * StoreUnavailableError naming the store and the driver's code.
 */
import {
  KillSwitchInterruptedError,
  OwnershipLostError,
  StoredDataTooDeepError,
  StoreConflictError,
  StoreIdentityError,
  StoreUnavailableError,
  TradingStateRefusal,
} from '../../machines/errors';
import { typedPostgresError } from '../../services/store/postgresErrors';
import { typedSqliteError } from '../../services/store/sqliteWrite';

const own = [
  new StoreConflictError('s1', 'the stored strategy is not at seq 4'),
  new OwnershipLostError('s1', 'b', 'write refused: fencing token 3 is stale (now 4, owner b)'),
  new TradingStateRefusal('s1', 'TRADING_HALTED', 'trading is halted'),
  new StoredDataTooDeepError('s1', 'snapshot', 'context.x', 64),
  new StoreIdentityError('sqlite:x.db', 'replaced', 'the database is another store'),
  new KillSwitchInterruptedError('drill', ['s2']),
];

describe.each([
  ['SQLite', (error: unknown) => typedSqliteError('sqlite:x.db', error)],
  ['PostgreSQL', (error: unknown) => typedPostgresError('postgres:db/app', 2000, error)],
])('%s store errors', (_name, typed) => {
  it.each(own.map((error) => [error.constructor.name, error]))('passes the package’s own %s through unchanged', (_n, error) => {
    expect(typed(error)).toBe(error);
  });

  it('turns a driver error into a StoreUnavailableError that names its code and message', () => {
    const driver = Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
    const result = typed(driver);
    expect(result).toBeInstanceOf(StoreUnavailableError);
    expect(result.message).toContain('SQLITE_IOERR');
    expect(result.message).toContain('disk I/O error');
  });
});

describe('PostgreSQL: a connection lost under a query', () => {
  it.each(['Connection terminated unexpectedly', 'Connection terminated', 'Connection terminated due to connection timeout'])(
    '"%s" says the database is unreachable and that a write may have committed',
    (message) => {
      const result = typedPostgresError('postgres:db/app', 2000, new Error(message));
      expect(result).toBeInstanceOf(StoreUnavailableError);
      expect(result.message).toBe(
        `store postgres:db/app unavailable: database unreachable: ${message}; the connection was lost: a write may or may not have committed, retry`,
      );
    },
  );

  it('another failure without a code stays a failed query', () => {
    expect(typedPostgresError('postgres:db/app', 2000, new Error('syntax error at or near "x"')).message).toBe(
      'store postgres:db/app unavailable: query failed: syntax error at or near "x"',
    );
  });
});
