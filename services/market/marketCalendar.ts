import { DateTime } from 'luxon';
import { MARKET_ZONE, isIsoDate, marketDate } from './time.js';
import { StrategyLifecycleError } from '../../machines/errors.js';

/**
 * NYSE full-day closures, 2025-2028, keyed `yyyy-MM-dd` (New York date).
 *
 * Source: NYSE's published "Holidays and Trading Hours" schedule
 * (https://www.nyse.com/markets/hours-calendars), which follows these rules:
 * New Year's Day, Martin Luther King Jr. Day (3rd Mon Jan), Washington's Birthday (3rd Mon Feb),
 * Good Friday, Memorial Day (last Mon May), Juneteenth (Jun 19), Independence Day (Jul 4),
 * Labor Day (1st Mon Sep), Thanksgiving Day (4th Thu Nov), Christmas Day (Dec 25).
 * A Saturday holiday is observed the Friday before, EXCEPT New Year's Day: a Saturday Jan 1 is
 * not observed at all (Dec 31 stays a trading day). A Sunday holiday is observed the Monday after.
 * Besides these, the exchange can close for one-off events (listed with a comment).
 *
 * tests/services/market-calendar.test.ts recomputes the rule-based days independently and
 * compares them with this table for every covered year. See docs/market-time.md to add a year.
 */
const HOLIDAYS: Readonly<Record<string, string>> = Object.freeze({
  // 2025
  '2025-01-01': "New Year's Day",
  // One-off closure: national day of mourning for former President Jimmy Carter (NYSE notice, Dec 2024).
  '2025-01-09': 'National Day of Mourning for President Jimmy Carter',
  '2025-01-20': 'Martin Luther King Jr. Day',
  '2025-02-17': "Washington's Birthday",
  '2025-04-18': 'Good Friday',
  '2025-05-26': 'Memorial Day',
  '2025-06-19': 'Juneteenth National Independence Day',
  '2025-07-04': 'Independence Day',
  '2025-09-01': 'Labor Day',
  '2025-11-27': 'Thanksgiving Day',
  '2025-12-25': 'Christmas Day',
  // 2026
  '2026-01-01': "New Year's Day",
  '2026-01-19': 'Martin Luther King Jr. Day',
  '2026-02-16': "Washington's Birthday",
  '2026-04-03': 'Good Friday',
  '2026-05-25': 'Memorial Day',
  '2026-06-19': 'Juneteenth National Independence Day',
  '2026-07-03': 'Independence Day (observed)', // Jul 4 is a Saturday
  '2026-09-07': 'Labor Day',
  '2026-11-26': 'Thanksgiving Day',
  '2026-12-25': 'Christmas Day',
  // 2027
  '2027-01-01': "New Year's Day",
  '2027-01-18': 'Martin Luther King Jr. Day',
  '2027-02-15': "Washington's Birthday",
  '2027-03-26': 'Good Friday',
  '2027-05-31': 'Memorial Day',
  '2027-06-18': 'Juneteenth National Independence Day (observed)', // Jun 19 is a Saturday
  '2027-07-05': 'Independence Day (observed)', // Jul 4 is a Sunday
  '2027-09-06': 'Labor Day',
  '2027-11-25': 'Thanksgiving Day',
  '2027-12-24': 'Christmas Day (observed)', // Dec 25 is a Saturday
  // 2028 (Jan 1 is a Saturday: not observed, so 2027-12-31 is a trading day)
  '2028-01-17': 'Martin Luther King Jr. Day',
  '2028-02-21': "Washington's Birthday",
  '2028-04-14': 'Good Friday',
  '2028-05-29': 'Memorial Day',
  '2028-06-19': 'Juneteenth National Independence Day',
  '2028-07-04': 'Independence Day',
  '2028-09-04': 'Labor Day',
  '2028-11-23': 'Thanksgiving Day',
  '2028-12-25': 'Christmas Day',
});

/**
 * NYSE early closes (13:00 ET), same source. Rules: the day after Thanksgiving; Christmas Eve
 * (Dec 24) when it is a Monday-Thursday trading day; July 3 when it is a Monday-Thursday trading
 * day (a Friday Jul 3 is the observed Independence Day; in 2025 Jul 4 was a Friday and Thursday
 * Jul 3 closed early).
 */
const EARLY_CLOSES: Readonly<Record<string, string>> = Object.freeze({
  '2025-07-03': 'Independence Day eve',
  '2025-11-28': 'Day after Thanksgiving',
  '2025-12-24': 'Christmas Eve',
  '2026-11-27': 'Day after Thanksgiving',
  '2026-12-24': 'Christmas Eve',
  '2027-11-26': 'Day after Thanksgiving',
  '2028-07-03': 'Independence Day eve',
  '2028-11-24': 'Day after Thanksgiving',
});

const COVERED = Object.freeze({ from: 2025, to: 2028 } as const);
const OPEN = { hour: 9, minute: 30 } as const;
const CLOSE = { hour: 16, minute: 0 } as const;
const EARLY_CLOSE = { hour: 13, minute: 0 } as const;

/**
 * Thrown when a date falls outside the years the calendar has data for: the calendar never guesses.
 *
 * @example
 * ```ts
 * try { marketCalendar.isTradingDay('2031-01-02'); }
 * catch (e) { if (e instanceof CalendarRangeError) console.log(e.date, e.covered); } // '2031-01-02' { from: 2025, to: 2028 }
 * ```
 */
export class CalendarRangeError extends StrategyLifecycleError {
  override readonly name = 'CalendarRangeError';
  /** The offending New York date, `yyyy-MM-dd`. */
  readonly date: string;
  /** The years (inclusive) the calendar covers. */
  readonly covered: { readonly from: number; readonly to: number };

  constructor(date: string, covered: { from: number; to: number } = COVERED) {
    super(`${date} is outside the market calendar (covers ${covered.from}-${covered.to})`);
    this.date = date;
    this.covered = Object.freeze({ from: covered.from, to: covered.to });
  }
}

/**
 * One regular or early-close NYSE trading session.
 *
 * @example
 * ```ts
 * const s: MarketSession = marketCalendar.session('2026-11-27')!;
 * // { date: '2026-11-27', open: <14:30Z>, close: <18:00Z>, earlyClose: true }
 * ```
 */
export interface MarketSession {
  /** New York trading date, `yyyy-MM-dd`. */
  date: string;
  /** Opening bell (09:30 ET), epoch ms. */
  open: number;
  /** Closing bell (16:00 ET, or 13:00 ET on an early close), epoch ms. */
  close: number;
  /** True when the market closes at 13:00 ET. */
  earlyClose: boolean;
}

/** The value as it should appear in an error message. */
function show(value: unknown): string {
  try {
    return typeof value === 'string' ? JSON.stringify(value) : String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Validates input and returns its New York date, throwing TypeError / CalendarRangeError. */
function toDate(date: string | number): DateTime {
  let iso: string;
  if (typeof date === 'number' && Number.isFinite(date)) iso = marketDate(date);
  else if (isIsoDate(date)) iso = date;
  else throw new TypeError(`Not a market date (expected 'yyyy-MM-dd' or epoch ms): ${show(date)}`);
  const day = DateTime.fromISO(iso, { zone: MARKET_ZONE });
  if (day.year < COVERED.from || day.year > COVERED.to) throw new CalendarRangeError(iso);
  return day;
}

const isoOf = (day: DateTime): string => day.toISODate() as string;

function isOpen(day: DateTime): boolean {
  return day.weekday <= 5 && !(isoOf(day) in HOLIDAYS);
}

/** Steps one calendar day at a time (range-checked) until a trading day is reached. */
function step(day: DateTime, dir: 1 | -1): DateTime {
  let d = day;
  do d = toDate(isoOf(d.plus({ days: dir })));
  while (!isOpen(d));
  return d;
}

function sessionOf(day: DateTime): MarketSession | null {
  if (!isOpen(day)) return null;
  const date = isoOf(day);
  const earlyClose = date in EARLY_CLOSES;
  return {
    date,
    open: day.set({ ...OPEN, second: 0, millisecond: 0 }).toMillis(),
    close: day.set({ ...(earlyClose ? EARLY_CLOSE : CLOSE), second: 0, millisecond: 0 }).toMillis(),
    earlyClose,
  };
}

/**
 * The NYSE calendar for 2025-2028, in New York time. Dates are `yyyy-MM-dd` strings or epoch ms
 * (read as the New York date of that instant). Any date outside the covered years throws
 * {@link CalendarRangeError}; anything that is not a date throws `TypeError`.
 *
 * @example
 * ```ts
 * marketCalendar.isTradingDay('2026-04-03'); // false (Good Friday)
 * marketCalendar.addTradingDays('2026-11-25', 1); // '2026-11-27'
 * ```
 */
export const marketCalendar = Object.freeze({
  /**
   * First and last year (inclusive) with calendar data.
   *
   * @example
   * ```ts
   * marketCalendar.coveredYears; // { from: 2025, to: 2028 }
   * ```
   */
  coveredYears: COVERED,

  /**
   * True when the NYSE holds a session (regular or early close) on that New York date.
   *
   * @example
   * ```ts
   * marketCalendar.isTradingDay('2026-12-01'); // true
   * marketCalendar.isTradingDay('2026-12-05'); // false (Saturday)
   * ```
   */
  isTradingDay(date: string | number): boolean {
    return isOpen(toDate(date));
  },

  /**
   * The session held on that New York date, or null on weekends and holidays. Open is 09:30 ET,
   * close 16:00 ET (13:00 ET on early closes), as UTC epoch ms that account for DST.
   *
   * @example
   * ```ts
   * new Date(marketCalendar.session('2026-03-09')!.open).toISOString(); // '2026-03-09T13:30:00.000Z'
   * marketCalendar.session('2026-12-25'); // null
   * ```
   */
  session(date: string | number): MarketSession | null {
    return sessionOf(toDate(date));
  },

  /**
   * The name of the full-day closure on that date, or null (weekends and early closes are not holidays).
   *
   * @example
   * ```ts
   * marketCalendar.holiday('2026-07-03'); // 'Independence Day (observed)'
   * marketCalendar.holiday('2026-12-24'); // null (early close, not a closure)
   * ```
   */
  holiday(date: string | number): string | null {
    return HOLIDAYS[isoOf(toDate(date))] ?? null;
  },

  /**
   * The first session whose close is after `at`: the current session while the market is open
   * (or before today's open), otherwise the next trading day's.
   *
   * @example
   * ```ts
   * marketCalendar.nextSession(Date.parse('2026-11-25T22:00:00Z')).date; // '2026-11-27'
   * ```
   */
  nextSession(at: number): MarketSession {
    if (typeof at !== 'number' || !Number.isFinite(at)) throw new TypeError(`Not an epoch-ms instant: ${show(at)}`);
    let day = toDate(at);
    for (;;) {
      const s = sessionOf(day);
      if (s && s.close > at) return s;
      day = step(day, 1);
    }
  },

  /**
   * The first trading day strictly after `date`.
   *
   * @example
   * ```ts
   * marketCalendar.nextTradingDay('2026-12-24'); // '2026-12-28'
   * ```
   */
  nextTradingDay(date: string): string {
    return isoOf(step(toDate(date), 1));
  },

  /**
   * The last trading day strictly before `date`.
   *
   * @example
   * ```ts
   * marketCalendar.previousTradingDay('2026-04-06'); // '2026-04-02'
   * ```
   */
  previousTradingDay(date: string): string {
    return isoOf(step(toDate(date), -1));
  },

  /**
   * Moves `n` trading days from `date` (n may be negative): the n-th trading day after it
   * (n > 0) or before it (n < 0). With n = 0, `date` itself if it is a trading day, else the next one.
   *
   * @example
   * ```ts
   * marketCalendar.addTradingDays('2026-11-25', 2); // '2026-11-30'
   * marketCalendar.addTradingDays('2026-11-30', -2); // '2026-11-25'
   * ```
   */
  addTradingDays(date: string, n: number): string {
    if (!Number.isInteger(n)) throw new TypeError(`Not a whole number of trading days: ${show(n)}`);
    let day = toDate(date);
    if (n === 0) return isoOf(isOpen(day) ? day : step(day, 1));
    for (let i = 0; i < Math.abs(n); i++) day = step(day, n > 0 ? 1 : -1);
    return isoOf(day);
  },

  /**
   * Every trading day from `from` to `to`, both inclusive, in order (empty when `from` > `to`).
   *
   * @example
   * ```ts
   * marketCalendar.tradingDays('2026-11-25', '2026-11-30'); // ['2026-11-25', '2026-11-27', '2026-11-30']
   * ```
   */
  tradingDays(from: string, to: string): string[] {
    const end = toDate(to);
    const out: string[] = [];
    for (let d = toDate(from); d <= end; d = d.plus({ days: 1 })) if (isOpen(d)) out.push(isoOf(d));
    return out;
  },
});
