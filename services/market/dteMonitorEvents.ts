/**
 * What the DTE monitor sends and reports: the exit signal of its rule, the emergency exit of a
 * same-day position, the hold of an expired one, and the errors it tells `onError`. The monitor
 * that decides when is `dteMonitor.ts`.
 */
import type { StrategyEvent } from '../../machines/events.js';
import type { StrategyState } from '../../machines/states.js';
import type { Position } from '../../machines/types.js';
import type { DteMonitorHandle } from './dteMonitorOptions.js';
import { DteMonitorError } from './dteRules.js';
import { daysToExpiry } from './time.js';

/**
 * The exit signal of `position` under `rule` at `now`: TIME_WINDOW_END of the exit window for a
 * same-day position, else DEFENSIVE_EXIT_DTE with the days left (none when it has no expiry).
 *
 * @example
 * ```ts
 * exitEventFor(position, 'defensiveDte', 'manage', clock.now()); // { type: 'DEFENSIVE_EXIT_DTE', dte: 21 }
 * ```
 */
export function exitEventFor(position: Position, rule: DteMonitorHandle['rule'], exitWindow: string, now: number): StrategyEvent {
  if (rule === 'sameDay') return { type: 'TIME_WINDOW_END', window: exitWindow };
  const dte = position.expiry ? daysToExpiry(position.expiry, now) : -1;
  return dte >= 0 ? { type: 'DEFENSIVE_EXIT_DTE', dte } : { type: 'DEFENSIVE_EXIT_DTE' };
}

/**
 * The report of a same-day exit that fell due in an ERROR held for an operator (a position
 * mismatch with the broker, the circuit breaker): an exit of what the strategy believes it holds
 * could open the reverse position, so it is said loudly instead.
 *
 * @example
 * ```ts
 * onError(heldForOperatorError('zero-dte-spx', 2));
 * ```
 */
export function heldForOperatorError(strategyId: string, quantity: number): Error {
  return new Error(
    `${strategyId}: same-day exit time reached in ERROR held for an operator with ${quantity} contracts expiring today: ` +
      'not flattened automatically; reconcile with the broker, then EMERGENCY_EXIT or MANUAL_OVERRIDE before the close',
  );
}

/**
 * The EMERGENCY_EXIT of a same-day position whose exit fell due in `state` (ERROR, ADJUSTING,
 * SUSPENDED): it cannot wait for a recovery that may come after the close.
 *
 * @example
 * ```ts
 * sameDayEmergencyExit('ADJUSTING'); // { type: 'EMERGENCY_EXIT', reason: 'same-day exit time reached in ADJUSTING: ...' }
 * ```
 */
export function sameDayEmergencyExit(state: StrategyState): StrategyEvent {
  return {
    type: 'EMERGENCY_EXIT',
    reason: `same-day exit time reached in ${state}: flattened before the position expires at today's close`,
  };
}

/**
 * The hold of a position that expired in `state`: SYSTEM_ERROR with `hold`, or in an ERROR that
 * would recover by itself, MANUAL_OVERRIDE to ERROR with `hold`. No exit order is sent for it.
 *
 * @example
 * ```ts
 * expiredHoldEvent(2, '2026-12-18', 'MANAGING'); // { type: 'SYSTEM_ERROR', reason: 'position expired unmanaged: ...', hold: true }
 * ```
 */
export function expiredHoldEvent(quantity: number, expiry: string, state: StrategyState): StrategyEvent {
  const reason = `position expired unmanaged: ${quantity} contracts expiring ${expiry} were still held in ${state} after that day's close; no exit order sent, held for an operator`;
  return state === 'ERROR'
    ? { type: 'MANUAL_OVERRIDE', target: 'ERROR', reason, operator: 'dteMonitor', hold: true }
    : { type: 'SYSTEM_ERROR', reason, hold: true };
}

/**
 * The report of a managed position with no expiry to count the defensive rule's days from: no
 * exit is armed for it.
 *
 * @example
 * ```ts
 * onError(missingExpiryError('lt112-spx', 2, 21)); // DteMonitorError, field 'expiry'
 * ```
 */
export function missingExpiryError(strategyId: string, quantity: number, defensiveDte: number | null): DteMonitorError {
  return new DteMonitorError(
    'expiry',
    `missing: ${strategyId} manages ${quantity} contracts with no expiry, so no ${String(defensiveDte)}-DTE exit is armed; ` +
      'give the entry fill its expiry (ORDER_FILLED.expiry), or exit by hand',
  );
}
