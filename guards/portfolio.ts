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

/** A broker's answer about an order already placed: a fact, applied whatever the trading state. */
const BROKER_FACTS: readonly string[] = ['ORDER_SUBMITTED', 'ORDER_PARTIALLY_FILLED', 'ORDER_FILLED', 'ORDER_REJECTED'];

/** The orders an override into each state leads the service to place (EXITING: a close order). */
const OVERRIDE_EFFECTS: Partial<Record<StrategyState, OrderEffect>> = {
  PENDING_ENTRY: 'entry',
  ADJUSTING: 'adjustment',
  PENDING_EXIT: 'exit',
  EXITING: 'exit',
};

/**
 * Classifies a trigger by the orders it decides: entering (an edge to PENDING_ENTRY, i.e.
 * ANALYZING's ENTRY_CONDITIONS_MET, or straight to ENTERING from outside the entry states, a
 * variant's own edge), adjusting (an edge to ADJUSTING from outside it, when the variant adjusts:
 * MANAGING's risk events), exiting (an edge to PENDING_EXIT, such as MANAGING's DEFENSIVE_EXIT_DTE
 * or MARGIN_CALL, straight to EXITING from outside the exit states, or EMERGENCY_EXIT with a
 * position); a MANUAL_OVERRIDE by the state it names (PENDING_ENTRY, ENTERING from outside the
 * entry states, ADJUSTING, PENDING_EXIT, EXITING). `targets` are the
 * top-level states the event's edges from `state` can reach (`edgeTargetsOf(machine, state,
 * event.type)`). A broker's answer (ORDER_SUBMITTED, fills, ORDER_REJECTED) decides nothing: its
 * order is already at the broker, so it is always applied. Everything else produces no order.
 *
 * @example
 * ```ts
 * const machine = createStrategyMachine(lt112);
 * orderEffectOf('MANAGING', { type: 'MARGIN_CALL' }, context, false, edgeTargetsOf(machine, 'MANAGING', 'MARGIN_CALL')); // 'exit'
 * ```
 */
export function orderEffectOf(
  state: StrategyState,
  event: StrategyEvent,
  context: StrategyContext,
  canAdjust: boolean,
  targets: readonly StrategyState[],
): OrderEffect | null {
  if (event.type === 'EMERGENCY_EXIT') return (context.position?.quantity ?? 0) > 0 ? 'exit' : null;
  if (BROKER_FACTS.includes(event.type)) return null;
  // An operator's override is judged by the state it names: those that place an order decide one.
  if (event.type === 'MANUAL_OVERRIDE') {
    // Straight into ENTERING from a flat state takes a slot and leads to a fill: an entry (from
    // PENDING_ENTRY its order is already placed and counted). The same for a variant's own edge.
    if (event.target === 'ENTERING') return ENTRY_ORDER_STATES.includes(state) ? null : 'entry';
    return OVERRIDE_EFFECTS[event.target] ?? null;
  }
  if (targets.includes('PENDING_ENTRY') || (targets.includes('ENTERING') && !ENTRY_ORDER_STATES.includes(state))) return 'entry';
  if (state !== 'ADJUSTING' && targets.includes('ADJUSTING') && (canAdjust || !targets.includes('PENDING_EXIT'))) return 'adjustment';
  // Straight into EXITING (a variant's own edge) places an exit order, as PENDING_EXIT does.
  if (targets.includes('PENDING_EXIT') || (targets.includes('EXITING') && !EXIT_ORDER_STATES.includes(state))) return 'exit';
  return null;
}

/** States whose entry order is already decided (a move on to ENTERING is the broker's answer, not a new order). */
const ENTRY_ORDER_STATES: readonly StrategyState[] = ['PENDING_ENTRY', 'ENTERING'];
/** States whose exit order is already decided. */
const EXIT_ORDER_STATES: readonly StrategyState[] = ['PENDING_EXIT', 'EXITING', 'PARTIAL_EXIT'];

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
