/**
 * A request held back after a failed write (see request-backoff.test.ts) belongs to the stay in
 * which it was asked. Before, it was delivered whenever its timer fired: the analyzer that asked
 * was stopped when the strategy left ANALYZING (the window ended), and its ENTRY_CONDITIONS_MET
 * landed in a later, fresh ANALYZING whose own analyzer asked nothing: an entry on conditions
 * nobody vouched for any more.
 */
import { fromCallback, type EventObject } from 'xstate';
import { lifecycleRequest, type StrategyActorInput } from '../../machines/actors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FRIDAY_11AM, VARIANTS } from '../support/fixtures';
import { failingEntries } from '../support/flakyStore';

test('a held request of an analyzer that has been stopped is not delivered to a later ANALYZING', async () => {
  let starts = 0;
  const analyzer = fromCallback<EventObject, StrategyActorInput>(({ sendBack }) => {
    starts++;
    if (starts <= 2) sendBack(lifecycleRequest(VARIANTS[1].entry));
  });
  const store = failingEntries();
  const clock = createSimulatedClock(FRIDAY_11AM);
  const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    const system = createStrategySystem({ store, clock });
    system.add({ ...lt112, actors: { entryAnalyzer: analyzer } }, { id: 'lt' });
    system.send('lt', { type: 'MARKET_OPEN' });
    store.full = true;
    system.send('lt', { type: 'TIME_WINDOW_START' });
    await new Promise((r) => setTimeout(r, 5));
    expect(starts).toBe(2); // the revived analyzer's request is held (100 ms)
    store.full = false;
    expect(system.send('lt', { type: 'TIME_WINDOW_END' })).toMatchObject({ accepted: true, to: 'READY' });
    expect(system.send('lt', { type: 'TIME_WINDOW_START' })).toMatchObject({ accepted: true, to: 'ANALYZING' });
    expect(starts).toBe(3); // a fresh analyzer, which asks nothing
    clock.increment(100);
    await new Promise((r) => setTimeout(r, 5));
    expect(system.get('lt').state).toBe('ANALYZING');
    system.stop();
  } finally {
    spy.mockRestore();
  }
});
