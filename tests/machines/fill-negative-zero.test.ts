/**
 * Numbers that must be positive are refused at the boundary (quantity 0, -0, negative, NaN,
 * fractional: INVALID_EVENT, audited, nothing moves), and a price or any other number written -0
 * is taken as 0. Before, a fill priced -0 was accepted as it was: the position in memory held
 * entryPrice -0 while its stored (JSON) form held 0, so the live strategy and the one restored
 * from the store differed. Real actor, simulated clock.
 */
import type { StrategyDefinition } from '../../machines/definition';
import type { StrategyEvent } from '../../machines/events';
import { lt112 } from '../../machines/variants';
import { drive, start } from '../support/fixtures';

const unguarded: StrategyDefinition = { ...lt112, id: 'lt112AnyEntry', entryGuards: [] };
const entering: StrategyEvent[] = [
  { type: 'MARKET_OPEN' },
  { type: 'TIME_WINDOW_START' },
  { type: 'ENTRY_CONDITIONS_MET', vix: 18 },
  { type: 'ORDER_SUBMITTED' },
];

test.each([0, -0, -1, Number.NaN, 1.5, Number.POSITIVE_INFINITY, '2', null])(
  'an entry fill of quantity %p is refused, named and audited; the position is untouched',
  (quantity) => {
    const { strategy } = start(unguarded);
    drive(strategy, [...entering, { type: 'ORDER_PARTIALLY_FILLED', quantity: 2, price: 3 }]);
    const before = strategy.getSnapshot().context.position;
    const result = strategy.trigger({ type: 'ORDER_PARTIALLY_FILLED', quantity } as unknown as StrategyEvent);
    expect(result).toMatchObject({ accepted: false, code: 'INVALID_EVENT' });
    expect(result.reason).toMatch(/^ORDER_PARTIALLY_FILLED: quantity must be a positive whole number of contracts/);
    expect(strategy.getAuditTrail().at(-1)).toMatchObject({ trigger: 'ORDER_PARTIALLY_FILLED', accepted: false });
    expect(strategy.state).toBe('ENTERING');
    expect(strategy.getSnapshot().context.position).toEqual(before);
  },
);

test('a fill priced -0 is priced 0: the live position is the one its stored form restores', () => {
  const { strategy } = start(unguarded);
  drive(strategy, [...entering, { type: 'ORDER_FILLED', quantity: 1, price: -0 }]);
  const { position } = strategy.getSnapshot().context;
  expect(position?.entryPrice).toBe(0); // Object.is: not -0
  expect(position).toEqual(JSON.parse(JSON.stringify(position)));
});

test('a DEFENSIVE_EXIT_DTE of dte -0 is dte 0 in its audit record', () => {
  const { strategy } = start(unguarded);
  drive(strategy, [...entering, { type: 'ORDER_FILLED', quantity: 1, expiry: '2026-12-18' }, { type: 'MARKET_OPEN' }]);
  drive(strategy, [{ type: 'DEFENSIVE_EXIT_DTE', dte: -0 }]);
  expect(strategy.getAuditTrail().at(-1)?.data.dte).toBe(0);
});
