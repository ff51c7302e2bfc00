/**
 * The checks of the free text an operator gives a system-wide change: the reason and operator of
 * `setTradingState` and `startKillSwitch` / `killSwitch`, the reason of `suspendAll`. Text that
 * cannot be stored is refused by name ({@link InvalidOptionsError}) before anything is written.
 * Before, a reason holding a NUL character failed PostgreSQL's write (so the kill switch did not
 * engage) and was reported as a store outage, one of ~8 KB overflowed PostgreSQL's NOTIFY, an
 * operator that was an object failed SQLite's statement, and a reason of 5 was stored as a number.
 */
import { InvalidOptionsError } from '../../machines/errors.js';
import { shownValue } from '../../machines/shown.js';
import { unstorableText } from '../../machines/validateEvent.js';

/** The longest reason a system-wide change takes (as the HTTP API's). */
export const MAX_REASON = 500;
/** The longest operator name a system-wide change takes (as the HTTP API's). */
export const MAX_OPERATOR = 64;

/** Why `value` is not a storable text of at most `max` characters, or null. */
function textProblem(value: unknown, max: number): string | null {
  if (typeof value !== 'string') return `must be a string, got ${shownValue(value)}`;
  if (value.length > max) return `must be at most ${max} characters, got ${value.length}`;
  return unstorableText(value);
}

/**
 * Refuses a `reason` of `method` that is not a string of at most {@link MAX_REASON} characters
 * without a NUL character or half of a surrogate pair.
 *
 * @throws {@link InvalidOptionsError} naming `method` and `reason`.
 * @example
 * ```ts
 * checkReason('setTradingState', 'drawdown\u0000'); // throws: setTradingState: option reason must not contain the NUL character (U+0000)
 * ```
 */
export function checkReason(method: string, reason: unknown): asserts reason is string {
  const problem = reasonProblem(method, reason);
  if (problem) throw problem;
}

/** The {@link InvalidOptionsError} {@link checkReason} would throw, or undefined (for a promise to reject with). */
export function reasonProblem(method: string, reason: unknown): InvalidOptionsError | undefined {
  const problem = textProblem(reason, MAX_REASON);
  return problem === null ? undefined : new InvalidOptionsError(method, 'reason', problem);
}

/**
 * Refuses an `operator` of `method` that is set and is not a string of at most
 * {@link MAX_OPERATOR} characters without a NUL character or half of a surrogate pair.
 *
 * @throws {@link InvalidOptionsError} naming `method` and `operator`.
 */
export function checkOperator(method: string, operator: unknown): asserts operator is string | undefined {
  if (operator === undefined) return;
  const problem = textProblem(operator, MAX_OPERATOR);
  if (problem !== null) throw new InvalidOptionsError(method, 'operator', problem);
}
