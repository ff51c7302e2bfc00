/**
 * The DTE rule's instants, as pure functions of a calendar: when a defensive or a same-day exit
 * falls due, when a position's contracts expire, and whether the market is open. The monitor
 * that acts on them is `dteMonitor.ts`.
 */
import type { Position } from '../../machines/types.js';
import { StrategyLifecycleError } from '../../machines/errors.js';
import { marketCalendar, type MarketSession } from './marketCalendar.js';
import { addCalendarDays, type SessionSource } from './marketClock.js';
import { isIsoDate, marketDate, marketOffsetMinutes } from './time.js';
import { TIME_WINDOWS, TimeWindowError, windowInstants, type TimeWindow } from './timeWindows.js';

/**
 * An argument of the DTE rule that cannot be used; names the argument.
 *
 * @example
 * ```ts
 * try { defensiveExitInstant('2026-13-01', 21, 0); } catch (e) { if (e instanceof DteMonitorError) console.log(e.field); } // 'expiry'
 * ```
 */
export class DteMonitorError extends StrategyLifecycleError {
  override readonly name = 'DteMonitorError';
  constructor(
    /** `expiry`, `defensiveDte`, `from`, `date` or `at`. */
    readonly field: string,
    readonly problem: string,
  ) {
    super(`DTE monitor: ${field} ${problem}`);
  }
}

function checkFrom(from: number): void {
  if (typeof from !== 'number' || !Number.isFinite(from))
    throw new DteMonitorError('from', `must be epoch milliseconds, got ${String(from)}`);
}

/** The first session on or after the New York date `date` whose open is at or after `from`. */
function firstSessionFrom(date: string, from: number, sessions: SessionSource): MarketSession {
  const today = marketDate(from);
  for (let day = date > today ? date : today; ; day = addCalendarDays(day, 1)) {
    const session = sessions.session(day);
    if (session && session.open >= from) return session;
  }
}

/**
 * When the defensive exit of a position falls due: the first market open at or after both `from`
 * and the New York day on which its DTE (calendar days to `expiry`) reaches `defensiveDte`.
 * A position already inside the rule at `from` is due at the next open.
 *
 * @example
 * ```ts
 * new Date(defensiveExitInstant('2026-12-18', 21, Date.parse('2026-08-20T15:00:00Z'))).toISOString();
 * // '2026-11-27T14:30:00.000Z': 09:30 ET on 2026-11-27, 21 DTE (an early-close day still opens 09:30)
 * ```
 * @throws {DteMonitorError} for a malformed argument; {@link CalendarRangeError} past the calendar's years.
 */
export function defensiveExitInstant(expiry: string, defensiveDte: number, from: number, sessions: SessionSource = marketCalendar): number {
  if (!isIsoDate(expiry)) throw new DteMonitorError('expiry', `must be a date written yyyy-MM-dd, got ${JSON.stringify(expiry)}`);
  if (!Number.isInteger(defensiveDte) || defensiveDte < 0)
    throw new DteMonitorError('defensiveDte', `must be a whole number of days >= 0, got ${String(defensiveDte)}`);
  checkFrom(from);
  return firstSessionFrom(addCalendarDays(expiry, -defensiveDte), from, sessions).open;
}

/**
 * The window whose end is the same-day exit when a variant names none: 15:45 ET.
 *
 * @example
 * ```ts
 * startDteMonitor({ strategy, windows: [DEFAULT_SAME_DAY_EXIT] });
 * ```
 */
export const DEFAULT_SAME_DAY_EXIT: TimeWindow = Object.freeze({ name: 'manage', kind: 'manage', start: '09:30', end: '15:45' });

/**
 * When a same-day position (a variant with `defensiveDte: null`) is exited: the end of its
 * `exitWindow` (moved before an early close, keeping its margin) on the first trading day at or after `date`, or `from`
 * when that has passed.
 *
 * @example
 * ```ts
 * new Date(sameDayExitInstant('2026-12-04', Date.parse('2026-12-04T15:40:00Z'))).toISOString(); // '2026-12-04T20:45:00.000Z'
 * ```
 * @throws {TimeWindowError} when `windows` has no window named `exitWindow`.
 */
export function sameDayExitInstant(
  date: string,
  from: number,
  windows: readonly TimeWindow[] = TIME_WINDOWS.zeroDte,
  exitWindow = 'manage',
  sessions: SessionSource = marketCalendar,
): number {
  if (!isIsoDate(date)) throw new DteMonitorError('date', `must be a date written yyyy-MM-dd, got ${JSON.stringify(date)}`);
  checkFrom(from);
  const chosen = windows.find((w) => w.name === exitWindow);
  if (!chosen)
    throw new TimeWindowError(
      undefined,
      exitWindow,
      'name',
      `is not one of the windows (${windows.map((w) => w.name).join(', ') || 'none'})`,
    );
  let day = date;
  let session = sessions.session(day);
  while (!session) session = sessions.session((day = addCalendarDays(day, 1)));
  const end = windowInstants(day, [chosen], sessions)[0]?.end ?? session.close;
  return Math.max(end, from);
}

/**
 * True once the close of `expiry`'s session has passed at `at` (for an expiry on a day with no
 * session, from the start of that day: no session trades it): options expiring that day can no longer be traded, and an exit order for
 * them would be refused by a broker, or worse.
 *
 * @example
 * ```ts
 * hasExpiredAt('2026-11-27', Date.parse('2026-11-27T18:30:00Z')); // true: 13:30 ET, after that early close
 * ```
 * @throws {DteMonitorError} for an `expiry` not written yyyy-MM-dd (it is compared as text: before,
 * `02/26/2027` sorted before every ISO date and a position months from expiry was held as expired),
 * or an `at` that is no epoch milliseconds.
 */
export function hasExpiredAt(expiry: string, at: number, sessions: SessionSource = marketCalendar): boolean {
  if (!isIsoDate(expiry)) throw new DteMonitorError('expiry', `must be a date written yyyy-MM-dd, got ${JSON.stringify(expiry)}`);
  if (typeof at !== 'number' || !Number.isFinite(at)) throw new DteMonitorError('at', `must be epoch milliseconds, got ${String(at)}`);
  const today = marketDate(at);
  if (expiry !== today) return expiry < today;
  const session = sessions.session(expiry);
  return session === null || at >= session.close;
}

/**
 * True while a regular session of `sessions` is open at `at`.
 *
 * @example
 * ```ts
 * isMarketOpenAt(Date.parse('2026-12-04T15:00:00Z'), marketCalendar); // true: 10:00 ET on a Friday
 * ```
 */
export function isMarketOpenAt(at: number, sessions: SessionSource): boolean {
  const session = sessions.session(marketDate(at));
  return session !== null && session.open <= at && at < session.close;
}

/**
 * Now while the market is open, else the next open (an order placed after the close would not fill).
 *
 * @example
 * ```ts
 * nowOrNextOpenAt(Date.parse('2026-12-05T15:00:00Z'), marketCalendar); // Monday's 09:30 ET: a Saturday has no session
 * ```
 */
export function nowOrNextOpenAt(now: number, sessions: SessionSource): number {
  return isMarketOpenAt(now, sessions) ? now : firstSessionFrom(marketDate(now), now, sessions).open;
}

/**
 * The date the position's contracts expire: its expiry; a same-day position (`sameDay`) without
 * one, the trading day it was opened on, or the next one when opened on a day with no session (a
 * weekend or a holiday, on a simulated clock or a replay). Before, that day itself: it has no
 * session, so the position was held as expired the moment it was opened, while its exit was armed
 * for the next session (see {@link sameDayExitInstant}).
 *
 * @example
 * ```ts
 * positionExpiry({ quantity: 1, openedAt: Date.parse('2026-12-05T15:00:00Z') }, true, marketCalendar); // '2026-12-07'
 * ```
 */
export function positionExpiry(position: Position, sameDay: boolean, sessions: SessionSource): string | undefined {
  if (position.expiry !== undefined || !sameDay) return position.expiry;
  let day = marketDate(position.openedAt);
  while (!sessions.session(day)) day = addCalendarDays(day, 1);
  return day;
}

/**
 * True once the close of the position's expiry date ({@link positionExpiry}) has passed at `at`:
 * its contracts have expired.
 *
 * @example
 * ```ts
 * hasPositionExpired(position, clock.now(), false, marketCalendar);
 * ```
 */
export function hasPositionExpired(position: Position, at: number, sameDay: boolean, sessions: SessionSource): boolean {
  const expiry = positionExpiry(position, sameDay, sessions);
  return expiry !== undefined && hasExpiredAt(expiry, at, sessions);
}

/**
 * The instant `expiry`'s contracts expire: its session's close, or the start of that day when it
 * has none (see {@link hasExpiredAt}).
 *
 * @example
 * ```ts
 * new Date(expiryInstant('2026-11-27', marketCalendar)).toISOString(); // '2026-11-27T18:00:00.000Z': the early close
 * ```
 */
export function expiryInstant(expiry: string, sessions: SessionSource): number {
  const session = sessions.session(expiry);
  if (session) return session.close;
  const utcMidnight = Date.parse(`${expiry}T00:00:00Z`);
  // New York's offset at UTC midnight (the evening before) is its offset at its own midnight: DST moves at 02:00.
  return utcMidnight - marketOffsetMinutes(utcMidnight) * 60_000;
}
