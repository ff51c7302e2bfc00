/**
 * What the DTE monitor does at the close of a held position's expiry date, by the state the
 * strategy sits in then: one waiting on no broker answer (here ADJUSTING, whose roll never came
 * back) is reported and held for an operator at that close; one whose exit order works
 * (PARTIAL_EXIT) is left to the broker's answer, and held as soon as it leaves for a state that
 * waits on none (its stuck deadline's ERROR). Before, nothing happened at the close: the strangle
 * sat in ADJUSTING over its expired contracts with no alert. Simulated clock.
 */
import { ExpiredPositionError } from '../../machines/errors';
import { strangle } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { startDteMonitor } from '../../services/market/dteMonitor';
import { drive, start } from '../support/fixtures';

const et = (local: string): number => Date.parse(`${local}-05:00`); // EST dates only
/** The strangle without entry rules, to open a position a few days from its expiry. */
const unguarded = { ...strangle, id: 'strangleUnguarded', entryGuards: [] };

/** A strangle managing 2 contracts expiring Fri 2026-12-04, opened Tue 2026-12-01 10:00 ET, with its monitor. */
function managing() {
  const { strategy, clock } = start(unguarded, { clock: createSimulatedClock(et('2026-12-01T10:00:00')) });
  const errors: unknown[] = [];
  drive(strategy, [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START', window: 'entry' },
    { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2026-12-04' },
    { type: 'ORDER_SUBMITTED' },
    { type: 'ORDER_FILLED', quantity: 2, expiry: '2026-12-04' },
    { type: 'MARKET_OPEN' },
  ]);
  // Inside 21 DTE already, the defensive exit would be due at the next open: at 0 DTE, the expiry day's open.
  const watch = () => startDteMonitor({ strategy, defensiveDte: 0, onError: (e) => errors.push(e) });
  return { strategy, clock, errors, watch };
}

test('ADJUSTING over the expiry close (its roll never answered): reported and held for an operator at that close', () => {
  const { strategy, clock, errors, watch } = managing();
  const monitor = watch();
  clock.set(et('2026-12-01T10:05:00'));
  drive(strategy, [{ type: 'VIX_SPIKE', vix: 40 }]);
  expect(strategy.state).toBe('ADJUSTING');
  clock.set(et('2026-12-04T15:59:59')); // the exit, due at 09:30, waits: ADJUSTING has no edge for it
  expect(strategy.state).toBe('ADJUSTING');
  expect(errors).toEqual([]);
  clock.set(et('2026-12-04T16:00:00'));
  expect(strategy.state).toBe('ERROR');
  expect(strategy.getSnapshot().context.deadline).toBeNull(); // for an operator: no recovery by itself
  expect(strategy.getAuditTrail().at(-1)).toMatchObject({ trigger: 'SYSTEM_ERROR', previousState: 'ADJUSTING', currentState: 'ERROR' });
  expect(errors).toEqual([expect.any(ExpiredPositionError)]);
  expect(errors[0]).toMatchObject({ strategyId: strategy.id, expiry: '2026-12-04', quantity: 2, state: 'ADJUSTING' });
  expect(strategy.getSnapshot().context.position).toMatchObject({ quantity: 2, expiry: '2026-12-04' });
  monitor.stop();
});

test("PARTIAL_EXIT over the expiry close is left to the broker; its stuck deadline's ERROR is held at once, reported once", () => {
  const { strategy, clock, errors, watch } = managing();
  clock.set(et('2026-12-04T15:52:00')); // a margin call's exit, partly filled
  drive(strategy, [{ type: 'MARGIN_CALL' }, { type: 'ORDER_SUBMITTED' }, { type: 'ORDER_PARTIALLY_FILLED', quantity: 1 }]);
  expect(strategy.state).toBe('PARTIAL_EXIT');
  const monitor = watch();
  clock.set(et('2026-12-04T16:00:00'));
  expect(strategy.state).toBe('PARTIAL_EXIT'); // its exit order works: the broker answers
  expect(errors).toEqual([]);
  clock.set(et('2026-12-04T16:02:00')); // 10 minutes without an answer: stuck -> ERROR, held there at once
  expect(strategy.state).toBe('ERROR');
  expect(strategy.getSnapshot().context.deadline).toBeNull();
  expect(errors).toEqual([expect.any(ExpiredPositionError)]);
  expect(errors[0]).toMatchObject({ expiry: '2026-12-04', quantity: 1, state: 'ERROR' });
  clock.set(et('2026-12-07T10:00:00'));
  expect(strategy.state).toBe('ERROR');
  expect(errors).toHaveLength(1);
  monitor.stop();
});
