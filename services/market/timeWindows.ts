import { fromCallback, type EventObject } from 'xstate';
import { StrategyLifecycleError } from '../../machines/errors.js';
import type { StrategyState } from '../../machines/states.js';
import { clockOfActor, type Clock } from './clock.js';
import { marketCalendar } from './marketCalendar.js';
import { createSessionCache, latestOfEach, scheduleBells, type Bell, type BellSchedule, type SessionSource } from './marketClock.js';
import { marketDate } from './time.js';

/**
 * What a window is for. `entry`: flat strategies look for an entry (READY -> ANALYZING at its
 * start, back to READY at its end). `manage`: strategies holding a position (the same-day variant
 * moves POSITION_OPEN -> MANAGING at its start and exits at its end).
 */
export type WindowKind = 'entry' | 'manage';

/** A daily window in New York time, `HH:mm` (24 h), inside the regular session 09:30-16:00. */
export interface TimeWindow {
  /** Sent as the `window` field of TIME_WINDOW_START / TIME_WINDOW_END, e.g. `entry`. */
  name: string;
  kind: WindowKind;
  start: string;
  end: string;
}

/**
 * The windows of each variant, by variant id. The zeroDte entry window matches its
 * `isInsideEntryWindow` guard; its manage window ends 15:45 ET, when the position is exited.
 *
 * @example
 * ```ts
 * TIME_WINDOWS.zeroDte.map((w) => `${w.name} ${w.start}-${w.end}`); // ['entry 10:30-14:30', 'manage 10:30-15:45']
 * ```
 */
export const TIME_WINDOWS: Readonly<Record<string, readonly TimeWindow[]>> = Object.freeze({
  zeroDte: Object.freeze([
    { name: 'entry', kind: 'entry', start: '10:30', end: '14:30' },
    { name: 'manage', kind: 'manage', start: '10:30', end: '15:45' },
  ] as const),
  lt112: Object.freeze([{ name: 'entry', kind: 'entry', start: '10:00', end: '15:00' }] as const),
  strangle: Object.freeze([{ name: 'entry', kind: 'entry', start: '10:00', end: '15:00' }] as const),
});

/**
 * The states each window event means something in (the edge table has a row for it there).
 * Senders that route by state use it so a manage window never ends an entry and vice versa.
 *
 * @example
 * ```ts
 * WINDOW_AUDIENCE.manage.end; // ['POSITION_OPEN', 'MANAGING']
 * ```
 */
export const WINDOW_AUDIENCE: Readonly<
  Record<WindowKind, { readonly start: readonly StrategyState[]; readonly end: readonly StrategyState[] }>
> = Object.freeze({
  entry: { start: ['READY'], end: ['ANALYZING', 'PENDING_ENTRY'] },
  manage: { start: ['POSITION_OPEN'], end: ['POSITION_OPEN', 'MANAGING'] },
});

/**
 * A window table, variant or window that cannot be used; names the variant, window and field.
 *
 * @example
 * ```ts
 * try { windowsFor('weekly'); } catch (e) { if (e instanceof TimeWindowError) console.log(e.variant, e.field); } // 'weekly' 'variant'
 * ```
 */
export class TimeWindowError extends StrategyLifecycleError {
  override readonly name = 'TimeWindowError';
  constructor(
    /** The variant id, when known. */
    readonly variant: string | undefined,
    /** The window's name, or '' for the variant as a whole. */
    readonly window: string,
    /** `variant`, `name`, `kind`, `start` or `end`. */
    readonly field: string,
    readonly problem: string,
  ) {
    super(`time window ${variant ?? '(custom)'}${window ? `.${window}` : ''}: ${field} ${problem}`);
  }
}

const SESSION = { open: 9 * 60 + 30, close: 16 * 60 };

function minutesOf(hhmm: unknown): number | null {
  const m = typeof hhmm === 'string' ? /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm) : null;
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

/**
 * Checks a list of windows; throws {@link TimeWindowError} for the first bad field.
 *
 * @example
 * ```ts
 * validateWindows([{ name: 'entry', kind: 'entry', start: '15:00', end: '10:00' }]); // throws: end must be after start
 * ```
 */
export function validateWindows(windows: readonly TimeWindow[], variant?: string): readonly TimeWindow[] {
  const names = new Set<string>();
  for (const w of windows) {
    // Typed as never-returning so that the checks below narrow what they reject.
    const fail: (field: string, problem: string) => never = (field, problem) => {
      throw new TimeWindowError(variant, typeof w?.name === 'string' ? w.name : '', field, problem);
    };
    if (typeof w?.name !== 'string' || w.name.trim() === '') fail('name', 'must be a non-empty string');
    if (names.has(w.name)) fail('name', 'is used twice');
    names.add(w.name);
    if (w.kind !== 'entry' && w.kind !== 'manage') fail('kind', `must be 'entry' or 'manage', got ${String(w.kind)}`);
    const start = minutesOf(w.start);
    const end = minutesOf(w.end);
    if (start === null) fail('start', `must be HH:mm (New York time), got ${JSON.stringify(w.start)}`);
    if (end === null) fail('end', `must be HH:mm (New York time), got ${JSON.stringify(w.end)}`);
    if (start < SESSION.open || start >= SESSION.close) fail('start', `${w.start} is outside the regular session 09:30-16:00 ET`);
    if (end <= start) fail('end', `${w.end} must be after start ${w.start}`);
    if (end > SESSION.close) fail('end', `${w.end} is after the regular close 16:00 ET`);
  }
  return windows;
}

/**
 * The windows of a variant from `table` (default {@link TIME_WINDOWS}), validated.
 *
 * @example
 * ```ts
 * windowsFor('lt112'); // [{ name: 'entry', kind: 'entry', start: '10:00', end: '15:00' }]
 * ```
 * @throws {TimeWindowError} when the table has no windows for `variantId`.
 */
export function windowsFor(
  variantId: string,
  table: Readonly<Record<string, readonly TimeWindow[]>> = TIME_WINDOWS,
): readonly TimeWindow[] {
  const windows = Object.prototype.hasOwnProperty.call(table, variantId) ? table[variantId] : undefined;
  if (!windows) throw new TimeWindowError(variantId, '', 'variant', `has no time windows (known: ${Object.keys(table).join(', ')})`);
  return validateWindows(windows, variantId);
}

/** One window on one trading day, as UTC instants. */
export interface WindowInstant {
  name: string;
  kind: WindowKind;
  /** New York trading date, `yyyy-MM-dd`. */
  date: string;
  /** Epoch ms. */
  start: number;
  /**
   * Epoch ms. On an early close, a window that would run past it ends as far before the early
   * close as it ends before 16:00 on a full day (15:45 -> 12:45 on a 13:00 close).
   */
  end: number;
  /** True when `end` was moved for an early close. */
  clipped: boolean;
}

/**
 * The windows of one New York date as instants: none on weekends and holidays. On an early-close
 * day a window that would run past the close keeps its margin before the close: the zeroDte manage
 * window, 15 minutes before a full day's 16:00, ends at 12:45 on a 13:00 close, so the exit order
 * is not sent at the bell. A window left with no time before its new end is dropped that day.
 *
 * @example
 * ```ts
 * windowInstants('2026-11-27', TIME_WINDOWS.zeroDte)[1]; // manage: 10:30 ET - 12:45 ET (clipped: true)
 * ```
 * @throws {CalendarRangeError} for a date outside the calendar's years.
 */
export function windowInstants(date: string, windows: readonly TimeWindow[], sessions: SessionSource = marketCalendar): WindowInstant[] {
  const session = sessions.session(date);
  if (!session) return [];
  // Offsets from the 09:30 open: no DST switch ever happens during a session.
  const at = (hhmm: string): number => session.open + ((minutesOf(hhmm) ?? SESSION.open) - SESSION.open) * 60_000;
  const fullDayClose = at('16:00');
  const out: WindowInstant[] = [];
  for (const w of windows) {
    const start = at(w.start);
    const fullDayEnd = at(w.end);
    const clipped = fullDayEnd > session.close;
    const end = clipped ? session.close - (fullDayClose - fullDayEnd) : fullDayEnd;
    if (start >= end) continue;
    out.push({ name: w.name, kind: w.kind, date, start, end, clipped });
  }
  return out;
}

/**
 * The windows open at `at` (start <= at < end) on its New York date.
 *
 * @example
 * ```ts
 * windowsOpenAt(Date.parse('2026-12-04T11:00:00-05:00'), TIME_WINDOWS.zeroDte).map((w) => w.name); // ['entry', 'manage']
 * ```
 */
export function windowsOpenAt(at: number, windows: readonly TimeWindow[], sessions: SessionSource = marketCalendar): WindowInstant[] {
  return windowInstants(marketDate(at), windows, sessions).filter((w) => w.start <= at && at < w.end);
}

/** TIME_WINDOW_START or TIME_WINDOW_END, exactly as a strategy accepts it. */
export type WindowEvent = { type: 'TIME_WINDOW_START'; window: string } | { type: 'TIME_WINDOW_END'; window: string };

/** All window boundaries that fall at one instant (ends first, then starts, in table order). */
export interface WindowBell extends Bell {
  events: Array<{ event: WindowEvent; window: WindowInstant }>;
}

/**
 * The window boundaries at the first instant at or after `from` that has any; null for no windows.
 *
 * @example
 * ```ts
 * nextWindowBell(Date.parse('2026-12-04T10:00:00-05:00'), TIME_WINDOWS.zeroDte)!.events.map((e) => e.event);
 * // [{ type: 'TIME_WINDOW_START', window: 'entry' }, { type: 'TIME_WINDOW_START', window: 'manage' }]
 * ```
 */
export function nextWindowBell(from: number, windows: readonly TimeWindow[], sessions: SessionSource = marketCalendar): WindowBell | null {
  if (windows.length === 0) return null;
  let session = sessions.nextSession(from - 1);
  for (;;) {
    const events: WindowBell['events'] = [];
    let first = Infinity;
    const instants = windowInstants(session.date, windows, sessions);
    for (const kind of ['TIME_WINDOW_END', 'TIME_WINDOW_START'] as const) {
      for (const window of instants) {
        const at = kind === 'TIME_WINDOW_END' ? window.end : window.start;
        if (at < from || at > first) continue;
        if (at < first) events.length = 0;
        first = at;
        events.push({ event: { type: kind, window: window.name }, window });
      }
    }
    if (events.length > 0) return { at: first, events };
    session = sessions.nextSession(session.close);
  }
}

/**
 * True when `event` means something to a strategy in `state` (see {@link WINDOW_AUDIENCE}).
 *
 * @example
 * ```ts
 * isWindowEventFor('TIME_WINDOW_END', 'entry', 'MANAGING'); // false: an entry window never exits a position
 * ```
 */
export function isWindowEventFor(type: WindowEvent['type'], kind: WindowKind, state: StrategyState): boolean {
  const audience = WINDOW_AUDIENCE[kind];
  return (type === 'TIME_WINDOW_START' ? audience.start : audience.end).includes(state);
}

/** Where window events go; `window` says which window and its kind, for routing. */
export type TimeWindowTarget = (event: WindowEvent, window: WindowInstant) => void;

/** Options of {@link startTimeWindows}. */
export interface TimeWindowOptions {
  clock: Clock;
  /** The windows, e.g. `windowsFor('zeroDte')`. */
  windows: readonly TimeWindow[];
  target: TimeWindowTarget;
  onError?: (error: unknown) => void;
  /** Default: a new {@link createSessionCache}. */
  sessions?: SessionSource;
}

/**
 * Sends TIME_WINDOW_START / TIME_WINDOW_END (with the window's name) at each boundary of the
 * windows on every trading day, one instant at a time on `clock`. A scheduler started inside a
 * window sends only its end.
 *
 * @example
 * ```ts
 * const windows = startTimeWindows({ clock, windows: windowsFor('zeroDte'), target: (e) => strategy.trigger(e) });
 * windows.stop();
 * ```
 * @throws {TimeWindowError} for an invalid window.
 */
export function startTimeWindows(options: TimeWindowOptions): BellSchedule<WindowBell> {
  const windows = validateWindows(options.windows);
  const sessions = options.sessions ?? createSessionCache();
  return scheduleBells<WindowBell>({
    clock: options.clock,
    nextBell: (from) => nextWindowBell(from, windows, sessions),
    ring: (bell) => {
      for (const { event, window } of bell.events) options.target(event, window);
    },
    // After a late wake: the latest START and the latest END of each window, in time order; a
    // START whose window also ended while asleep is not rung (a READY strategy sent to ANALYZING
    // after the close, for the END to send it back).
    coalesce: (passed) => {
      const latest = latestOfEach(
        passed.flatMap((bell) => bell.events.map((item): WindowBell => ({ at: bell.at, events: [item] }))),
        (bell) => `${bell.events[0].window.name}:${bell.events[0].event.type}`,
      );
      const endedAt = new Map<string, number>();
      for (const bell of latest) if (bell.events[0].event.type === 'TIME_WINDOW_END') endedAt.set(bell.events[0].window.name, bell.at);
      return latest.filter(
        (bell) => bell.events[0].event.type !== 'TIME_WINDOW_START' || !((endedAt.get(bell.events[0].window.name) ?? -Infinity) > bell.at),
      );
    },
    ...(options.onError ? { onError: options.onError } : {}),
  });
}

/** Input of the {@link timeWindows} actor. */
export interface TimeWindowInput {
  windows: readonly TimeWindow[];
  /** Default: back to the parent actor. */
  target?: TimeWindowTarget;
  /** Default: real time. */
  clock?: Clock;
  onError?: (error: unknown) => void;
}

/**
 * {@link startTimeWindows} as an XState callback actor (visible to the inspector).
 *
 * @example
 * ```ts
 * setup({ actors: { timeWindows } }).createMachine({ invoke: { src: 'timeWindows', input: { windows: TIME_WINDOWS.lt112 } } });
 * ```
 */
export const timeWindows = fromCallback<EventObject, TimeWindowInput>(({ input, sendBack, self }) => {
  const schedule = startTimeWindows({
    clock: input.clock ?? clockOfActor(self),
    windows: input.windows,
    target: input.target ?? ((event) => sendBack(event)),
    ...(input.onError ? { onError: input.onError } : {}),
  });
  return () => schedule.stop();
});
