import { DateTime } from 'luxon';
import { CalendarRangeError } from '../services/market/marketCalendar.js';
import { MARKET_ZONE } from '../services/market/time.js';
import { windowInstants, type TimeWindow, type WindowInstant } from '../services/market/timeWindows.js';
import type { EntryGuard } from './types.js';
import { eventTime } from './types.js';

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
/** A weekday name as used by {@link isTradingWeekday}. */
export type Weekday = (typeof WEEKDAYS)[number];

function minutesOf(hhmm: string): number {
  const match = /^(\d{2}):(\d{2})$/.exec(hhmm);
  if (!match) throw new RangeError(`time "${hhmm}" is not HH:mm`);
  return Number(match[1]) * 60 + Number(match[2]);
}

/**
 * Entry rule: the event happens inside `[start, end)` New York time, on a trading day. On an
 * early-close day the window is clipped as the window bells clip it (it ends as far before the
 * early close as it ends before 16:00 on a full day: 14:30 -> 11:30 on a 13:00 close), and on a
 * weekend or holiday there is none. Outside the NYSE calendar's years only the clock time is checked.
 *
 * @example
 * ```ts
 * isInsideEntryWindow({ start: '10:30', end: '14:30' });
 * ```
 */
export function isInsideEntryWindow(window: { start: string; end: string }): EntryGuard {
  const from = minutesOf(window.start);
  const to = minutesOf(window.end);
  const asWindow: readonly TimeWindow[] = [{ name: 'entry', kind: 'entry', start: window.start, end: window.end }];
  return {
    name: 'isInsideEntryWindow',
    description: `entry between ${window.start} and ${window.end} ET`,
    check: (_context, event) => {
      const at = eventTime(event);
      const t = DateTime.fromMillis(at, { zone: MARKET_ZONE });
      const shown = t.toFormat('HH:mm');
      let today: WindowInstant[] | undefined;
      try {
        today = windowInstants(t.toISODate() ?? '', asWindow);
      } catch (error) {
        if (!(error instanceof CalendarRangeError)) throw error;
      }
      if (today === undefined) {
        const minute = t.hour * 60 + t.minute;
        return minute >= from && minute < to ? null : `${shown} ET is outside the entry window ${window.start}-${window.end} ET`;
      }
      const open = today[0];
      if (!open) return `${t.toISODate()} has no entry window: the market is closed that day or closes before ${window.start} ET`;
      if (at >= open.start && at < open.end) return null;
      const until = DateTime.fromMillis(open.end, { zone: MARKET_ZONE }).toFormat('HH:mm');
      return open.clipped
        ? `${shown} ET is outside the entry window ${window.start}-${until} ET (clipped for the early close)`
        : `${shown} ET is outside the entry window ${window.start}-${window.end} ET`;
    },
  };
}

/**
 * Entry rule: the VIX level carried by ENTRY_CONDITIONS_MET is within `[min, max]`.
 *
 * @example
 * ```ts
 * isVixInRange({ min: 12, max: 35 });
 * ```
 */
export function isVixInRange(range: { min: number; max: number }): EntryGuard {
  return {
    name: 'isVixInRange',
    description: `VIX between ${range.min} and ${range.max}`,
    check: (_context, event) => {
      if (event.type !== 'ENTRY_CONDITIONS_MET' || typeof event.vix !== 'number') return 'ENTRY_CONDITIONS_MET has no vix';
      return event.vix >= range.min && event.vix <= range.max ? null : `VIX ${event.vix} is outside ${range.min}-${range.max}`;
    },
  };
}

/**
 * Entry rule: the New York weekday of the event is one of `days`.
 *
 * @example
 * ```ts
 * isTradingWeekday({ days: ['Fri'] }); // Friday-only 0DTE
 * ```
 */
export function isTradingWeekday(options: { days: readonly Weekday[] }): EntryGuard {
  return {
    name: 'isTradingWeekday',
    description: `entry on ${options.days.join(', ')}`,
    check: (_context, event) => {
      const day = WEEKDAYS[DateTime.fromMillis(eventTime(event), { zone: MARKET_ZONE }).weekday - 1];
      return options.days.includes(day) ? null : `${day} is not an entry day (${options.days.join(', ')})`;
    },
  };
}
