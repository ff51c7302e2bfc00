import { fromCallback, type EventObject } from 'xstate';
import type { StrategyEvent } from '../../machines/events.js';
import { clockOfActor, MAX_TIMER_MS, type Clock, type TimerHandle } from './clock.js';
import { marketCalendar, type MarketSession } from './marketCalendar.js';
import type { StrategyTarget } from './strategyTarget.js';
import { marketDate } from './time.js';

/** Re-exported where market time has always offered it; defined with the clock that needs it. */
export { MAX_TIMER_MS } from './clock.js';

/**
 * Calls `fn` once when `clock` reaches `at` (epoch ms), or at once (0 ms timer) if `at` has
 * passed. Waits longer than {@link MAX_TIMER_MS} are split into several timers, and a timer that
 * ends while `clock.now()` is still before `at` (the wall clock was stepped back meanwhile) waits
 * on: the instant is the clock's, never early. Returns the cancel function.
 *
 * @example
 * ```ts
 * const cancel = scheduleAt(clock, Date.parse('2026-11-27T14:30:00Z'), () => console.log('open'));
 * cancel(); // nothing fires
 * ```
 */
export function scheduleAt(clock: Clock, at: number, fn: () => void): () => void {
  let handle: TimerHandle = undefined;
  let cancelled = false;
  const arm = (): void => {
    if (cancelled) return;
    const wait = at - clock.now();
    if (wait > MAX_TIMER_MS) handle = clock.setTimeout(arm, MAX_TIMER_MS);
    else handle = clock.setTimeout(() => (cancelled ? undefined : at > clock.now() ? arm() : fn()), Math.max(0, wait));
  };
  arm();
  return () => {
    cancelled = true;
    if (handle !== undefined) clock.clearTimeout(handle);
  };
}

/** Something that rings at an instant: a market bell, a window boundary, a calendar notice. */
export interface Bell {
  /** Epoch ms. */
  at: number;
}

/** What {@link scheduleBells} and every scheduler built on it return. */
export interface BellSchedule<B extends Bell> {
  /** Cancels the pending timer; nothing rings afterwards. Safe to call twice. */
  stop(): void;
  /** The bell armed now, or null when stopped or when nothing is left to ring. */
  readonly next: B | null;
  /**
   * Rings now, as its timer would, the armed bell if it is before `upTo` and has passed (its timer
   * not run yet: a late wake, where another schedule's timer ran first). Does nothing otherwise.
   */
  ringDue(upTo: number): void;
}

/** Options of {@link scheduleBells}. */
export interface BellScheduleOptions<B extends Bell> {
  clock: Clock;
  /** The first bell at or after `from` (epoch ms), or null when there is none. Pure. */
  nextBell: (from: number) => B | null;
  /** Delivers a bell. A throw is passed to `onError`; the schedule goes on. */
  ring: (bell: B) => void;
  /** Receives failures of `nextBell` (e.g. `CalendarRangeError` past 2028) and of `ring`. Default: console.error. */
  onError?: (error: unknown) => void;
  /**
   * The bells to ring when a timer fired late and several have passed (oldest first in, in the
   * order to ring out): default all of them. A schedule whose bells supersede each other keeps
   * the latest of each kind (the market clock: the latest close, the latest open, in time order).
   */
  coalesce?: (passed: readonly B[]) => readonly B[];
}

/** Most bells a late timer looks back over (a process asleep for months has a few per day). */
const MAX_PASSED = 10_000;

/**
 * The latest bell of each key among `passed`, in time order: what a late wake rings when bells of
 * one key supersede each other.
 */
export function latestOfEach<B extends Bell>(passed: readonly B[], keyOf: (bell: B) => string): B[] {
  const latest = new Map<string, B>();
  for (const bell of passed) latest.set(keyOf(bell), bell);
  return [...latest.values()].sort((a, b) => a.at - b.at);
}

const reportToConsole = (error: unknown): void => console.error('strategy-lifecycle scheduler:', error);

/**
 * Rings bells one at a time on a clock: arms a single timer for the next bell, rings it, then
 * looks up the one after. A timer that fires late (a process asleep, a stalled event loop), after
 * later bells have passed, rings those too, in order, at once (or only the latest of each kind
 * with `coalesce`), so none is lost and what holds now is the last thing rung. A timer callback never throws:
 * a throwing callback would leave a simulated clock unable to flush.
 *
 * @throws whatever `nextBell` throws for the first lookup (e.g. `CalendarRangeError`); later
 * failures go to `onError`.
 *
 * @example
 * ```ts
 * const schedule = scheduleBells({ clock, nextBell: nextMarketBell, ring: (bell) => console.log(bell.type) });
 * schedule.stop();
 * ```
 */
export function scheduleBells<B extends Bell>(options: BellScheduleOptions<B>): BellSchedule<B> {
  const { clock, nextBell, ring } = options;
  const onError = options.onError ?? reportToConsole;
  let next: B | null = null;
  let cancel: (() => void) | null = null;
  let stopped = false;
  const arm = (from: number, initial = false): void => {
    try {
      next = nextBell(from);
    } catch (error) {
      next = null;
      // A schedule that cannot even start is the caller's mistake: say so at once.
      if (initial) throw error;
      onError(error);
    }
    if (next === null || stopped) return;
    const armed = next;
    cancel = scheduleAt(clock, armed.at, () => fire(armed));
  };
  /** Rings `armed` and every bell passed since (see `coalesce`), then arms the next. */
  const fire = (armed: B): void => {
    cancel = null;
    let due: readonly B[] = [armed];
    try {
      const passed = passedSince(armed, nextBell, clock.now());
      due = passed.length > 1 && options.coalesce ? options.coalesce(passed) : passed;
    } catch (error) {
      onError(error);
    }
    for (const bell of due) {
      if (stopped) return;
      next = bell;
      try {
        ring(bell);
      } catch (error) {
        onError(error);
      }
    }
    if (!stopped) arm(Math.max((due.at(-1) ?? armed).at + 1, clock.now()));
  };
  arm(clock.now(), true);
  return {
    ringDue(upTo) {
      const armed = next;
      if (stopped || cancel === null || armed === null || armed.at >= upTo || armed.at > clock.now()) return;
      cancel();
      fire(armed);
    },
    stop() {
      stopped = true;
      next = null;
      cancel?.();
      cancel = null;
    },
    get next() {
      return next;
    },
  };
}

/**
 * `bell` and every bell that has passed since, up to `now`, oldest first: one when its timer fired
 * on time; more when it fired late (a process suspended or stalled, a wall clock stepped forward).
 */
function passedSince<B extends Bell>(bell: B, nextBell: (from: number) => B | null, now: number): B[] {
  const passed = [bell];
  for (let after = nextBell(bell.at + 1); after !== null && after.at <= now && passed.length < MAX_PASSED; after = nextBell(after.at + 1))
    passed.push(after);
  return passed;
}

/** The two calendar lookups the schedulers need; {@link marketCalendar} itself is one. */
export type SessionSource = Pick<typeof marketCalendar, 'session' | 'nextSession'>;

/**
 * Moves a `yyyy-MM-dd` date by whole calendar days (plain date arithmetic, no time zone).
 *
 * @example
 * ```ts
 * addCalendarDays('2026-12-18', -21); // '2026-11-27'
 * ```
 */
export function addCalendarDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/**
 * {@link marketCalendar}'s `session` and `nextSession` with each date's session computed once.
 * The calendar builds every session with time-zone arithmetic (tens of microseconds each); a
 * scheduler or a simulation asks for the same few dates over and over. Same answers, same errors.
 *
 * @example
 * ```ts
 * const sessions = createSessionCache();
 * nextMarketBell(clock.now(), sessions);
 * ```
 */
export function createSessionCache(): SessionSource {
  const known = new Map<string, MarketSession | null>();
  const session = (date: string | number): MarketSession | null => {
    // Anything but a finite instant or a date string goes to the calendar, which throws its TypeError.
    const key = typeof date === 'number' && Number.isFinite(date) ? marketDate(date) : date;
    if (typeof key !== 'string') return marketCalendar.session(key);
    let s = known.get(key);
    if (s === undefined) known.set(key, (s = marketCalendar.session(key)));
    return s;
  };
  return {
    session,
    nextSession(at: number): MarketSession {
      if (typeof at !== 'number' || !Number.isFinite(at)) return marketCalendar.nextSession(at); // throws its TypeError
      for (let date = marketDate(at); ; date = addCalendarDays(date, 1)) {
        const s = session(date);
        if (s && s.close > at) return s;
      }
    },
  };
}

/** MARKET_OPEN or MARKET_CLOSE, exactly as a strategy accepts it (no payload). */
export type MarketBellEvent = { type: 'MARKET_OPEN' } | { type: 'MARKET_CLOSE' };

/** One opening or closing bell of a NYSE session. */
export interface MarketBell extends Bell {
  type: MarketBellEvent['type'];
  session: MarketSession;
}

/**
 * The first opening or closing bell at or after `at`: 09:30 ET opens, 16:00 ET closes (13:00 on
 * early closes), trading days only, as UTC instants that follow DST.
 *
 * @example
 * ```ts
 * nextMarketBell(Date.parse('2026-11-27T15:00:00Z')); // { type: 'MARKET_CLOSE', at: <2026-11-27T18:00Z>, ... }
 * ```
 * @throws {CalendarRangeError} when the next session is outside the calendar's years.
 */
export function nextMarketBell(at: number, sessions: SessionSource = marketCalendar): MarketBell {
  const session = sessions.nextSession(at - 1); // its close is >= at
  return session.open >= at ? { type: 'MARKET_OPEN', at: session.open, session } : { type: 'MARKET_CLOSE', at: session.close, session };
}

/** Where bells go: one strategy, many, a coordinator. The session is for context, not the payload. */
export type MarketClockTarget = (event: MarketBellEvent, session: MarketSession) => void;

/** Options of {@link startMarketClock}. */
export interface MarketClockOptions {
  /** The time source: a simulated clock in tests and simulations, the real clock in production. */
  clock: Clock;
  target: MarketClockTarget;
  /** Failures of the target or the calendar (`CalendarRangeError` after 2028). Default: console.error. */
  onError?: (error: unknown) => void;
  /** Default: a new {@link createSessionCache}. */
  sessions?: SessionSource;
}

/**
 * Sends MARKET_OPEN at 09:30 ET and MARKET_CLOSE at 16:00 ET (13:00 on early closes) on NYSE
 * trading days, one bell at a time on `clock`. Returns `{ stop(), next }`.
 *
 * @example
 * ```ts
 * const clock = createSimulatedClock('2026-11-25T08:00:00-05:00');
 * const bells = startMarketClock({ clock, target: toStrategies([strategy]) });
 * clock.set(Date.parse('2026-11-28T00:00:00-05:00')); // Nov 25 open+close, Nov 27 open+close at 13:00
 * bells.stop();
 * ```
 */
export function startMarketClock(options: MarketClockOptions): BellSchedule<MarketBell> {
  const { clock, target, onError } = options;
  const sessions = options.sessions ?? createSessionCache();
  return scheduleBells<MarketBell>({
    clock,
    nextBell: (from) => nextMarketBell(from, sessions),
    ring: (bell) => target({ type: bell.type }, bell.session),
    // After a late wake: the latest close (the day it ends is over for ANALYZING strategies), then
    // the latest open if it came after it: not one bell per day slept through.
    coalesce: (passed) => latestOfEach(passed, (bell) => bell.type),
    ...(onError ? { onError } : {}),
  });
}

/** Input of the {@link marketClock} actor. */
export interface MarketClockInput {
  /** Where the bells go; default: back to the parent actor (`sendBack`). */
  target?: MarketClockTarget;
  /** Default: real time. XState keeps the actor system's clock private: pass the clock here. */
  clock?: Clock;
  onError?: (error: unknown) => void;
}

/**
 * The market clock as an XState callback actor, so the inspector sees it: invoke it from a parent
 * machine and MARKET_OPEN / MARKET_CLOSE come back to the parent (or go to `input.target`).
 * It runs on `input.clock` (real time by default).
 *
 * @example
 * ```ts
 * const coordinator = setup({ actors: { marketClock } }).createMachine({
 *   invoke: { src: 'marketClock', input: { clock } },
 *   on: { MARKET_OPEN: { actions: () => console.log('open') } },
 * });
 * createActor(coordinator, { clock }).start();
 * ```
 */
export const marketClock = fromCallback<EventObject, MarketClockInput | undefined>(({ input, sendBack, self }) => {
  const schedule = startMarketClock({
    clock: input?.clock ?? clockOfActor(self),
    target: input?.target ?? ((event) => sendBack(event)),
    ...(input?.onError ? { onError: input.onError } : {}),
  });
  return () => schedule.stop();
});

/**
 * A target that triggers each strategy in turn: a fixed list, or a function read at every event
 * (strategies added later receive the next bell).
 *
 * @example
 * ```ts
 * startMarketClock({ clock, target: toStrategies(() => registry.values()) });
 * ```
 */
export function toStrategies(strategies: Iterable<StrategyTarget> | (() => Iterable<StrategyTarget>)): (event: StrategyEvent) => void {
  return (event) => {
    const list = typeof strategies === 'function' ? strategies() : strategies;
    for (const strategy of list) strategy.trigger(event);
  };
}
