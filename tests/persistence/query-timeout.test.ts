/**
 * A PostgreSQL server that stops answering without closing the connection (its process paused,
 * overloaded, or cut off by a network that drops packets). Before, a query waited for an answer
 * for ever: the send hung, and every write of the store queued behind it. Now a query without an
 * answer within `queryTimeoutMs` fails with a retryable StoreUnavailableError that says so, and its
 * connection is closed (never handed back to the pool). Nothing moves here. The server may still
 * run the write it had already received once it wakes (an answer lost, not a write lost): the
 * next write finds the store ahead and the copy is reloaded from it, as for any lost answer.
 */
import pg from 'pg';
import { OwnershipLostError, StoreUnavailableError } from '../../machines/errors';
import type { StrategyEvent } from '../../machines/events';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { verifyStore } from '../../services/runtime/replay';
import { PostgresStore } from '../../services/store/postgresStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { freshDatabase } from './pg';

const TIMEOUT_MS = 400;
const LEASE = 60_000;

/** Settles with `promise`, or rejects saying it was still pending after `ms` (real time: the timeout under test is real I/O). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still pending after ${ms} ms: it hangs`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a server that stops answering fails the send with StoreUnavailableError within queryTimeoutMs, closes that connection, and the strategy converges on the store once it answers', async () => {
  const url = await freshDatabase('query_timeout');
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const clock = createSimulatedClock(FRIDAY_11AM);
  const store = new PostgresStore({ connectionString: url, instanceId: 'qt-a', leaseMs: LEASE, queryTimeoutMs: TIMEOUT_MS });
  expect(store.queryTimeoutMs).toBe(TIMEOUT_MS);
  const system = await openStrategySystem({ store, variants: [lt112], clock });
  let paused: number[] = [];
  const resume = () => {
    for (const pid of paused) process.kill(pid, 'SIGCONT');
    paused = [];
  };
  const storedState = async () =>
    (await admin.query<{ state: string }>('SELECT state FROM strategies WHERE strategy_id = $1', ['a'])).rows[0].state;
  try {
    await system.add(lt112, { id: 'a' });
    await system.send('a', { type: 'MARKET_OPEN' });

    // Every server process of this store's pool is paused: its connections stay open, and silent.
    const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [
      'strategy-lifecycle qt-a',
    ]);
    const pids = rows.map((r) => r.pid);
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) {
      process.kill(pid, 'SIGSTOP');
      paused.push(pid);
    }

    const window: StrategyEvent = { type: 'TIME_WINDOW_START', window: 'entry', eventId: 'window-1' };
    const send = within(system.send('a', window), 10 * TIMEOUT_MS, 'the send');
    await expect(send).rejects.toThrow(StoreUnavailableError);
    await expect(send).rejects.toThrow(/no answer from the database within 400 ms \(queryTimeoutMs\)/);
    expect(system.get('a').state).toBe('READY'); // not acknowledged: rolled back here

    resume();
    // The connection that timed out was closed by the client, not reused: its server process,
    // resumed, finds the client gone and ends.
    const alive = async () => (await admin.query('SELECT pid FROM pg_stat_activity WHERE pid = ANY($1)', [pids])).rows.length;
    await until(async () => (await alive()) < pids.length, 'a paused server process ends');

    // It had received the write before it paused, and ran it on waking: the store is ahead.
    expect(await storedState()).toBe('ANALYZING');
    await expect(system.send('a', window)).rejects.toThrow(OwnershipLostError);
    // A lease round restores the copy from the store: the next one, or the one after when the round
    // due now began before the copy was let go of (its answers are real-time I/O).
    const reloaded = () => system.has('a') && system.get('a').state === 'ANALYZING';
    for (let round = 0; round < 2 && !reloaded(); round++) {
      clock.increment(LEASE / 3);
      await until(reloaded, 'a lease round', 2000).catch(() => undefined);
    }
    await until(reloaded, 'the copy is reloaded');
    expect(await system.send('a', window)).toMatchObject({ accepted: false, code: 'DUPLICATE_EVENT' });
    expect(await within(system.send('a', { type: 'TIME_WINDOW_END', window: 'entry' }), 10_000, 'the next send')).toMatchObject({
      accepted: true,
      to: 'READY',
    });
    expect(await storedState()).toBe('READY');
    expect((await verifyStore(store, [lt112])).differences).toEqual([]);
  } finally {
    resume();
    await system.close();
    await admin.end();
  }
});
