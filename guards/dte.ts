import { daysToExpiry } from '../services/market/time.js';
import type { EntryGuard, GuardCheck } from './types.js';
import { eventTime } from './types.js';

/**
 * The 21-DTE rule: passes when the position's DTE is at or below `defensiveDte`.
 * `null` disables the rule (the same-day variant exits before the close instead).
 */
export function isDteAtOrBelowDefensive(defensiveDte: number | null): GuardCheck {
  return (context, event) => {
    if (defensiveDte === null) return 'this variant does not use the DTE defensive exit';
    const expiry = context.position?.expiry;
    if (!expiry) return 'the position has no expiry to count DTE to';
    const dte = daysToExpiry(expiry, eventTime(event));
    return dte <= defensiveDte ? null : `DTE ${dte} is above the defensive DTE ${defensiveDte}`;
  };
}

/**
 * Entry rule: the candidate expiry in ENTRY_CONDITIONS_MET is between `min` and `max` DTE.
 *
 * @example
 * ```ts
 * const band = isDteInBand({ min: 112, max: 120 });
 * ```
 */
export function isDteInBand(band: { min: number; max: number }): EntryGuard {
  return {
    name: 'isDteInBand',
    description: `expiry ${band.min}-${band.max} DTE`,
    check: (_context, event) => {
      if (event.type !== 'ENTRY_CONDITIONS_MET' || !event.expiry) return 'ENTRY_CONDITIONS_MET has no expiry to check the DTE band';
      const dte = daysToExpiry(event.expiry, eventTime(event));
      return dte >= band.min && dte <= band.max ? null : `expiry ${event.expiry} is ${dte} DTE, outside ${band.min}-${band.max}`;
    },
  };
}
