/**
 * An entry filled in pieces with different expiries: the position keeps the nearest one, so the
 * 21-DTE exit and the expired-position hold act on the contracts that expire first. Before, each
 * fill's expiry replaced the one before: a partial fill of December contracts followed by a fill of
 * March ones left the position expiring in March, the December contracts passed 21 DTE (and
 * expired) with no exit, and DEFENSIVE_EXIT_DTE was refused as 105 DTE away. Real machine, real
 * DTE monitor, simulated clock.
 */
import { ExpiredPositionError } from '../../machines/errors';
import type { StrategyDefinition } from '../../machines/definition';
import type { StrategyEvent } from '../../machines/events';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { startDteMonitor } from '../../services/market/dteMonitor';
import { drive, start } from '../support/fixtures';

/** lt112 without entry rules, so an entry may hold contracts of any expiry. */
const unguarded: StrategyDefinition = { ...lt112, id: 'lt112AnyExpiry', entryGuards: [] };
const NEAR = '2026-12-18';
const FAR = '2027-03-19';
const et = (local: string): number => Date.parse(`${local}-05:00`); // EST dates only

/** From INITIALIZING through the entry's fills, in order: one contract per expiry. */
const entry = (expiries: string[]): StrategyEvent[] => [
  { type: 'MARKET_OPEN' },
  { type: 'TIME_WINDOW_START' },
  { type: 'ENTRY_CONDITIONS_MET', vix: 18 },
  { type: 'ORDER_SUBMITTED' },
  ...expiries.map((expiry, i): StrategyEvent => ({
    type: i === expiries.length - 1 ? 'ORDER_FILLED' : 'ORDER_PARTIALLY_FILLED',
    quantity: 1,
    expiry,
  })),
];

test.each([
  ['nearer first', [NEAR, FAR]],
  ['nearer last', [FAR, NEAR]],
  ['nearer in the middle', [FAR, NEAR, FAR]],
])('fills with two expiries (%s): the position expires on the nearer one, and the 21-DTE rule counts to it', (_, expiries) => {
  const { strategy } = start(unguarded); // Fri 2026-12-04: 14 DTE to NEAR, 105 DTE to FAR
  drive(strategy, [...entry(expiries), { type: 'MARKET_OPEN' }]);
  expect(strategy.getSnapshot().context.position).toMatchObject({ quantity: expiries.length, expiry: NEAR });
  const result = strategy.trigger({ type: 'DEFENSIVE_EXIT_DTE' });
  expect(result).toMatchObject({ accepted: true, to: 'PENDING_EXIT' });
});

test('the DTE monitor arms the 21-DTE exit for the nearer expiry', () => {
  const clock = createSimulatedClock(Date.parse('2026-08-24T10:00:00-04:00'));
  const { strategy } = start(unguarded, { clock });
  drive(strategy, entry([NEAR, FAR]));
  const monitor = startDteMonitor({ strategy });
  expect(new Date(monitor.dueAt!).toISOString()).toBe('2026-11-27T14:30:00.000Z'); // 21 DTE to 2026-12-18
  monitor.stop();
});

test('held past the nearer expiry, the position is reported at that close and held as expired when it is managed again: no exit order for expired contracts', () => {
  const clock = createSimulatedClock(et('2026-12-04T11:00:00'));
  const { strategy } = start(unguarded, { clock });
  drive(strategy, [...entry([NEAR, FAR]), { type: 'SYSTEM_ERROR', reason: 'feed down', hold: true }]);
  const errors: unknown[] = [];
  const monitor = startDteMonitor({ strategy, onError: (e) => errors.push(e) });
  clock.set(et('2026-12-21T10:00:00')); // the NEAR contracts expired at Friday's close
  drive(strategy, [{ type: 'MANUAL_OVERRIDE', target: 'MANAGING', reason: 'feed back', operator: 'tests' }]);
  clock.increment(1);
  expect(strategy.state).toBe('ERROR');
  expect(errors).toEqual([expect.any(ExpiredPositionError)]);
  // Reported once, at the nearer expiry's close, while the strategy was held in ERROR.
  expect(errors[0]).toMatchObject({ strategyId: strategy.id, expiry: NEAR, quantity: 2, state: 'ERROR' });
  monitor.stop();
});
