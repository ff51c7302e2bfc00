/**
 * What a strategy id may be: 1-64 letters, digits, `_`, `.` or `-`, starting with a letter or
 * digit. One rule for every way in (the library's `add`, HTTP paths and bodies, the config file):
 * an id made through one is reachable through the others, safe in a URL path and a file name, and
 * never a key such as `__proto__`.
 */

import { shownValue } from './shown.js';

/** A strategy id as every entry point accepts it. */
export const STRATEGY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The rule in words, as errors say it. */
export const STRATEGY_ID_RULE = 'ids are 1-64 letters, digits, "_", "." or "-", starting with a letter or digit';

/**
 * What is wrong with `id` as a strategy id, or null.
 *
 * @example
 * ```ts
 * strategyIdProblem('lt112-spx'); // null
 * strategyIdProblem('../x');      // 'ids are 1-64 letters, ... got "../x"'
 * ```
 */
export function strategyIdProblem(id: unknown): string | null {
  if (typeof id === 'string' && STRATEGY_ID_PATTERN.test(id)) return null;
  return `${STRATEGY_ID_RULE}, got ${shownValue(id)}`;
}
