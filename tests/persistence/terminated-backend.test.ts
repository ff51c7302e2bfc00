/**
 * The server ends one of the store's connections while a transaction on it waits or runs (an
 * operator's `pg_terminate_backend`, `idle_in_transaction_session_timeout`, a restart or a
 * failover). Before, the store took its no-op 'error' listener off the client and only then rolled
 * back and released it: the end of the socket then emitted an 'error' event nobody listened to,
 * and Node ended the whole process, every strategy with it. Now the write fails with a retryable
 * StoreUnavailableError, nothing moves, and the next write goes through on a new connection. Two
 * paths: a lone transaction (setTradingState) and a group-commit batch in an explicit transaction
 * (an entry counting portfolio slots).
 */
import pg from 'pg';
import { StoreUnavailableError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { PostgresStore } from '../../services/store/postgresStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { freshDatabase } from './pg';

/** Ends, from another session, the backends of instance `id` waiting for a lock; resolves with how many. */
async function terminateWaiting(admin: pg.Client, id: string): Promise<number> {
  for (let tries = 0; tries < 100; tries++) {
    const { rows } = await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = $1 AND wait_event_type = 'Lock'`,
      [`strategy-lifecycle ${id}`],
    );
    if (rows.length > 0) return rows.length;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no backend of ${id} came to wait for the lock`);
}

/** Errors Node would have ended the process with, seen while `work` runs. */
async function uncaughtDuring(work: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const record = (error: unknown) => void seen.push(error);
  process.on('uncaughtException', record);
  try {
    await work();
    // The socket's end arrives after the failed query: give it time to surface.
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    process.removeListener('uncaughtException', record);
  }
  return seen;
}

test('a terminated backend fails the write with StoreUnavailableError and the process lives on: a lone transaction and a group-commit batch', async () => {
  const url = await freshDatabase('terminated');
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const holder = new pg.Client({ connectionString: url });
  await holder.connect();
  const clock = createSimulatedClock(FRIDAY_11AM);
  const store = new PostgresStore({ connectionString: url, instanceId: 'term-a' });
  const system = await openStrategySystem({
    store,
    variants: [lt112],
    clock,
    limits: { maxOpenPositions: 5 },
    onStoreError: () => undefined,
  });
  try {
    await system.add(lt112, { id: 's' });
    await system.send('s', { type: 'MARKET_OPEN' });
    await system.send('s', { type: 'TIME_WINDOW_START', window: 'entry' });

    // A lone transaction: the trading state's row held by an operator's session.
    await holder.query('BEGIN');
    await holder.query('SELECT * FROM trading_state WHERE id = 1 FOR UPDATE');
    const halting = system.setTradingState('HALTED', 'risk', 'ops');
    const lone = await uncaughtDuring(async () => {
      expect(await terminateWaiting(admin, 'term-a')).toBe(1);
      await expect(halting).rejects.toThrow(StoreUnavailableError);
    });
    expect(lone).toEqual([]);
    await holder.query('ROLLBACK');
    expect(system.tradingState).toBe('ACTIVE');

    // A batch in an explicit transaction: the entry waits on the portfolio's slot lock.
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock(728015)');
    const entering = system.send('s', { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-29' });
    const batch = await uncaughtDuring(async () => {
      expect(await terminateWaiting(admin, 'term-a')).toBe(1);
      await expect(entering).rejects.toThrow(StoreUnavailableError);
    });
    expect(batch).toEqual([]);
    await holder.query('ROLLBACK');
    expect(system.get('s').state).toBe('ANALYZING');

    // The store goes on over new connections.
    expect(await system.send('s', { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-29' })).toMatchObject({
      accepted: true,
      to: 'PENDING_ENTRY',
    });
    expect((await system.setTradingState('HALTED', 'risk', 'ops')).to).toBe('HALTED');
  } finally {
    await holder.end().catch(() => undefined);
    await system.close();
    await admin.end();
  }
});
