/**
 * A kill switch pressed again on one PostgreSQL instance while another still flattens: the older
 * run ends with its own exits and its `done` settles once every position is flat (a newer run
 * replaces it; only an operator's HALTED does not overrule a run).
 */
import { lt112 } from '../../machines/variants';
import { createSimulatedClock, type SimulatedClockHandle } from '../../services/market/clock';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { PostgresStore } from '../../services/store/postgresStore';
import { eventually, freshDatabase } from './pg';
import { FRIDAY_11AM, managing, VARIANTS } from '../support/fixtures';

const LEASE = 15_000;

const instance = (url: string, id: string, clock: SimulatedClockHandle): Promise<PersistentStrategySystem> =>
  openStrategySystem({
    store: new PostgresStore({ connectionString: url, instanceId: id, leaseMs: LEASE }),
    variants: [lt112],
    clock,
    killSwitch: { maxRetries: 5, backoffMs: 1000 },
  });

test('PostgreSQL: a kill switch pressed again on A while B still flattens: the first run settles once all is flat', async () => {
  const url = await freshDatabase('ks_pressed_again');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const a = await instance(url, 'a', clock);
  const b = await instance(url, 'b', clock);
  try {
    await a.add(lt112, { id: 'lt-a' });
    for (const e of managing(VARIANTS[1].entry, 2)) await a.send('lt-a', e);
    await b.add(lt112, { id: 'lt-b' });
    for (const e of managing(VARIANTS[1].entry, 2)) await b.send('lt-b', e);

    const first = await a.startKillSwitch('first', 'risk-desk');
    let firstSettled = false;
    void first.done.then(
      () => (firstSettled = true),
      () => (firstSettled = true),
    );
    await eventually(() => a.get('lt-a').state === 'EXITING', "A's exit");
    await eventually(() => b.get('lt-b').state === 'EXITING', "B's exit");
    // A's broker fills A's exit; B's exit is still working.
    await a.send('lt-a', { type: 'ORDER_FILLED', quantity: 2, eventId: 'fill-a' });
    await a.flush();
    // Time for A's run to record that outcome (its step is saved a turn later, over the network).
    await new Promise((r) => setTimeout(r, 200));

    // Pressed again on A.
    const second = await a.startKillSwitch('second', 'risk-desk');
    // B's broker fills B's exit: every position is flat now.
    await b.send('lt-b', { type: 'ORDER_FILLED', quantity: 2, eventId: 'fill-b' });
    await b.flush();
    const secondResult = await second.done;
    expect(secondResult.reason).toBe('second');
    // Lease rounds and a minute of clock time: still nothing settles it.
    for (let i = 0; i < 4; i++) {
      clock.increment(LEASE);
      await new Promise((r) => setTimeout(r, 100));
    }
    // The first run: settled too (before 05ca6de the second press ended it with its own exits).
    await eventually(() => firstSettled, 'the first run to settle', 3000);
  } finally {
    await a.close();
    await b.close();
  }
}, 20_000);
