import { DateTime } from 'luxon';
import { fromCallback, type EventObject } from 'xstate';
import { clockOfActor, type Clock } from './clock.js';
import { CalendarRangeError, marketCalendar } from './marketCalendar.js';
import { scheduleBells, type Bell, type BellSchedule } from './marketClock.js';
import type { NoticeTarget } from './strategyTarget.js';
import { MARKET_ZONE, isIsoDate, marketDate } from './time.js';
import { StrategyLifecycleError } from '../../machines/errors.js';

/** An earnings release of one underlying, or an FOMC decision day, from the user's file. */
export type MarketEvent =
  | { type: 'EARNINGS'; symbol: string; date: string; note?: string; line: number }
  | { type: 'FOMC'; date: string; note?: string; line: number };

/** A loaded, validated calendar, sorted by date. */
export interface EventCalendar {
  /** The file it came from, for messages. */
  source: string;
  events: readonly MarketEvent[];
}

/** One bad line of an event file. */
export interface EventCalendarProblem {
  /** 1-based line in the file (0 when the file as a whole is wrong). */
  line: number;
  reason: string;
}

/**
 * An event file with bad lines: lists every one, with its line number and what is wrong.
 *
 * @example
 * ```ts
 * try { parseEventCalendar(text, 'csv', 'events.csv'); }
 * catch (e) { if (e instanceof EventCalendarError) for (const p of e.problems) console.log(p.line, p.reason); }
 * ```
 */
export class EventCalendarError extends StrategyLifecycleError {
  override readonly name = 'EventCalendarError';
  constructor(
    readonly source: string,
    readonly problems: readonly EventCalendarProblem[],
  ) {
    super(
      `${source}: ${problems.length} bad line${problems.length === 1 ? '' : 's'}\n${problems.map((p) => `  line ${p.line}: ${p.reason}`).join('\n')}`,
    );
  }
}

type Row = { line: number; fields: Record<string, unknown>; problem?: string };

/** A JSON reader that keeps the line of each array element, so problems can name their line. */
function readJson(
  text: string,
  source: string,
): { value: unknown; lines: WeakMap<unknown[], number[]>; repeated: WeakMap<object, Array<{ key: string; line: number }>> } {
  const lines = new WeakMap<unknown[], number[]>();
  /** The names an object gives more than once, with the line of each repeat (JSON.parse would keep the last silently). */
  const repeated = new WeakMap<object, Array<{ key: string; line: number }>>();
  let i = 0;
  let line = 1;
  const fail = (what: string): never => {
    throw new EventCalendarError(source, [{ line, reason: `invalid JSON: ${what}` }]);
  };
  const space = (): void => {
    for (; i < text.length && /\s/.test(text[i]); i++) if (text[i] === '\n') line++;
  };
  const token = (re: RegExp, what: string): string => {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) return fail(`expected ${what} at "${text.slice(i, i + 12)}"`);
    i = re.lastIndex;
    return m[0];
  };
  /** One scalar token as JSON reads it: a bad escape, a raw tab in a string or `012` is a problem on its line, not a bare SyntaxError. */
  const scalar = (re: RegExp, what: string): unknown => {
    const raw = token(re, what);
    try {
      return JSON.parse(raw) as unknown;
    } catch (error) {
      return fail(
        `${raw.length > 40 ? `${raw.slice(0, 40)}...` : raw} is not ${what}: ${(error as Error).message.replace(/ in JSON at position \d+.*$/, '')}`,
      );
    }
  };
  const value = (): unknown => {
    space();
    const c = text[i];
    if (c === '"') return scalar(/"(?:[^"\\\n]|\\.)*"/y, 'a string');
    if (c !== '{' && c !== '[') return scalar(/-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y, 'a value');
    i++;
    const list: unknown[] = [];
    const elementLines: number[] = [];
    const object = Object.create(null) as Record<string, unknown>;
    space();
    if (text[i] === (c === '{' ? '}' : ']')) i++;
    else {
      for (;;) {
        space();
        if (c === '{') {
          const key = scalar(/"(?:[^"\\\n]|\\.)*"/y, 'a property name') as string;
          space();
          token(/:/y, "':'");
          if (Object.prototype.hasOwnProperty.call(object, key)) repeated.set(object, [...(repeated.get(object) ?? []), { key, line }]);
          object[key] = value();
        } else {
          elementLines.push(line);
          list.push(value());
        }
        space();
        if (token(c === '{' ? /[,}]/y : /[,\]]/y, c === '{' ? "',' or '}'" : "',' or ']'") !== ',') break;
      }
    }
    if (c === '{') return object;
    lines.set(list, elementLines);
    return list;
  };
  const parsed = value();
  space();
  if (i < text.length) fail('unexpected text after the end');
  return { value: parsed, lines, repeated };
}

function jsonRows(text: string, source: string): Row[] {
  const { value, lines, repeated } = readJson(text, source);
  // `{ "events": [...], "events": [...] }` (two files pasted together): the first list would be dropped without a word.
  const wrapperTwice = typeof value === 'object' && value !== null ? repeated.get(value)?.find((r) => r.key === 'events') : undefined;
  if (wrapperTwice)
    throw new EventCalendarError(source, [
      { line: wrapperTwice.line, reason: '"events" given twice: only the last list would be read (merge them into one)' },
    ]);
  const list: unknown = Array.isArray(value) ? value : (value as { events?: unknown } | null)?.events;
  if (!Array.isArray(list))
    throw new EventCalendarError(source, [{ line: 1, reason: 'expected an array of events or an object { "events": [...] }' }]);
  const at = lines.get(list) ?? [];
  return (list as unknown[]).map((fields, n): Row => {
    const twice = typeof fields === 'object' && fields !== null ? repeated.get(fields) : undefined;
    if (twice) return { line: at[n], fields: {}, problem: `${twice.map((r) => `"${r.key}"`).join(', ')} given twice in one event` };
    return typeof fields === 'object' && fields !== null && !Array.isArray(fields)
      ? { line: at[n], fields: { ...fields } }
      : { line: at[n], fields: {}, problem: `expected an object { "type", "date", "symbol"? }, got ${JSON.stringify(fields)}` };
  });
}

/** One CSV record: comma-separated, a field may be "double-quoted" ("" is a quote inside). */
function csvFields(text: string): string[] {
  return [...text.matchAll(/(?:^|,)\s*(?:"((?:[^"]|"")*)"|([^,]*))/g)].map((m) =>
    (m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]).trim(),
  );
}

function csvRows(text: string, source: string): Row[] {
  const rows: Row[] = [];
  let header: string[] | null = null;
  text.split(/\r?\n/).forEach((raw, n) => {
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) return;
    const fields = csvFields(raw);
    if (!header) {
      const names = fields.map((f) => f.toLowerCase());
      header = names;
      const twice = names.filter((name, k) => name !== '' && names.indexOf(name) !== k);
      if (twice.length)
        throw new EventCalendarError(source, [{ line: n + 1, reason: `the header names the column ${twice.join(', ')} twice` }]);
      const missing = ['type', 'date'].filter((f) => !names.includes(f));
      if (missing.length)
        throw new EventCalendarError(source, [
          { line: n + 1, reason: `the header must name the columns type,symbol,date (missing ${missing.join(', ')})` },
        ]);
      return;
    }
    const record = Object.create(null) as Record<string, unknown>;
    header.forEach((name, k) => (record[name] = fields[k] === '' ? undefined : fields[k]));
    const row: Row = { line: n + 1, fields: record };
    if (fields.length > header.length)
      row.problem = `${fields.length} columns where the header has ${header.length} (quote a field that holds a comma)`;
    rows.push(row);
  });
  return rows;
}

const KNOWN_FIELDS = ['type', 'symbol', 'date', 'note'];

/** Why one row is not an event, or the event. */
function toEvent(row: Row): MarketEvent | string {
  if (row.problem) return row.problem;
  const f = row.fields;
  const unknown = Object.keys(f).filter((k) => !KNOWN_FIELDS.includes(k) && f[k] !== undefined);
  if (unknown.length)
    return `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} (fields: ${KNOWN_FIELDS.join(', ')})`;
  const type = typeof f.type === 'string' ? f.type.trim().toUpperCase() : '';
  if (type !== 'EARNINGS' && type !== 'FOMC') return `type must be EARNINGS or FOMC, got ${JSON.stringify(f.type ?? '')}`;
  if (!isIsoDate(f.date)) return `date must be a date written yyyy-MM-dd, got ${JSON.stringify(f.date ?? '')}`;
  const date = f.date;
  try {
    if (!marketCalendar.isTradingDay(date)) {
      return `date ${date} is not a trading day (${marketCalendar.holiday(date) ?? DateTime.fromISO(date).toFormat('cccc')})`;
    }
  } catch (error) {
    if (error instanceof CalendarRangeError)
      return `date ${date} is outside the market calendar (${error.covered.from}-${error.covered.to})`;
    throw error;
  }
  if (f.note !== undefined && typeof f.note !== 'string') return 'note must be text';
  const note = f.note !== undefined ? { note: f.note } : {};
  if (type === 'FOMC')
    return f.symbol === undefined || f.symbol === '' ? { type, date, ...note, line: row.line } : 'an FOMC line takes no symbol';
  const symbol = typeof f.symbol === 'string' ? f.symbol.trim().toUpperCase() : '';
  if (!/^[A-Z][A-Z0-9.-]{0,9}$/.test(symbol)) return `symbol must be a ticker such as AAPL or BRK.B, got ${JSON.stringify(f.symbol ?? '')}`;
  return { type, symbol, date, ...note, line: row.line };
}

/**
 * Reads an event file's text. Every bad line is reported at once in one {@link EventCalendarError}.
 * JSON: `[{ "type": "FOMC", "date": "2026-01-28" }, { "type": "EARNINGS", "symbol": "AAPL", "date": "2026-01-29" }]`
 * or `{ "events": [...] }`. CSV: a header `type,symbol,date[,note]`, then one event per line;
 * blank lines and lines starting with `#` are skipped. Dates must be NYSE trading days of the
 * calendar's years; the same event twice is an error.
 *
 * @example
 * ```ts
 * parseEventCalendar('type,symbol,date\nFOMC,,2026-01-28\nEARNINGS,AAPL,2026-01-29\n', 'csv').events.length; // 2
 * ```
 * @throws {EventCalendarError} listing every bad line.
 */
export function parseEventCalendar(text: string, format: 'json' | 'csv', source = `(${format} text)`): EventCalendar {
  const rows = format === 'json' ? jsonRows(text, source) : csvRows(text, source);
  const problems: EventCalendarProblem[] = [];
  const events: MarketEvent[] = [];
  const seen = new Map<string, number>();
  for (const row of rows) {
    const event = toEvent(row);
    if (typeof event === 'string') {
      problems.push({ line: row.line, reason: event });
      continue;
    }
    const key = `${event.type} ${event.type === 'EARNINGS' ? event.symbol : ''} ${event.date}`;
    if (seen.has(key)) problems.push({ line: row.line, reason: `duplicate of line ${seen.get(key)} (${key.replace(/ +/g, ' ')})` });
    else {
      seen.set(key, row.line);
      events.push(event);
    }
  }
  if (problems.length) throw new EventCalendarError(source, problems);
  events.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.line - b.line));
  return { source, events };
}

/** The strategy events a calendar sends. */
export type CalendarStrategyEvent = { type: 'EARNINGS_APPROACHING'; symbol: string; date: string } | { type: 'FOMC_MEETING'; date: string };

/** One notice: when it is sent and what. */
export interface CalendarNotice extends Bell {
  event: CalendarStrategyEvent;
  source: MarketEvent;
  /** The notice's own time, when it passed before the calendar started (it is then sent at the start). */
  lateFrom?: number;
}

/**
 * Whether `strategy` was given the notice `event` at or after `since` (accepted or refused): its
 * trail (what it holds in memory, newest first) has a record of that trigger for the same event.
 *
 * @example
 * ```ts
 * noticedSince(strategy, { type: 'FOMC_MEETING', date: '2026-06-17' }, noticeAt); // true once it had it
 * ```
 */
export function noticedSince(strategy: NoticeTarget, event: CalendarStrategyEvent, since: number): boolean {
  const trail = strategy.getAuditTrail();
  for (let i = trail.length - 1; i >= 0 && trail[i].at >= since; i--) {
    const record = trail[i];
    if (record.trigger !== event.type || record.data.date !== event.date) continue;
    if (event.type === 'FOMC_MEETING' || record.data.symbol === event.symbol) return true;
  }
  return false;
}

/** Options of the notices: how far ahead and at what New York time of day. */
export interface NoticeOptions {
  /** Trading days before the event date; default 1 (0: on the day itself). */
  daysBefore?: number;
  /** `HH:mm` New York time; default 09:35, after every strategy has had the day's MARKET_OPEN. */
  noticeTime?: string;
}

/**
 * Every notice of a calendar, in time order: at `noticeTime` ET, `daysBefore` trading days before
 * each event.
 *
 * @example
 * ```ts
 * calendarNotices(calendar, { daysBefore: 1 })[0]; // FOMC 2026-01-28 -> FOMC_MEETING at 2026-01-27 09:35 ET
 * ```
 */
export function calendarNotices(calendar: EventCalendar, options: NoticeOptions = {}): CalendarNotice[] {
  const daysBefore = options.daysBefore ?? 1;
  const time = options.noticeTime ?? '09:35';
  if (!Number.isInteger(daysBefore) || daysBefore < 0)
    throw new RangeError(`daysBefore must be a whole number of trading days >= 0, got ${String(daysBefore)}`);
  const hm = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(time);
  if (!hm) throw new RangeError(`noticeTime must be HH:mm (New York time), got ${JSON.stringify(time)}`);
  return calendar.events
    .map((source): CalendarNotice => {
      const day = marketCalendar.addTradingDays(source.date, -daysBefore);
      const at = DateTime.fromISO(day, { zone: MARKET_ZONE })
        .set({ hour: Number(hm[1]), minute: Number(hm[2]) })
        .toMillis();
      const event: CalendarStrategyEvent =
        source.type === 'FOMC'
          ? { type: 'FOMC_MEETING', date: source.date }
          : { type: 'EARNINGS_APPROACHING', symbol: source.symbol, date: source.date };
      return { at, event, source };
    })
    .sort((a, b) => a.at - b.at);
}

/**
 * The underlying a strategy trades: `params.underlying` given at creation (kept in its context).
 *
 * @example
 * ```ts
 * underlyingOf(createStrategyActor(machine, { params: { underlying: 'AAPL' } })); // 'AAPL'
 * ```
 */
export function underlyingOf(strategy: Pick<NoticeTarget, 'getSnapshot'>): string | undefined {
  const value = strategy.getSnapshot().context.params?.underlying;
  return typeof value === 'string' && value.trim() !== '' ? value.trim().toUpperCase() : undefined;
}

/**
 * Options of {@link startEventCalendar}. `S` is the receivers' type (a `StrategyActor`, inferred
 * from `strategies`), so `deliver` is given the receiver as it was passed.
 */
export type EventCalendarOptions<S extends NoticeTarget = NoticeTarget> = NoticeOptions & {
  clock: Clock;
  calendar: EventCalendar;
  onError?: (error: unknown) => void;
} & (
    | {
        /** Receivers: FOMC_MEETING goes to all, EARNINGS_APPROACHING to those whose underlying matches. */
        strategies: Iterable<S> | (() => Iterable<S>);
        /** Replaces `strategy.trigger(event)`, e.g. to watch the results. */
        deliver?: (strategy: S, event: CalendarStrategyEvent, source: MarketEvent) => void;
      }
    | { /** Receives each notice once, unrouted. */ target: (event: CalendarStrategyEvent, source: MarketEvent) => void }
  );

/**
 * Sends each calendar notice at its time. A notice whose time passed before the start but whose
 * event is still today or later is sent at once (a restart at 10:00 still suspends for tomorrow's FOMC),
 * except to a strategy whose trail (the records it holds in memory) shows it had that notice since
 * its time: a restart does not undo an operator's RESUME after it.
 *
 * @example
 * ```ts
 * const notices = startEventCalendar({ clock, calendar: loadEventCalendar('events.json'), strategies });
 * notices.stop();
 * ```
 */
export function startEventCalendar<S extends NoticeTarget>(
  options: EventCalendarOptions<S>,
): BellSchedule<Bell & { notices: CalendarNotice[] }> {
  const { clock } = options;
  const startedAt = clock.now();
  const today = marketDate(startedAt);
  // Late notices (their time passed, their event has not) are due at once; past events never, and
  // their notice day is not even looked up (one on the calendar's first day has none inside it).
  const upcoming: EventCalendar = { ...options.calendar, events: options.calendar.events.filter((e) => e.date >= today) };
  const notices = calendarNotices(upcoming, options).map((n) => (n.at < startedAt ? { ...n, at: startedAt, lateFrom: n.at } : n));
  const send = (notice: CalendarNotice): void => {
    if ('target' in options) return options.target(notice.event, notice.source);
    const list = typeof options.strategies === 'function' ? options.strategies() : options.strategies;
    for (const strategy of list) {
      if (notice.event.type === 'EARNINGS_APPROACHING' && underlyingOf(strategy) !== notice.event.symbol) continue;
      // A restart after the notice went out: a strategy that had it (an operator may have resumed
      // it since, or it refused it in ERROR) does not get it again.
      if (notice.lateFrom !== undefined && noticedSince(strategy, notice.event, notice.lateFrom)) continue;
      if (options.deliver) options.deliver(strategy, notice.event, notice.source);
      else strategy.trigger(notice.event);
    }
  };
  return scheduleBells({
    clock,
    nextBell: (from) => {
      const first = notices.find((n) => n.at >= from);
      return first ? { at: first.at, notices: notices.filter((n) => n.at === first.at) } : null;
    },
    // A late wake rings every notice that passed; one whose event is over by now is not sent.
    ring: (bell) => bell.notices.filter((n) => n.source.date >= marketDate(clock.now())).forEach(send),
    ...(options.onError ? { onError: options.onError } : {}),
  });
}

/** Input of the {@link eventCalendar} actor; the clock defaults to real time. */
export type EventCalendarInput = NoticeOptions & { calendar: EventCalendar; clock?: Clock; strategies?: Iterable<NoticeTarget> };

/**
 * {@link startEventCalendar} as an XState callback actor; without `strategies` or `target` in the
 * input, the events go back to the parent.
 *
 * @example
 * ```ts
 * setup({ actors: { eventCalendar } }).createMachine({ invoke: { src: 'eventCalendar', input: { calendar } } });
 * ```
 */
export const eventCalendar = fromCallback<EventObject, EventCalendarInput>(({ input, sendBack, self }) => {
  const clock = input.clock ?? clockOfActor(self);
  const schedule = input.strategies
    ? startEventCalendar({ ...input, clock, strategies: input.strategies })
    : startEventCalendar({ ...input, clock, target: (event) => sendBack(event) });
  return () => schedule.stop();
});
