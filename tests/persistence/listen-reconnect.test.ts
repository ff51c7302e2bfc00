/**
 * The LISTEN connection through which an instance hears the others (trading state changes, kill
 * switch steps, `store.watch`) lost to the server (a terminated backend here; a restart or a
 * failover alike). Before, it was never opened again: from then on instance B learned A's HALTED
 * only at its next lease round, and `watch` listeners went silent for good, without an error. Now
 * the connection is opened again by itself and the state read again once it listens; a caller's
 * onReconnect that throws is reported, and the store's close ends every LISTEN connection for good.
 */
import pg from 'pg';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { PostgresStore } from '../../services/store/postgresStore';
import type { StoreChange } from '../../services/store/postgresOptions';
import { FRIDAY_11AM } from '../support/fixtures';
import { freshDatabase } from './pg';

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('an instance whose LISTEN connection the server ended hears the others again: the trading state (read again for what it missed) and watch()', async () => {
  const url = await freshDatabase('listen_again');
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  // The clocks stand still: no lease round runs, so B can learn only through LISTEN.
  const a = await openStrategySystem({
    store: new PostgresStore({ connectionString: url, instanceId: 'a' }),
    variants: [lt112],
    clock: createSimulatedClock(FRIDAY_11AM),
  });
  const bStore = new PostgresStore({ connectionString: url, instanceId: 'b' });
  const b = await openStrategySystem({ store: bStore, variants: [lt112], clock: createSimulatedClock(FRIDAY_11AM) });
  const changes: StoreChange[] = [];
  let reconnects = 0;
  const unwatch = await bStore.watch((change) => changes.push(change), { onReconnect: () => reconnects++ });
  try {
    await a.setTradingState('REDUCING', 'before', 'ops');
    await until(() => b.tradingState === 'REDUCING', 'B hears A before');

    // The server ends every LISTEN connection (A's and B's: A needs to hear nothing here).
    const { rows } = await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'",
    );
    expect(rows.length).toBe(3); // each system's trading state channel, and B's watch
    // A change made while B's connection is down: read again once it listens.
    await a.setTradingState('HALTED', 'while B was deaf', 'ops');
    await until(() => b.tradingState === 'HALTED', 'B learns the HALTED made while its connection was down');
    await until(() => reconnects === 1, "watch's onReconnect");
    // Named in pg_stat_activity, so an operator tells them from the pool's connections.
    const named = await admin.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'strategy-lifecycle b listen'",
    );
    expect(named.rows[0]).toEqual({ n: 2 });

    // And hears what follows as before.
    await a.setTradingState('ACTIVE', 'after', 'ops');
    await until(() => b.tradingState === 'ACTIVE', 'B hears A after');
    await a.add(lt112, { id: 'x' });
    await a.send('x', { type: 'MARKET_OPEN' });
    await until(() => changes.some((c) => c.strategyId === 'x' && c.state === 'READY'), 'watch() delivers a change after the reconnect');
  } finally {
    await unwatch();
    await a.close();
    await b.close();
    await admin.end();
  }
});

const listening = async (admin: pg.Client, app: string) =>
  (
    await admin.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1',
      [app],
    )
  ).rows[0].n;

test('an onReconnect that throws is reported, not an unhandled rejection (which ends a Node 20 process)', async () => {
  const url = await freshDatabase('listen_throw');
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const store = new PostgresStore({ connectionString: url, instanceId: 'x' });
  await store.open();
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  let reconnects = 0;
  const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  const unwatch = await store.watch(() => undefined, {
    onReconnect: () => {
      reconnects++;
      throw new Error('caller bug in onReconnect');
    },
  });
  try {
    await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'strategy-lifecycle x listen'",
    );
    await until(() => reconnects === 1, 'reconnected');
    await new Promise((r) => setTimeout(r, 100));
    expect(unhandled).toEqual([]);
    expect(String(logged.mock.calls[0]?.[0])).toContain('onReconnect threw');
  } finally {
    process.off('unhandledRejection', onUnhandled);
    logged.mockRestore();
    await unwatch();
    await store.close();
    await admin.end();
  }
});

test('store.close() ends the LISTEN connections of watch(): none is left, and none comes back after the server ends it', async () => {
  const url = await freshDatabase('listen_close');
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const store = new PostgresStore({ connectionString: url, instanceId: 'y' });
  await store.open();
  await store.watch(() => undefined); // the stop function is not called: the store's close is
  await store.close();
  try {
    await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'strategy-lifecycle y listen'",
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(await listening(admin, 'strategy-lifecycle y listen')).toBe(0);
  } finally {
    await admin.end();
  }
});

test('a payload watch() cannot read (anyone may NOTIFY on the channel) or a listener that throws is reported, and the process and the LISTEN live on', async () => {
  // Before, either threw out of the driver's socket handler: an uncaught exception that ended the
  // whole process (every strategy in it) at one `NOTIFY strategy_lifecycle, 'hello'` from psql.
  const url = await freshDatabase('listen_bad_payload');
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const store = new PostgresStore({ connectionString: url, instanceId: 'z' });
  await store.open();
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => void uncaught.push(error);
  process.on('uncaughtException', onUncaught);
  const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  const changes: StoreChange[] = [];
  const unwatch = await store.watch((change) => {
    changes.push(change);
    if (change.seq === 1) throw new Error('caller bug in the listener');
  });
  try {
    await admin.query("NOTIFY strategy_lifecycle, 'hello'");
    await admin.query(`NOTIFY strategy_lifecycle, '{"strategyId":"s","seq":1,"state":"READY","instanceId":"o"}'`);
    await admin.query(`NOTIFY strategy_lifecycle, '{"strategyId":"s","seq":2,"state":"ARMED","instanceId":"o"}'`);
    await until(() => changes.length === 2, 'both readable changes delivered');
    expect(changes.map((c) => c.seq)).toEqual([1, 2]);
    expect(uncaught).toEqual([]);
    expect(logged.mock.calls.map((call) => String(call[0]))).toEqual([
      expect.stringContaining('LISTEN strategy_lifecycle'),
      expect.stringContaining('LISTEN strategy_lifecycle'),
    ]);
  } finally {
    process.off('uncaughtException', onUncaught);
    logged.mockRestore();
    await unwatch();
    await store.close();
    await admin.end();
  }
});
