/**
 * A strategy of an in-memory system triggered directly (`system.get(id).trigger(event)`) passes the
 * system's checks like `system.send`: the trading state and the portfolio limits. Before, its own
 * trigger() skipped them: it entered while HALTED and past maxOpenPositions.
 */
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FRIDAY_11AM, VARIANTS, twoAnalyzing } from '../support/fixtures';

test('a strategy of the system cannot enter while HALTED or past the portfolio limit through trigger()', () => {
  const system = twoAnalyzing();
  expect(system.send('b', VARIANTS[1].entry)).toMatchObject({ accepted: true, to: 'PENDING_ENTRY' }); // the only slot
  expect(system.get('a').trigger(VARIANTS[1].entry)).toMatchObject({ accepted: false, code: 'CORRELATION_LIMIT' });
  system.setTradingState('HALTED', 'risk desk');
  expect(system.send('a', VARIANTS[1].entry)).toMatchObject({ accepted: false, code: 'TRADING_HALTED' });
  const direct = system.get('a').trigger(VARIANTS[1].entry);
  expect({
    accepted: direct.accepted,
    code: direct.code,
    state: system.get('a').state,
    slotsUsed: system.summary().portfolio.slotsUsed,
  }).toEqual({
    accepted: false,
    code: 'TRADING_HALTED',
    state: 'ANALYZING',
    slotsUsed: 1,
  });
  // What is not gated still goes through at once, and the trail records both refusals.
  expect(system.get('a').trigger({ type: 'TIME_WINDOW_END' })).toMatchObject({ accepted: true, to: 'READY' });
  expect(
    system
      .get('a')
      .getAuditTrail()
      .filter((r) => r.code === 'TRADING_HALTED' || r.code === 'CORRELATION_LIMIT'),
  ).toHaveLength(3);
  system.stop();
});

test('a removed strategy answers ACTOR_STOPPED to trigger(), as before', () => {
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  const strategy = system.add(lt112, { id: 'gone' });
  system.remove('gone');
  expect(strategy.trigger({ type: 'MARKET_OPEN' })).toMatchObject({ accepted: false, code: 'ACTOR_STOPPED' });
  system.stop();
});
