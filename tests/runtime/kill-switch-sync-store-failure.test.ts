/**
 * The in-memory system over a store that refuses a write synchronously (a MemoryStore subclass, as
 * any store answering at once): the kill switch's exit refused by it is retried on the backoff, as
 * the persistent system's is. Before, the refusal was thrown out of the exit loop: no retry, the
 * position stayed in MANAGING and `killSwitch()` never settled.
 */
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FlakyMemoryStore } from '../support/flakyStore';
import { FRIDAY_11AM, VARIANTS, managing, outcomeOf } from '../support/fixtures';

/** Lets the promise callbacks queued so far run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function managingSystem(maxRetries: number) {
  const store = new FlakyMemoryStore();
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = createStrategySystem({
    store,
    clock,
    killSwitch: { maxRetries, backoffMs: 1000 },
  });
  system.add(lt112, { id: 'a' });
  for (const event of managing(VARIANTS[1].entry, 2)) system.send('a', event);
  expect(system.get('a').state).toBe('MANAGING');
  return { store, clock, system };
}

test('an exit a synchronous store refused is retried on the backoff and the run settles once it is flat', async () => {
  const { store, clock, system } = managingSystem(3);
  store.full = true;
  const run = system.killSwitch('drill');
  await settle();
  expect(store.refused).toBe(1);
  expect(system.get('a').state).toBe('MANAGING');

  store.full = false;
  clock.set(FRIDAY_11AM + 1000);
  await settle();
  expect(system.get('a').state).toBe('EXITING');
  system.send('a', { type: 'ORDER_FILLED', quantity: 2 });
  await expect(run).resolves.toMatchObject({ flattened: ['a'], failed: [] });
  system.stop();
});

test('an exit a synchronous store keeps refusing is given up after maxRetries: the run resolves with it failed', async () => {
  const { store, clock, system } = managingSystem(2);
  store.full = true;
  const run = system.killSwitch('drill');
  const outcome = outcomeOf(run);
  await settle();
  for (const at of [1000, 3000, 60_000]) {
    clock.set(FRIDAY_11AM + at);
    await settle();
  }
  expect(store.refused).toBe(3);
  expect(outcome.settled).toBe('resolved');
  await expect(run).resolves.toMatchObject({
    flattened: [],
    failed: [{ strategyId: 'a', reason: expect.stringMatching(/^kill switch could not start an exit \(3 attempts\): .*disk is full/) }],
  });
  expect(system.get('a').state).toBe('MANAGING');
  system.stop();
});
