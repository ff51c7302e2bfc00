import { isInsideEntryWindow, isTradingWeekday, isVixInRange } from '../../guards/entry.js';
import type { StrategyDefinition } from '../definition.js';
import { contractsParam, symbolParam } from '../params.js';

/**
 * Same-day SPX options (0DTE). Entry only inside its window (10:30-14:30 ET), on Fridays, with
 * VIX 12-35. There is no 21-DTE rule (the options expire today): the position is exited before
 * the close instead, when the exit window ends (TIME_WINDOW_END) or, as a safety net, at
 * MARKET_CLOSE. It does not adjust: a risk event exits.
 */
export const zeroDte: StrategyDefinition = {
  id: 'zeroDte',
  name: '0DTE SPX (same-day options)',
  description: 'Same-day SPX options; entry in its window, exit before the close.',
  entryGuards: [
    isInsideEntryWindow({ start: '10:30', end: '14:30' }),
    isTradingWeekday({ days: ['Fri'] }),
    isVixInRange({ min: 12, max: 35 }),
  ],
  defensiveDte: null,
  canAdjust: false,
  stuckDeadlinesMs: { PENDING_EXIT: 5 * 60_000, EXITING: 5 * 60_000, PARTIAL_EXIT: 5 * 60_000 },
  correlationGroup: 'us-equity-index',
  // The underlying routes earnings events; the size is what the simulation trades.
  params: { underlying: symbolParam(), quantity: contractsParam() },
  extraEdges: [
    { from: ['POSITION_OPEN', 'MANAGING'], on: ['TIME_WINDOW_END'], to: 'PENDING_EXIT', why: '0DTE: exit before the close' },
    { from: ['POSITION_OPEN', 'MANAGING'], on: ['MARKET_CLOSE'], to: 'PENDING_EXIT', why: '0DTE: safety net at the close' },
    { from: ['POSITION_OPEN'], on: ['TIME_WINDOW_START'], to: 'MANAGING', why: '0DTE: manage the same day (no next open)' },
  ],
};
