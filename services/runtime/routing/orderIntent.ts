/**
 * Which order a strategy's state implies: whether entering a state wants one, whether an exit
 * reached EXITING without one, the side each state waits on, and the order itself.
 */
import type { StrategyState } from '../../../machines/states.js';
import type { OrderRequest } from '../../broker/broker.js';
import type { StrategyActor } from '../strategyActor.js';

/** The states whose entry means "send an order", and which order. */
const INTENT: Partial<Record<StrategyState, OrderRequest['side']>> = { PENDING_ENTRY: 'open', PENDING_EXIT: 'close', ADJUSTING: 'adjust' };

/**
 * True when a strategy entering `state` wants an order sent (PENDING_ENTRY, PENDING_EXIT,
 * ADJUSTING).
 *
 * @example
 * ```ts
 * wantsOrder('PENDING_EXIT'); // true
 * ```
 */
export function wantsOrder(state: StrategyState): boolean {
  return INTENT[state] !== undefined;
}

/** The side of order a state waits on; in any other state no order of the strategy should be working. */
export const EXPECTED_SIDE: Partial<Record<StrategyState, OrderRequest['side']>> = {
  PENDING_ENTRY: 'open',
  ENTERING: 'open',
  PENDING_EXIT: 'close',
  EXITING: 'close',
  PARTIAL_EXIT: 'close',
  ADJUSTING: 'adjust',
};

/**
 * True when a transition reached EXITING without an exit order: EMERGENCY_EXIT (or an operator's
 * MANUAL_OVERRIDE, the kill switch's) from a state where none was placed, such as MANAGING,
 * POSITION_OPEN or ERROR. EXITING means "exit order working", so the routing must place one now.
 *
 * @example
 * ```ts
 * needsExitOrder({ previousState: 'MANAGING', currentState: 'EXITING' }); // true
 * needsExitOrder({ previousState: 'PENDING_EXIT', currentState: 'EXITING' }); // false: its order is placed
 * ```
 */
export function needsExitOrder(record: { previousState: StrategyState; currentState: StrategyState }): boolean {
  // From a state that waits on a close order (PENDING_EXIT, EXITING, PARTIAL_EXIT), that order is the exit.
  return record.currentState === 'EXITING' && EXPECTED_SIDE[record.previousState] !== 'close';
}

/**
 * The order a strategy's state implies, or null: an entry sized by `params.quantity` (default 1)
 * for the expiry and underlying of the ENTRY_CONDITIONS_MET that led to PENDING_ENTRY; an exit
 * or an adjustment of the whole open position.
 *
 * @example
 * ```ts
 * orderIntentOf(strategy); // { strategyId: 'lt112-spx', side: 'close', quantity: 2, expiry: '2026-12-18' }
 * ```
 */
export function orderIntentOf(strategy: StrategyActor): OrderRequest | null {
  // EXITING: asked by `submitFor` only after an emergency exit, which placed no order (see needsExitOrder).
  const side = INTENT[strategy.state] ?? (strategy.state === 'EXITING' || strategy.state === 'PARTIAL_EXIT' ? 'close' : undefined);
  if (!side) return null;
  const { params, position, lastRecord, incarnation } = strategy.getSnapshot().context;
  // Tells this strategy's orders from those of an earlier one under its id (see OrderRequest.incarnation).
  const placedBy = incarnation !== undefined ? { incarnation } : {};
  if (side === 'open') {
    const size = params.quantity;
    const data = lastRecord?.currentState === 'PENDING_ENTRY' ? lastRecord.data : {};
    return {
      strategyId: strategy.id,
      side,
      quantity: Number.isInteger(size) && (size as number) > 0 ? (size as number) : 1,
      ...(typeof data.expiry === 'string' ? { expiry: data.expiry } : {}),
      ...placedBy,
    };
  }
  if (!position || position.quantity <= 0) return null;
  return {
    strategyId: strategy.id,
    side,
    quantity: position.quantity,
    ...(position.expiry ? { expiry: position.expiry } : {}),
    ...(position.legs ? { legs: position.legs } : {}),
    ...placedBy,
  };
}
