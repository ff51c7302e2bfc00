/**
 * A market actor a strategy invokes (a position monitor listening to marketClock, with no clock in
 * its input) runs on the strategy's clock: the runtime parks XState's own timers (it arms the
 * chart's delays itself), and clockOfActor gives the actor the clock that runs them. Before, it
 * took the parked clock and heard no bell.
 */
import { fromCallback, sendParent, setup } from 'xstate';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { lifecycleRequest } from '../../machines/actors';
import { lt112 } from '../../machines/variants';
import { clockOfActor, createSimulatedClock } from '../../services/market/clock';
import { marketClock } from '../../services/market/marketClock';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { FRIDAY_11AM, VARIANTS, drive, managing } from '../support/fixtures';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

test('a timer on the clock a strategy-invoked actor gets from clockOfActor(self) fires on the strategy clock', () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  let fired = false;
  const positionMonitor = fromCallback(({ self }) => {
    const c = clockOfActor(self);
    const handle = c.setTimeout(() => (fired = true), 1000);
    return () => c.clearTimeout(handle);
  });
  const strategy = createStrategyActor(createStrategyMachine(lt112).provide({ actors: { positionMonitor } }), {
    id: 'lt',
    params: { underlying: 'SPX' },
    clock,
  });
  drive(strategy, managing(VARIANTS[1].entry, 2));
  expect(strategy.state).toBe('MANAGING');
  clock.increment(60_000);
  expect(fired).toBe(true);
  strategy.stop();
});

test('a position monitor that exits at MARKET_CLOSE (marketClock invoked without input.clock) hears the close', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const positionMonitor = setup({ actors: { marketClock } }).createMachine({
    invoke: { src: 'marketClock' },
    on: {
      MARKET_CLOSE: { actions: sendParent(lifecycleRequest({ type: 'RISK_LIMIT_EXCEEDED', reason: 'flat by the close' })) },
    },
  });
  const strategy = createStrategyActor(createStrategyMachine(lt112).provide({ actors: { positionMonitor } }), {
    id: 'lt',
    params: { underlying: 'SPX' },
    clock,
  });
  drive(strategy, managing(VARIANTS[1].entry, 2));
  expect(strategy.state).toBe('MANAGING');
  clock.set(Date.parse('2026-12-04T16:05:00-05:00'));
  await settle();
  expect(strategy.getAuditTrail().map((r) => r.trigger)).toContain('RISK_LIMIT_EXCEEDED');
  expect(strategy.state).toBe('PENDING_EXIT');
  strategy.stop();
});
