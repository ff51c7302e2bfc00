import { isDteInBand } from '../../guards/dte.js';
import { isVixInRange } from '../../guards/entry.js';
import type { StrategyDefinition } from '../definition.js';
import { contractsParam, symbolParam } from '../params.js';

/**
 * LT112: a long-dated put structure opened 112-120 DTE with VIX 12-40, managed until the
 * 21-DTE defensive exit. It does not adjust: a risk event exits.
 */
export const lt112: StrategyDefinition = {
  id: 'lt112',
  name: 'LT112 long-dated put structure',
  description: 'Put structure opened at 112-120 DTE, closed by the 21-DTE defensive exit.',
  entryGuards: [isDteInBand({ min: 112, max: 120 }), isVixInRange({ min: 12, max: 40 })],
  defensiveDte: 21,
  canAdjust: false,
  correlationGroup: 'us-equity-index',
  // The underlying routes earnings events; the size is what the simulation trades.
  params: { underlying: symbolParam(), quantity: contractsParam() },
};
