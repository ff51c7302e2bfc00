import { isDteInBand } from '../../guards/dte.js';
import { isVixInRange } from '../../guards/entry.js';
import type { StrategyDefinition } from '../definition.js';
import { contractsParam, symbolParam } from '../params.js';

/**
 * Short strangle opened 45-90 DTE with VIX 15-45, exited at 21 DTE. It can adjust: a risk event
 * (RISK_LIMIT_EXCEEDED, CORRELATION_LIMIT, VIX_SPIKE) leads to ADJUSTING, which has substates:
 * ROLLING (choosing the roll) and AWAITING_FILL once the roll order is submitted.
 */
export const strangle: StrategyDefinition = {
  id: 'strangle',
  name: 'Short strangle',
  description: 'Short strangle opened at 45-90 DTE, adjusted on risk, closed at 21 DTE.',
  entryGuards: [isDteInBand({ min: 45, max: 90 }), isVixInRange({ min: 15, max: 45 })],
  defensiveDte: 21,
  canAdjust: true,
  correlationGroup: 'us-equity-index',
  // The underlying routes earnings events; the size is what the simulation trades.
  params: { underlying: symbolParam(), quantity: contractsParam() },
  substates: {
    ADJUSTING: {
      initial: 'ROLLING',
      states: ['ROLLING', 'AWAITING_FILL'],
      edges: [{ from: 'ROLLING', on: ['ORDER_SUBMITTED'], to: 'AWAITING_FILL', why: 'roll order submitted' }],
    },
  },
};
