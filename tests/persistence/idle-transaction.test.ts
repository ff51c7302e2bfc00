/**
 * A process paused in the middle of a write (SIGSTOP, a debugger, a long GC) holds its open
 * transaction and the row locks in it. The store begins every transaction with an idle timeout of
 * one lease: the server ends that session, the locks go, and the strategy is writable again by the
 * instance that took it over. Real time: the timeout is PostgreSQL's own clock.
 */
import pg from 'pg';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { beginTransaction, PostgresStore } from '../../services/store/postgresStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { freshDatabase } from './pg';

// Long enough that the check that the row is locked runs well inside it on a loaded machine.
const LEASE_MS = 1500;

test('a transaction left idle by a paused process is ended by the server after a lease: its row lock is gone', async () => {
  const url = await freshDatabase('idle_tx');
  const store = new PostgresStore({ connectionString: url, instanceId: 'a', leaseMs: LEASE_MS });
  const system = await openStrategySystem({ store, variants: [zeroDte, lt112, strangle], clock: createSimulatedClock(FRIDAY_11AM) });
  await system.add(lt112, { id: 'lt' });
  await system.close();

  // Connected before the paused transaction begins: its idle clock is short.
  const other = new pg.Client({ connectionString: url });
  // A failing assertion must not leave a client whose dropped connection crashes the run later.
  other.on('error', () => undefined);
  await other.connect();
  // The paused process: began as the store begins, locked the strategy's row, then nothing.
  const paused = new pg.Client({ connectionString: url });
  const ended = new Promise<Error>((resolve) => paused.on('error', resolve));
  await paused.connect();
  await paused.query(beginTransaction(store.lockTimeoutMs, store.leaseMs));
  await paused.query("SELECT * FROM strategies WHERE strategy_id = 'lt' FOR UPDATE");
  // The server's idle clock starts once it has answered the last statement: after this instant.
  const idleSince = Date.now();
  const pid = (await paused.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;

  try {
    const tryLock = () =>
      other.query("BEGIN; SELECT 1 FROM strategies WHERE strategy_id = 'lt' FOR UPDATE NOWAIT").then(
        () => other.query('ROLLBACK').then(() => true),
        async () => (await other.query('ROLLBACK'), false),
      );
    expect(await tryLock()).toBe(false); // locked while the paused transaction lives

    let timer: NodeJS.Timeout | undefined;
    const error = await Promise.race([
      ended,
      new Promise<Error>(
        (_, fail) => (timer = setTimeout(() => fail(new Error('the server did not end the idle transaction within 10 s')), 10_000)),
      ),
    ]);
    clearTimeout(timer);
    expect(Date.now() - idleSince).toBeGreaterThanOrEqual(LEASE_MS - 5); // ended after a lease, not at once
    expect(error.message).toMatch(/idle-in-transaction timeout|terminat/i);
    expect(await tryLock()).toBe(true);
    expect((await other.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [pid])).rows[0].n).toBe(0);
  } finally {
    await other.end().catch(() => undefined);
    await paused.end().catch(() => undefined);
  }
});
