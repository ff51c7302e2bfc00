/**
 * A same-day (0DTE) position filled without an expiry on a day with no session (Saturday
 * 2026-12-05, on the simulated clock): its contracts are those of the next session, Monday
 * 2026-12-07, where its exit is armed too. Before, its expiry was taken as the Saturday itself,
 * which has no session, so it was held in ERROR as expired the moment it was opened.
 */
import { ExpiredPositionError } from '../../machines/errors';
import { zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { startDteMonitor } from '../../services/market/dteMonitor';
import { drive, start } from '../support/fixtures';

/** The 0DTE without entry rules (they refuse a weekend entry), as a direct caller or a replay may open one. */
const unguarded = { ...zeroDte, id: 'zeroDteUnguarded', entryGuards: [] };
const et = (local: string): number => Date.parse(`${local}-05:00`); // EST dates only

test('a 0DTE without expiry opened on a Saturday is exited at Monday 15:45, not held as expired at once', () => {
  const { strategy, clock } = start(unguarded, { clock: createSimulatedClock(et('2026-12-05T11:00:00')) });
  const errors: unknown[] = [];
  const monitor = startDteMonitor({ strategy, onError: (e) => errors.push(e) });
  drive(strategy, [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START', window: 'entry' },
    { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2026-12-07' },
    { type: 'ORDER_SUBMITTED' },
    { type: 'ORDER_FILLED', quantity: 2 },
  ]);
  clock.increment(1);
  expect(strategy.state).toBe('POSITION_OPEN');
  expect(errors).toEqual([]);
  expect(monitor.dueAt).toBe(et('2026-12-07T15:45:00'));
  clock.set(et('2026-12-07T09:30:00'));
  drive(strategy, [{ type: 'MARKET_OPEN' }]);
  clock.set(et('2026-12-07T15:45:00'));
  expect(strategy.getAuditTrail().at(-1)).toMatchObject({ trigger: 'TIME_WINDOW_END', currentState: 'PENDING_EXIT' });
  expect(errors.filter((e) => e instanceof ExpiredPositionError)).toEqual([]);
  monitor.stop();
});
