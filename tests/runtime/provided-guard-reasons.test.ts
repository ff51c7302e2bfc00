/**
 * A guard replaced with `machine.provide({ guards })` decides, and the refusal says so. Before, the
 * reason was explained with the variant's own check: a generic "guard failed" when that check
 * passed, or the built-in's reason (a band the provided guard does not use) when it failed.
 */
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { FRIDAY_11AM, NEAR_EXPIRY, drive } from '../support/fixtures';

test("a provided entry guard's refusal names it, where the variant's own check would pass", () => {
  const machine = createStrategyMachine(lt112).provide({
    guards: { isVixInRange: ({ event }) => event.type === 'ENTRY_CONDITIONS_MET' && (event.vix ?? 0) <= 16 },
  });
  const strategy = createStrategyActor(machine, { id: 'p', clock: createSimulatedClock(FRIDAY_11AM) });
  drive(strategy, [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START', window: 'entry' }]);
  const entry = { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-29' } as const;
  const expected = 'ENTRY_CONDITIONS_MET rejected in ANALYZING: isVixInRange: the guard given to machine.provide() returned false';
  expect(strategy.explain(entry)).toMatchObject({ code: 'GUARD_FAILED', reason: expected });
  expect(strategy.trigger(entry)).toMatchObject({ accepted: false, code: 'GUARD_FAILED', reason: expected });
  expect(strategy.trigger({ ...entry, vix: 15 })).toMatchObject({ accepted: true, to: 'PENDING_ENTRY' });
  strategy.stop();
});

test("a provided guard that refuses where the built-in would pass does not get the built-in's reason", () => {
  const machine = createStrategyMachine(lt112).provide({ guards: { isDteAtOrBelowDefensive: () => false } });
  const strategy = createStrategyActor(machine, { id: 'p', clock: createSimulatedClock(FRIDAY_11AM) });
  drive(strategy, [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START', window: 'entry' },
    { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-29' },
    { type: 'ORDER_SUBMITTED' },
    { type: 'ORDER_FILLED', quantity: 1, expiry: NEAR_EXPIRY },
    { type: 'MARKET_OPEN' },
  ]);
  expect(strategy.trigger({ type: 'DEFENSIVE_EXIT_DTE' })).toMatchObject({
    accepted: false,
    reason: 'DEFENSIVE_EXIT_DTE rejected in MANAGING: isDteAtOrBelowDefensive: the guard given to machine.provide() returned false',
  });
  strategy.stop();
});
