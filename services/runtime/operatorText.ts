/**
 * The checks of the free text an operator gives a system-wide change: the reason and operator of
 * `setTradingState`, the reason of `suspendAll`. Text that cannot be stored is refused by name
 * ({@link InvalidOptionsError}) before anything is written. A kill switch's text is made storable
 * instead ({@link killSwitchText}): the kill switch engages whatever its reason says.
 * Before, a reason holding a NUL character failed PostgreSQL's write (so the kill switch did not
 * engage) and was reported as a store outage, one of ~8 KB overflowed PostgreSQL's NOTIFY, an
 * operator that was an object failed SQLite's statement, and a reason of 5 was stored as a number.
 */
import { describeThrown, InvalidOptionsError } from '../../machines/errors.js';
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
  const problem = textProblem(reason, MAX_REASON);
  if (problem !== null) throw new InvalidOptionsError(method, 'reason', problem);
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

/** Half of a surrogate pair (a high one not followed by a low one, or a low one not after a high one). */
const LONE_SURROGATE_ALL = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `value` as storable text of at most `max` characters: NULs and halves of surrogate pairs replaced (U+FFFD), the rest cut with an ellipsis. */
function storableText(value: unknown, max: number, none: string): string {
  let text = typeof value === 'string' ? value : value === undefined || value === null ? none : describeThrown(value);
  text = text.split('\u0000').join('\uFFFD').replace(LONE_SURROGATE_ALL, '\uFFFD');
  if (text.length > max) text = `${text.slice(0, max - 1).replace(/[\uD800-\uDBFF]$/, '')}\u2026`;
  return text === '' ? none : text;
}

/**
 * The reason and operator a kill switch records. A kill switch is never refused for its text: it
 * flattens every position, and an emergency script passing an error's long message, or a value
 * that is not a string, must still engage it. What cannot be stored is made storable instead: a
 * value that is not a string is described as text (none: "no reason given", no operator:
 * "kill-switch"), NUL characters and
 * halves of surrogate pairs become U+FFFD, and text past {@link MAX_REASON} characters (an
 * operator past {@link MAX_OPERATOR}) is cut, ending with an ellipsis.
 *
 * @example
 * ```ts
 * killSwitchText('fat finger\u0000', undefined); // { reason: 'fat finger\uFFFD', operator: 'kill-switch' }
 * ```
 */
export function killSwitchText(reason: unknown, operator: unknown): { reason: string; operator: string } {
  return { reason: storableText(reason, MAX_REASON, 'no reason given'), operator: storableText(operator, MAX_OPERATOR, 'kill-switch') };
}
