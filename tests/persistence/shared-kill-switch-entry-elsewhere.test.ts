/**
 * PostgreSQL, several instances: a kill switch is complete only when no stored strategy holds a
 * position or has an entry order working (PENDING_ENTRY, ENTERING), whichever instance owns it. An
 * entry working on an instance that died may still fill: the run waits for the instance that takes
 * it over to watch it and flatten what it fills.
 */
import { lt112 } from '../../machines/variants';
import { createSimulatedClock, type SimulatedClockHandle } from '../../services/market/clock';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { PostgresStore } from '../../services/store/postgresStore';
import { exitBroker } from '../support/exitBroker';
import { FRIDAY_11AM } from '../support/fixtures';
import { toPosition } from '../support/persistedSteps';
import { eventually, freshDatabase } from './pg';

const LEASE = 15_000;

function instance(store: PostgresStore, clock: SimulatedClockHandle): Promise<PersistentStrategySystem> {
  return openStrategySystem({
    store,
    variants: [lt112],
    clock,
    onStoreError: () => undefined,
    killSwitch: { maxRetries: 5, backoffMs: 1000 },
  });
}

test('an entry order working on a dead instance keeps the kill switch open; its new owner flattens the fill', async () => {
  const url = await freshDatabase('shared_kill_entry_elsewhere');
  const clockA = createSimulatedClock(FRIDAY_11AM);
  const clockB = createSimulatedClock(FRIDAY_11AM);
  const storeB = new PostgresStore({ connectionString: url, instanceId: 'b', leaseMs: LEASE });
  const a = await instance(new PostgresStore({ connectionString: url, instanceId: 'a', leaseMs: LEASE }), clockA);
  const b = await instance(storeB, clockB);
  await b.add(lt112, { id: 'entry-b' });
  for (const e of toPosition.slice(0, 4)) await b.send('entry-b', e);
  expect(b.get('entry-b').state).toBe('ENTERING');
  await storeB.abandon(); // B dies with its entry order working at the broker
  void exitBroker(a, clockA, () => 'fill');

  const run = await a.startKillSwitch('exchange incident', 'ops');
  let finished = false;
  void run.done.then(() => (finished = true));
  await a.flush();
  await new Promise((r) => setTimeout(r, 300));
  expect(finished).toBe(false); // entry-b's entry may still fill
  expect((await a.store.loadSystemState()).killSwitch!.finishedAt).toBeNull();

  // B's lease runs out: A claims entry-b (still ENTERING) and its part watches the entry.
  for (let t = 0; t <= 2 * LEASE && !a.has('entry-b'); t += LEASE / 3) {
    clockA.increment(LEASE / 3);
    await a.flush();
    await new Promise((r) => setTimeout(r, 100));
  }
  await eventually(() => a.has('entry-b') && a.get('entry-b').state === 'ENTERING', 'A to take entry-b over');

  // The entry fills after all: the kill switch exits it at once, and the exit fills.
  await a.send('entry-b', { type: 'ORDER_FILLED', quantity: 2, expiry: '2026-12-18' });
  expect(a.get('entry-b').state).toBe('POSITION_OPEN');
  clockA.increment(1); // the kill switch's exit of a fill is deferred by a zero delay on the clock
  await eventually(() => a.get('entry-b').state === 'EXITING', "the kill switch's exit of entry-b");
  clockA.increment(100);
  const result = await run.done;
  expect(result).toEqual({ reason: 'exchange incident', flattened: ['entry-b'], alreadyFlat: [], failed: [] });
  expect(a.get('entry-b').getSnapshot().context.position?.quantity ?? 0).toBe(0);
  expect((await a.store.loadSystemState()).killSwitch!.finishedAt).not.toBeNull();
  await a.close();
  await b.close();
});
