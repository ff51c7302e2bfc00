import { eventTime } from '../guards/types.js';
import type { MachineEvent } from '../machines/events.js';
import type { Position, StrategyContext } from '../machines/types.js';

function isFill(event: MachineEvent): event is Extract<MachineEvent, { type: 'ORDER_FILLED' | 'ORDER_PARTIALLY_FILLED' }> {
  return event.type === 'ORDER_FILLED' || event.type === 'ORDER_PARTIALLY_FILLED';
}

/** An entry fill grows the position (quantity, expiry, legs, average price). */
export function applyEntryFill(context: StrategyContext, event: MachineEvent): Partial<StrategyContext> {
  if (!isFill(event)) return {};
  const old = context.position;
  const oldQty = old?.quantity ?? 0;
  const quantity = oldQty + event.quantity;
  const position: Position = { quantity, openedAt: old?.openedAt ?? eventTime(event) };
  const expiry = event.expiry ?? old?.expiry;
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
