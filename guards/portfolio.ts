import type { RejectionCode } from '../machines/errors.js';
import type { StrategyEvent } from '../machines/events.js';
import type { StrategyState } from '../machines/states.js';
import { hasStateTag } from '../machines/tags.js';
import type { StrategyContext } from '../machines/types.js';

/**
 * Trading state of a whole system, as in NautilusTrader's risk engine: ACTIVE (normal),
 * REDUCING (entries rejected; exits and adjustments allowed), HALTED (every order-producing
 * transition rejected; only the kill switch's own exits pass).
 */
export type TradingState = 'ACTIVE' | 'REDUCING' | 'HALTED';

/** What an accepted trigger would make a strategy do at the broker. */
export type OrderEffect = 'entry' | 'adjustment' | 'exit';

const RISK_EVENTS: readonly string[] = ['RISK_LIMIT_EXCEEDED', 'CORRELATION_LIMIT', 'VIX_SPIKE'];

/**
 * Classifies a trigger by the orders it leads to: entering (ANALYZING's ENTRY_CONDITIONS_MET,
 * PENDING_ENTRY's ORDER_SUBMITTED), adjusting (MANAGING's risk events when the variant adjusts,
 * ADJUSTING's ORDER_SUBMITTED) or exiting (PENDING_EXIT's ORDER_SUBMITTED, EMERGENCY_EXIT with a
 * position). Everything else (fills, market events, cancelling a flat entry) produces no order.
 */
export function orderEffectOf(
  state: StrategyState,
  event: StrategyEvent,
  context: StrategyContext,
  canAdjust: boolean,
): OrderEffect | null {
  const holds = (context.position?.quantity ?? 0) > 0;
  switch (event.type) {
    case 'ENTRY_CONDITIONS_MET':
      return state === 'ANALYZING' ? 'entry' : null;
    case 'ORDER_SUBMITTED':
      return state === 'PENDING_ENTRY' ? 'entry' : state === 'ADJUSTING' ? 'adjustment' : state === 'PENDING_EXIT' ? 'exit' : null;
    case 'EMERGENCY_EXIT':
      return holds ? 'exit' : null;
    default:
      return state === 'MANAGING' && canAdjust && RISK_EVENTS.includes(event.type) ? 'adjustment' : null;
  }
}

/** Refuses what the trading state forbids; null when the trigger may proceed. */
export function checkTradingState(tradingState: TradingState, effect: OrderEffect | null): { code: RejectionCode; reason: string } | null {
  if (effect === null || tradingState === 'ACTIVE') return null;
  if (tradingState === 'REDUCING') {
    return effect === 'entry'
      ? { code: 'TRADING_REDUCING', reason: 'trading state is REDUCING: entries are rejected, exits and adjustments are allowed' }
      : null;
  }
  return { code: 'TRADING_HALTED', reason: `trading state is HALTED: every order-producing transition is rejected (this one: ${effect})` };
}

/** Portfolio limits across strategies: open positions overall and per correlation group. */
export interface PortfolioLimits {
  maxOpenPositions?: number;
  /** Per correlation group, e.g. `{ 'us-equity-index': 3 }`. */
  maxPerGroup?: Record<string, number>;
}

/**
 * Refuses an entry that would exceed a portfolio limit. `slots` maps each strategy holding a slot
 * (from PENDING_ENTRY until it is back in READY or CLOSED) to its correlation group.
 */
export function checkPortfolioLimits(
  slots: ReadonlyMap<string, string | undefined>,
  limits: PortfolioLimits,
  strategyId: string,
  group: string | undefined,
): { code: RejectionCode; reason: string } | null {
  if (slots.has(strategyId)) return null;
  let inGroup = 0;
  for (const g of slots.values()) if (g === group) inGroup++;
  return checkSlotCounts({ overall: slots.size, inGroup }, limits, group);
}

/**
 * The limit an entry would exceed, given how many slots other strategies hold overall and in its
 * group; `scope` is appended to the reason (a shared store says `(all instances)`).
 */
export function checkSlotCounts(
  used: { overall: number; inGroup: number },
  limits: PortfolioLimits,
  group: string | undefined,
  scope = '',
): { code: RejectionCode; reason: string } | null {
  const suffix = scope ? ` ${scope}` : '';
  if (limits.maxOpenPositions !== undefined && used.overall >= limits.maxOpenPositions) {
    return {
      code: 'CORRELATION_LIMIT',
      reason: `CORRELATION_LIMIT: ${used.overall} of ${limits.maxOpenPositions} open positions overall are taken${suffix}`,
    };
  }
  const max = group !== undefined ? limits.maxPerGroup?.[group] : undefined;
  if (max !== undefined && used.inGroup >= max) {
    return {
      code: 'CORRELATION_LIMIT',
      reason: `CORRELATION_LIMIT: group ${group} holds ${used.inGroup} of ${max} open positions${suffix}`,
    };
  }
  return null;
}

/**
 * Whether a strategy in `state` with `quantity` contracts holds a portfolio slot: false in the
 * states tagged `releasesSlot` (INITIALIZING, READY, ANALYZING, CLOSED, TERMINATED), true in those
 * tagged `takesSlot` (PENDING_ENTRY until the exit is done); in the others (ERROR, SUSPENDED)
 * only with a position. `undefined` means "as it was" (no change).
 */
export function holdsPortfolioSlot(state: StrategyState, quantity: number): boolean | undefined {
  if (hasStateTag(state, 'releasesSlot')) return false;
  if (hasStateTag(state, 'takesSlot') || quantity > 0) return true;
  return undefined;
}
