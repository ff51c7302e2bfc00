import { DateTime } from 'luxon';

/** The exchange time zone: every session, window and DTE is counted in it. */
export const MARKET_ZONE = 'America/New_York';

/** `at` (epoch ms) as an ISO 8601 string in New York time, with its offset. */
export function toMarketIso(at: number): string {
  return DateTime.fromMillis(at, { zone: MARKET_ZONE }).toISO() ?? new Date(at).toISOString();
}

/** The New York calendar date (`yyyy-MM-dd`) of `at`. */
export function marketDate(at: number): string {
  return DateTime.fromMillis(at, { zone: MARKET_ZONE }).toISODate() ?? '';
}

/** True when `value` is a real calendar date written `yyyy-MM-dd`. */
export function isIsoDate(value: unknown): value is string {
  return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && DateTime.fromISO(value, { zone: MARKET_ZONE }).isValid;
}

/**
 * Days to expiry as options traders count them: whole calendar days from the New York date
 * of `at` to the expiry date (an option expiring today has DTE 0).
 */
export function daysToExpiry(expiry: string, at: number): number {
  const today = DateTime.fromMillis(at, { zone: MARKET_ZONE }).startOf('day');
  const exp = DateTime.fromISO(expiry, { zone: MARKET_ZONE }).startOf('day');
  return Math.round(exp.diff(today, 'days').days);
}

/** A duration written the way the audit trail shows it: `5m0s`, `1h30m0s`, `0s`. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
}
