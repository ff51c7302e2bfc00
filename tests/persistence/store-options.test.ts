/**
 * A store constructed with options it cannot run with is refused by its constructor, naming the
 * option. Before: `groupCommit: { maxBatch: NaN }` opened and then never settled a send;
 * `maxWaitMs: Infinity` became a 1 ms timer with a warning; `checkEveryMs: 0.5` stat-ed the files
 * in a tight loop; `synchronous: 'OFF'` was handed to SQLite (no durability) although the type
 * allows FULL and NORMAL only; a PostgreSQL lease of -5 ms was taken as it was; a connection
 * string that is not a URL threw a bare TypeError.
 */
import { join } from 'node:path';
import { InvalidOptionsError, StrategyLifecycleError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { PostgresStore } from '../../services/store/postgresStore';
import { SqliteStore } from '../../services/store/sqliteStore';
import { MAX_TIMER_MS } from '../../services/store/storeOptions';
import { tempDir } from './helpers';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('sl-options-')));
afterEach(() => cleanup());

/** The error a constructor throws (fails the test if it throws none). */
function refusal(make: () => unknown): InvalidOptionsError {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect(error).toBeInstanceOf(StrategyLifecycleError);
    return error as InvalidOptionsError;
  }
  throw new Error('the constructor accepted the options');
}

const sqlite = (options: unknown, path: unknown = join(dir, 's.db')) => new SqliteStore(path as string, options as never);
const postgres = (options: Record<string, unknown>) =>
  new PostgresStore({ connectionString: 'postgres://app:s3cret@127.0.0.1:5432/trading', ...options });

describe('SqliteStore', () => {
  test.each([
    [{ groupCommit: { maxBatch: NaN } }, 'groupCommit.maxBatch', 'got NaN'],
    [{ groupCommit: { maxBatch: 0 } }, 'groupCommit.maxBatch', 'got 0'],
    [{ groupCommit: { maxBatch: '10' } }, 'groupCommit.maxBatch', 'got "10"'],
    [{ groupCommit: { maxBatch: 2.5 } }, 'groupCommit.maxBatch', 'got 2.5'],
    [{ groupCommit: { maxWaitMs: Infinity } }, 'groupCommit.maxWaitMs', `to ${MAX_TIMER_MS}, got Infinity`],
    [{ groupCommit: { maxWaitMs: -1 } }, 'groupCommit.maxWaitMs', 'got -1'],
    [{ groupCommit: { maxWaitTurns: -1 } }, 'groupCommit.maxWaitTurns', 'got -1'],
    [{ groupCommit: true }, 'groupCommit', 'must be false or an object, got true'],
    [{ synchronous: 'OFF' }, 'synchronous', 'must be "FULL" or "NORMAL", got "OFF"'],
    [{ synchronous: 'FULL; PRAGMA x' }, 'synchronous', 'got "FULL; PRAGMA x"'],
    [{ checkEveryMs: 0.5 }, 'checkEveryMs', 'at least 100 ms, got 0.5'],
    [{ checkEveryMs: -1 }, 'checkEveryMs', 'got -1'],
    [{ busyTimeoutMs: -1 }, 'busyTimeoutMs', 'got -1'],
    [{ busyTimeoutMs: Infinity }, 'busyTimeoutMs', 'got Infinity'],
    [{ create: 'yes' }, 'create', 'must be true or false, got "yes"'],
    [{ onFault: 'log' }, 'onFault', 'must be a function'],
  ])('%p is refused, naming %s', (options, option, problem) => {
    const error = refusal(() => sqlite(options));
    expect(error.component).toBe('SqliteStore');
    expect(error.option).toBe(option);
    expect(error.message).toContain(`SqliteStore: option ${option} `);
    expect(error.problem).toContain(problem);
  });

  test('a path that is not a string is refused by name (it used to fail at open as "sqlite:[object Object] unavailable")', () => {
    const error = refusal(() => sqlite(undefined, { file: 'x.db' }));
    expect(error.option).toBe('path');
    expect(error.problem).toBe('must be a file path or ":memory:", got an object');
    expect(refusal(() => sqlite(undefined, '')).option).toBe('path');
  });

  test('the documented values construct, and a store with bounds at their limits runs', async () => {
    expect(() => sqlite({ synchronous: 'NORMAL', checkEveryMs: 0, groupCommit: false, lock: true, create: true })).not.toThrow();
    expect(() => sqlite({ busyTimeoutMs: 0 })).not.toThrow();
    expect(() => sqlite({ groupCommit: { maxBatch: 1, maxWaitMs: 0, maxWaitTurns: 0 }, checkEveryMs: 100 })).not.toThrow();
    const store = sqlite({ groupCommit: { maxBatch: 1, maxWaitMs: MAX_TIMER_MS, maxWaitTurns: 0 }, checkEveryMs: 0 });
    const system = await openStrategySystem({ store, variants: [lt112] });
    await system.add(lt112, { id: 'a' });
    // A batch of one is full at once: the longest wait never applies.
    expect((await system.send('a', { type: 'MARKET_OPEN' })).accepted).toBe(true);
    await system.close();
  });
});

describe('PostgresStore', () => {
  test.each([
    [{ leaseMs: -5 }, 'leaseMs', 'got -5'],
    [{ leaseMs: 100 }, 'leaseMs', 'from 300'],
    [{ lockTimeoutMs: NaN }, 'lockTimeoutMs', 'got NaN'],
    [{ queryTimeoutMs: 2 ** 31 }, 'queryTimeoutMs', `to ${MAX_TIMER_MS}, got ${2 ** 31}`],
    [{ maxConnections: 0 }, 'maxConnections', 'got 0'],
    [{ instanceId: '' }, 'instanceId', 'must be a non-empty string'],
    // Every commit's NOTIFY carries it (8000 bytes at most): before, such a store opened and then every write failed.
    [{ instanceId: 'i'.repeat(257) }, 'instanceId', 'at most 256 characters, got 257'],
    [{ instanceId: 'node\u0000a' }, 'instanceId', 'must not contain the NUL character'],
    [{ instanceId: 'node-\ud800' }, 'instanceId', 'half of a surrogate pair'],
    [{ groupCommit: { concurrency: 0 } }, 'groupCommit.concurrency', 'got 0'],
    [{ connectionString: 'not a url' }, 'connectionString', 'is not a URL'],
    [{ connectionString: 'mysql://app@db/trading' }, 'connectionString', 'got "mysql:"'],
    [{ connectionString: undefined }, 'connectionString', 'got undefined'],
  ])('%p is refused, naming %s', (options, option, problem) => {
    const error = refusal(() => postgres(options));
    expect(error.component).toBe('PostgresStore');
    expect(error.option).toBe(option);
    expect(error.problem).toContain(problem);
  });

  test('a refused connection string is never echoed: it may hold a password', () => {
    const error = refusal(() => postgres({ connectionString: 'postgres://app:s3cret@db:notaport/trading' }));
    expect(error.option).toBe('connectionString');
    expect(error.message).not.toContain('s3cret');
    expect(refusal(() => postgres({ connectionString: 'http://app:s3cret@db/trading' })).message).not.toContain('s3cret');
  });

  test('the documented values construct without connecting', () => {
    const store = postgres({ leaseMs: 300, lockTimeoutMs: 50, queryTimeoutMs: 1000, maxConnections: 4, groupCommit: { concurrency: 2 } });
    expect(store.leaseMs).toBe(300);
    expect(postgres({ instanceId: `pod-${'x'.repeat(252)}` }).instanceId).toHaveLength(256);
    expect(() => new PostgresStore({ connectionString: 'postgresql:///trading?host=/var/run/postgresql' })).not.toThrow();
    // pg's own form for a Unix socket.
    expect(() => new PostgresStore({ connectionString: 'socket:/var/run/postgresql?db=trading' })).not.toThrow();
  });
});
