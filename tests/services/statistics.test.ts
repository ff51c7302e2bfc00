/** The seed's statistics, from the strategy's clock. */
import { lt112 } from '../../machines/variants';
import { getStatistics } from '../../services/runtime/statistics';
import { STRATEGY_STATES } from '../../machines/states';
import { FRIDAY_11AM, MINUTE, drive, start } from '../support/fixtures';

test('current state, time in it, transitions, rejections, errors and time per state', () => {
  const { strategy, clock } = start(lt112);
  clock.increment(5 * MINUTE);
  drive(strategy, [{ type: 'MARKET_OPEN' }]);
  clock.increment(10 * MINUTE);
  drive(strategy, [{ type: 'TIME_WINDOW_START' }]);
  strategy.trigger({ type: 'ORDER_FILLED', quantity: 1 }); // rejected
  clock.increment(2 * MINUTE);
  drive(strategy, [{ type: 'ENTRY_CONDITIONS_FAILED' }]);
  clock.increment(7 * MINUTE);

  const stats = getStatistics(strategy);
  expect(stats).toMatchObject({
    strategyId: 'lt112-1',
    currentState: 'READY',
    timeInCurrentStateMs: 7 * MINUTE,
    totalTransitions: 3,
    rejectedTriggers: 1,
    errorCount: 0,
    openQuantity: 0,
  });
  expect(stats.timeInStateMs).toMatchObject({ INITIALIZING: 5 * MINUTE, READY: 17 * MINUTE, ANALYZING: 2 * MINUTE, MANAGING: 0 });
  expect(Object.keys(stats.timeInStateMs)).toEqual([...STRATEGY_STATES]);
  const total = Object.values(stats.timeInStateMs).reduce((a, b) => a + b, 0);
  expect(total).toBe(clock.now() - FRIDAY_11AM);
});

test('from a persisted snapshot, at a given time', () => {
  const { strategy, clock } = start(lt112);
  drive(strategy, [{ type: 'MARKET_OPEN' }]);
  clock.increment(MINUTE);
  const snapshot = strategy.getSnapshot();
  expect(getStatistics(snapshot, FRIDAY_11AM + 3 * MINUTE).timeInCurrentStateMs).toBe(3 * MINUTE);
  expect(getStatistics(snapshot).timeInCurrentStateMs).toBe(0);
});
