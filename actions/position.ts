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
 * The average entry price after a fill of `quantity` at `price` (absent: the fill carried none):
 * over the priced contracts only, so an unpriced fill neither moves the average nor weighs in the
 * next one. Null while no fill carried a price.
 */
function averageEntryPrice(
  old: Position | null | undefined,
  price: number | undefined,
  quantity: number,
): { entryPrice: number; pricedQuantity: number } | null {
  const oldPrice = old?.entryPrice;
  // A position stored before `pricedQuantity` was kept: its price stood for the whole quantity.
  const oldPriced = oldPrice === undefined ? 0 : (old?.pricedQuantity ?? old?.quantity ?? 0);
  if (price === undefined) return oldPrice === undefined ? null : { entryPrice: oldPrice, pricedQuantity: oldPriced };
  if (oldPrice === undefined || oldPriced === 0) return { entryPrice: price, pricedQuantity: quantity };
  const pricedQuantity = oldPriced + quantity;
  return { entryPrice: (oldPrice * oldPriced + price * quantity) / pricedQuantity, pricedQuantity };
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
  const priced = averageEntryPrice(old, event.price, event.quantity);
  if (priced) {
    position.entryPrice = priced.entryPrice;
    position.pricedQuantity = priced.pricedQuantity;
  }
  return { position };
}

/** An exit fill shrinks what remains open; at zero the strategy is flat. */
export function applyExitFill(context: StrategyContext, event: MachineEvent): Partial<StrategyContext> {
  if (!isFill(event) || !context.position) return {};
  const quantity = context.position.quantity - event.quantity;
  if (quantity <= 0) return { position: null };
  const position: Position = { ...context.position, quantity };
  // The priced contracts never outnumber those open (which ones closed is unknown; the average stands).
  if (position.pricedQuantity !== undefined && position.pricedQuantity > quantity) position.pricedQuantity = quantity;
  return { position };
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
