/**
 * Moves straight into ENTERING or EXITING are orders too: an override of a flat strategy into
 * ENTERING, or a variant's own edge ANALYZING -> ENTERING, is an entry (refused while HALTED, and
 * past the portfolio limits); a variant's own edge MANAGING -> EXITING is an exit (refused while
 * HALTED, like the base exits). Before, only PENDING_ENTRY and PENDING_EXIT counted.
 */
import { FRIDAY_11AM, VARIANTS, managing, twoAnalyzing } from '../support/fixtures';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { lt112 } from '../../machines/variants';
import { needsExitOrder } from '../../services/runtime/routing/orderIntent';

test('in memory: an override cannot take a portfolio slot past maxOpenPositions', () => {
  const system = twoAnalyzing();
  expect(system.send('a', VARIANTS[1].entry)).toMatchObject({ accepted: true, to: 'PENDING_ENTRY' }); // the only slot
  // The same move through PENDING_ENTRY is refused by the limit:
  expect(system.send('b', { type: 'MANUAL_OVERRIDE', target: 'PENDING_ENTRY', reason: 'r', operator: 'ops' })).toMatchObject({
    accepted: false,
    code: 'CORRELATION_LIMIT',
  });
  system.setTradingState('HALTED', 'risk desk');
  const override = system.send('b', { type: 'MANUAL_OVERRIDE', target: 'ENTERING', reason: 'r', operator: 'ops' });
  const fill = system.send('b', { type: 'ORDER_FILLED', quantity: 3, expiry: '2026-12-18' });
  expect({
    override: override.accepted,
    fill: fill.accepted,
    slotsUsed: system.summary().portfolio.slotsUsed,
  }).toEqual({ override: false, fill: false, slotsUsed: 1 });
  system.stop();
});

test('in memory: a variant edge ANALYZING -> ENTERING cannot take a slot past maxOpenPositions or enter while HALTED', () => {
  const direct = {
    ...lt112,
    id: 'directEntry',
    extraEdges: [{ from: ['ANALYZING'] as const, on: ['EARNINGS_APPROACHING'] as const, to: 'ENTERING' as const, why: 'enter at once' }],
  };
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = createStrategySystem({ clock, limits: { maxOpenPositions: 1 } });
  system.add(lt112, { id: 'a', params: { underlying: 'SPX' } });
  system.add(direct, { id: 'b', params: { underlying: 'SPX' } });
  for (const id of ['a', 'b']) {
    system.send(id, { type: 'MARKET_OPEN' });
    system.send(id, { type: 'TIME_WINDOW_START' });
  }
  expect(system.send('a', VARIANTS[1].entry)).toMatchObject({ accepted: true, to: 'PENDING_ENTRY' }); // the only slot
  system.setTradingState('HALTED', 'risk desk');
  const entered = system.send('b', { type: 'EARNINGS_APPROACHING', symbol: 'SPX', date: '2026-12-10' });
  expect({ accepted: entered.accepted, state: system.get('b').state, slotsUsed: system.summary().portfolio.slotsUsed }).toEqual({
    accepted: false,
    state: 'ANALYZING',
    slotsUsed: 1,
  });
  system.stop();
});

const exitOnEarnings = {
  ...lt112,
  id: 'exitOnEarnings',
  extraEdges: [
    { from: ['MANAGING'] as const, on: ['EARNINGS_APPROACHING'] as const, to: 'EXITING' as const, why: 'close at once before earnings' },
  ],
};

test('in memory: a variant edge MANAGING -> EXITING (EARNINGS_APPROACHING) is refused while HALTED, like the base exit edges', () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = createStrategySystem({ clock });
  system.add(exitOnEarnings, { id: 'custom', params: { underlying: 'SPX' } });
  system.add(lt112, { id: 'base', params: { underlying: 'SPX' } });
  for (const id of ['custom', 'base']) for (const e of managing(VARIANTS[1].entry, 2)) expect(system.send(id, e).accepted).toBe(true);
  system.setTradingState('HALTED', 'risk desk');

  // The base exit edge (MANAGING -> PENDING_EXIT) is refused, as documented.
  expect(system.send('base', { type: 'MARGIN_CALL' })).toMatchObject({ accepted: false, code: 'TRADING_HALTED' });
  // The variant's exit edge leads to an exit order just the same ...
  expect(needsExitOrder({ previousState: 'MANAGING', currentState: 'EXITING' })).toBe(true);
  // ... and must be refused too.
  const result = system.send('custom', { type: 'EARNINGS_APPROACHING', symbol: 'SPX', date: '2026-12-10' });
  expect({ accepted: result.accepted, code: result.accepted ? undefined : result.code, state: system.get('custom').state }).toEqual({
    accepted: false,
    code: 'TRADING_HALTED',
    state: 'MANAGING',
  });
  system.stop();
});
