/**
 * Market time sends to strategies through its own narrow shapes (StrategyTarget, NoticeTarget,
 * WatchedStrategy), not the runtime's classes: a plain receiver gets the bells, and a
 * StrategyActor is still accepted everywhere, with `deliver` given the actor as it was passed.
 */
import type { StrategyEvent } from '../../machines/events';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { parseEventCalendar, startEventCalendar } from '../../services/market/eventCalendar';
import { startMarketClock, toStrategies } from '../../services/market/marketClock';
import type { NoticeTarget, StrategyTarget, WatchedStrategy } from '../../services/market/strategyTarget';
import type { StrategyActor } from '../../services/runtime/strategyActor';
import { drive, start } from '../support/fixtures';

test('the market clock rings a receiver that is not a strategy actor', () => {
  const clock = createSimulatedClock('2026-06-16T08:00:00-04:00');
  const got: string[] = [];
  const receiver: StrategyTarget = { trigger: (event: StrategyEvent) => got.push(`${event.type} ${new Date(clock.now()).toISOString()}`) };
  const bells = startMarketClock({ clock, target: toStrategies([receiver]) });
  clock.set(Date.parse('2026-06-16T17:00:00-04:00'));
  bells.stop();
  expect(got).toEqual(['MARKET_OPEN 2026-06-16T13:30:00.000Z', 'MARKET_CLOSE 2026-06-16T20:00:00.000Z']);
});

test('a StrategyActor is each of the narrow shapes, and deliver receives it as an actor', () => {
  const clock = createSimulatedClock('2026-06-15T08:00:00-04:00');
  const { strategy } = start(lt112, { clock, params: { underlying: 'SPX' } });
  drive(strategy, [{ type: 'MARKET_OPEN' }]);
  // Compile-time: an actor fits every shape market time asks for.
  const shapes: [StrategyTarget, NoticeTarget, WatchedStrategy] = [strategy, strategy, strategy];
  expect(shapes.every((s) => s === strategy)).toBe(true);
  const delivered: string[] = [];
  const notices = startEventCalendar({
    clock,
    calendar: parseEventCalendar('type,symbol,date\nFOMC,,2026-06-17\n', 'csv'),
    strategies: [strategy],
    deliver: (actor: StrategyActor, event) => {
      delivered.push(`${actor.id} ${event.type} ${actor.trigger(event).to}`);
    },
  });
  clock.set(Date.parse('2026-06-18T00:00:00-04:00'));
  notices.stop();
  expect(delivered).toEqual(['lt112-1 FOMC_MEETING SUSPENDED']);
});
