import { DateTime } from 'luxon';
import type { StrategyEvent } from '../../machines/events.js';
import type { StrategyState } from '../../machines/states.js';
import { CalendarRangeError, marketCalendar, type MarketSession } from '../market/marketCalendar.js';
import { addCalendarDays, type SessionSource } from '../market/marketClock.js';
import { MARKET_ZONE, marketDate } from '../market/time.js';
import { isWindowEventFor, type WindowInstant } from '../market/timeWindows.js';

/** Where the market stands at one instant: what a driver needs to work out what was missed. */
export interface MarketPresent {
  now: number;
  /** The session of today's New York date; null on a weekend or holiday. */
  today: MarketSession | null;
  /** A regular session is open now. */
  isOpen: boolean;
  /** The latest closing bell at or before `now`; null when outside the calendar. */
  lastClose: number | null;
}

/**
 * The market's phase at `now`: today's session, whether it is open, the last close.
 *
 * @example
 * ```ts
 * marketPresent(Date.parse('2026-11-30T15:00:00Z')).isOpen; // true: Monday 10:00 ET
 * ```
 */
export function marketPresent(now: number, sessions: SessionSource = marketCalendar): MarketPresent {
  const today = sessions.session(marketDate(now));
  let lastClose: number | null = null;
  try {
    // Two weeks back always holds a trading day (the longest closure on record is shorter).
    for (let date = marketDate(now), n = 0; n < 14; date = addCalendarDays(date, -1), n++) {
      const session = sessions.session(date);
      if (session && session.close <= now) {
        lastClose = session.close;
        break;
      }
    }
  } catch (error) {
    if (!(error instanceof CalendarRangeError)) throw error;
  }
  return { now, today, isOpen: today !== null && today.open <= now && now < today.close, lastClose };
}

/** Why a strategy is being caught up: after the service was down, or on joining a running day. */
export type CatchUpCause = 'restart' | 'joined' | 'storeFailed';

const at = (ms: number): string => DateTime.fromMillis(ms, { zone: MARKET_ZONE }).toFormat("ccc yyyy-MM-dd HH:mm 'ET'");
const because = (cause: CatchUpCause, what: string): string =>
  cause === 'restart'
    ? `missed while the service was down: ${what}`
    : cause === 'storeFailed'
      ? `sent again: the store refused the write when it was due: ${what}`
      : `added while the day was under way: ${what}`;

/**
 * The one event the present requires of a strategy that was not driven for a while, or null
 * when it is up to date. Missed bells and windows are not replayed: only what still matters now.
 * In order:
 * - ANALYZING or PENDING_ENTRY since before the last close: MARKET_CLOSE (its day is over).
 * - the market is open and the strategy waits for an open it missed (INITIALIZING; POSITION_OPEN
 *   or CLOSED since before today's open): MARKET_OPEN.
 * - the market is open and the strategy is SUSPENDED by the event calendar for a date before
 *   today (`resumeAfter`): RESUME, which the open it missed would have sent.
 * Bells and boundaries due exactly now are left to their own timers (never sent twice), unless
 * `rung` says the window's start has rung already (a strategy that reached READY just after it:
 * an ERROR recovering at the window's first instant).
 * - an entry window ended while it was ANALYZING or PENDING_ENTRY: TIME_WINDOW_END.
 * - a window is open now and the state is the window's audience (READY for an entry window,
 *   POSITION_OPEN for a manage window): TIME_WINDOW_START.
 * The event carries `catchUp`, the reason in trader's words, which the audit record keeps.
 * Call again after each accepted event: one step may lead to the next (MARKET_OPEN, then the
 * entry window's start). The exit of a manage window and the 21-DTE exit are the DTE monitor's.
 *
 * @example
 * ```ts
 * catchUpEvent('INITIALIZING', createdAt, marketPresent(now), todaysWindows, 'restart');
 * // { type: 'MARKET_OPEN', catchUp: 'missed while the service was down: the market opened Mon 2026-11-30 09:30 ET' }
 * ```
 */
export function catchUpEvent(
  state: StrategyState,
  enteredAt: number,
  present: MarketPresent,
  windows: readonly WindowInstant[],
  cause: CatchUpCause,
  resumeAfter?: string,
  /** Whether the start of `window` has rung already (its bell's timer fired). */
  rung?: (window: WindowInstant) => boolean,
): StrategyEvent | null {
  const { now, today, isOpen, lastClose } = present;
  // A bell, window boundary or open due exactly now is rung by its own timer: only what passed is caught up.
  if ((state === 'ANALYZING' || state === 'PENDING_ENTRY') && lastClose !== null && lastClose < now && enteredAt < lastClose) {
    return { type: 'MARKET_CLOSE', catchUp: because(cause, `the market closed ${at(lastClose)}`) };
  }
  const openedBefore = isOpen && today !== null && today.open < now;
  if (openedBefore && (state === 'INITIALIZING' || ((state === 'POSITION_OPEN' || state === 'CLOSED') && enteredAt < today.open))) {
    return { type: 'MARKET_OPEN', catchUp: because(cause, `the market opened ${at(today.open)}`) };
  }
  if (openedBefore && state === 'SUSPENDED' && resumeAfter !== undefined && resumeAfter < today.date) {
    return {
      type: 'RESUME',
      catchUp: because(cause, `the market opened ${at(today.open)}, the first open after the ${resumeAfter} event that suspended it`),
    };
  }
  for (const w of windows) {
    if (w.kind === 'entry' && w.end < now && enteredAt < w.end && isWindowEventFor('TIME_WINDOW_END', w.kind, state)) {
      return { type: 'TIME_WINDOW_END', window: w.name, catchUp: because(cause, `the ${w.name} window ended ${at(w.end)}`) };
    }
  }
  for (const w of windows) {
    if ((w.start < now || (w.start === now && rung?.(w) === true)) && now < w.end && isWindowEventFor('TIME_WINDOW_START', w.kind, state)) {
      return { type: 'TIME_WINDOW_START', window: w.name, catchUp: because(cause, `the ${w.name} window is open since ${at(w.start)}`) };
    }
  }
  return null;
}

/**
 * The reason a late 21-DTE or same-day exit carries (the DTE monitor reports it late).
 *
 * @example
 * ```ts
 * lateExitReason({ type: 'DEFENSIVE_EXIT_DTE', dte: 19 }); // 'missed while the service was down: the defensive exit (DTE rule) fell due at an earlier open'
 * ```
 */
export function lateExitReason(event: StrategyEvent, heldIn?: StrategyState): string {
  const what =
    event.type === 'DEFENSIVE_EXIT_DTE' ? 'the defensive exit (DTE rule) fell due at an earlier open' : 'the same-day exit time passed';
  // Held because the strategy could not take it then (ERROR, ADJUSTING, SUSPENDED): the process ran all along.
  if (heldIn !== undefined) return `held until the strategy could take it: ${what} while it was in ${heldIn}`;
  return because('restart', what);
}
