import { eventTime } from '../guards/types.js';
import type { MachineEvent } from '../machines/events.js';
import type { Position, StrategyContext } from '../machines/types.js';

function isFill(event: MachineEvent): event is Extract<MachineEvent, { type: 'ORDER_FILLED' | 'ORDER_PARTIALLY_FILLED' }> {
  return event.type === 'ORDER_FILLED' || event.type === 'ORDER_PARTIALLY_FILLED';
}

/**
 * The nearer of two `yyyy-MM-dd` expiries (either may be absent): the contracts that expire first
 * decide when the position must be exited (21 DTE) and when it has expired.
 */
function nearestExpiry(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a <= b ? a : b;
}

/**
 * An entry fill grows the position: quantity, legs, average price, and its expiry, which is the
 * nearest expiry of all its fills (an entry filled in pieces may hold contracts of several expiries).
 */
export function applyEntryFill(context: StrategyContext, event: MachineEvent): Partial<StrategyContext> {
  if (!isFill(event)) return {};
  const old = context.position;
  const oldQty = old?.quantity ?? 0;
  const quantity = oldQty + event.quantity;
  const position: Position = { quantity, openedAt: old?.openedAt ?? eventTime(event) };
  const expiry = nearestExpiry(old?.expiry, event.expiry);
  if (expiry !== undefined) position.expiry = expiry;
  const legs = event.legs ?? old?.legs;
  if (legs !== undefined) position.legs = legs;
  const underlying = event.underlying ?? old?.underlying;
  if (underlying !== undefined) position.underlying = underlying;
  if (event.price !== undefined) {
    position.entryPrice = old?.entryPrice !== undefined ? (old.entryPrice * oldQty + event.price * event.quantity) / quantity : event.price;
  } else if (old?.entryPrice !== undefined) {
    position.entryPrice = old.entryPrice;
  }
  return { position };
}

/** An exit fill shrinks what remains open; at zero the strategy is flat. */
export function applyExitFill(context: StrategyContext, event: MachineEvent): Partial<StrategyContext> {
  if (!isFill(event) || !context.position) return {};
  const quantity = context.position.quantity - event.quantity;
  return { position: quantity > 0 ? { ...context.position, quantity } : null };
}

/** An adjustment fill may roll the position: a new expiry or legs replace the old ones. */
export function applyAdjustmentFill(context: StrategyContext, event: MachineEvent): Partial<StrategyContext> {
  if (event.type !== 'ORDER_FILLED' || !context.position) return {};
  if (event.expiry === undefined && event.legs === undefined) return {};
  const position: Position = { ...context.position };
  if (event.expiry !== undefined) position.expiry = event.expiry;
  if (event.legs !== undefined) position.legs = event.legs;
  return { position };
}
