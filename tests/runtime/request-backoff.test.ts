/**
 * An invoked actor that asks for an event as it starts (an analyzer whose conditions are met at
 * once), while the store refuses the write: each failed write rolls back and restarts the actor,
 * which asks again. Before, that ran in microtasks without end: no timer or I/O ever ran again
 * (the store could not even recover). Now, while writes fail, its requests wait on the strategy's
 * clock (100 ms, doubling, at most 30 s), and once the store takes writes again the request goes through.
 */
import { fromCallback, type EventObject } from 'xstate';
import { lifecycleRequest, type StrategyActorInput } from '../../machines/actors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FRIDAY_11AM, VARIANTS } from '../support/fixtures';
import { failingEntries } from '../support/flakyStore';

test('requests of a revived invoked actor back off while writes fail; the event loop runs; the request lands once the store recovers', async () => {
  let starts = 0;
  const analyzer = fromCallback<EventObject, StrategyActorInput>(({ sendBack }) => {
    starts++;
    sendBack(lifecycleRequest(VARIANTS[1].entry));
  });
  const store = failingEntries();
  const clock = createSimulatedClock(FRIDAY_11AM);
  const errors: unknown[][] = [];
  const spy = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args));
  try {
    const system = createStrategySystem({ store, clock });
    system.add({ ...lt112, actors: { entryAnalyzer: analyzer } }, { id: 'lt' });
    system.send('lt', { type: 'MARKET_OPEN' });
    store.full = true;
    expect(system.send('lt', { type: 'TIME_WINDOW_START' })).toMatchObject({ accepted: true, to: 'ANALYZING' });
    let macrotaskRan = false;
    setTimeout(() => (macrotaskRan = true), 0);
    await new Promise((r) => setTimeout(r, 5));
    expect(macrotaskRan).toBe(true);
    // The first request failed its write; the revived analyzer's request now waits 100 ms on the clock.
    expect(starts).toBe(2);
    expect(system.get('lt').state).toBe('ANALYZING');
    clock.increment(100);
    await new Promise((r) => setTimeout(r, 5));
    expect(starts).toBe(3); // one more attempt, failed again: the next wait is 200 ms
    clock.increment(199);
    await new Promise((r) => setTimeout(r, 5));
    expect(starts).toBe(3);
    store.full = false;
    clock.increment(1);
    await new Promise((r) => setTimeout(r, 5));
    expect(system.get('lt').state).toBe('PENDING_ENTRY');
    // Committed again: the next request would go at once (no wait left behind), and nothing else is held.
    // Only the stuck-entry deadline of PENDING_ENTRY (entered at +300 ms) is left on the clock.
    expect(clock.nextDue()).toBe(FRIDAY_11AM + 300 + 5 * 60_000);
    system.stop();
  } finally {
    spy.mockRestore();
  }
});

test('a strategy removed while its request waits gets nothing delivered, and its timer is gone', () => {
  const analyzer = fromCallback<EventObject, StrategyActorInput>(({ sendBack }) => sendBack(lifecycleRequest(VARIANTS[1].entry)));
  const store = failingEntries();
  const clock = createSimulatedClock(FRIDAY_11AM);
  const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  return (async () => {
    try {
      const system = createStrategySystem({ store, clock });
      system.add({ ...lt112, actors: { entryAnalyzer: analyzer } }, { id: 'lt' });
      system.send('lt', { type: 'MARKET_OPEN' });
      store.full = true;
      system.send('lt', { type: 'TIME_WINDOW_START' });
      await new Promise((r) => setTimeout(r, 5));
      expect(clock.nextDue()).toBe(FRIDAY_11AM + 100);
      system.stop();
      expect(clock.nextDue()).toBeNull();
    } finally {
      spy.mockRestore();
    }
  })();
});
