import { fromCallback, type EventObject } from 'xstate';
import { definitionOf } from '../../machines/createStrategyMachine.js';
import type { StrategyEvent } from '../../machines/events.js';
import type { StrategyState } from '../../machines/states.js';
import type { Position } from '../../machines/types.js';
import type { Clock } from './clock.js';
import { marketCalendar, type MarketSession } from './marketCalendar.js';
import { addCalendarDays, createSessionCache, scheduleAt, type SessionSource } from './marketClock.js';
import type { StrategyActor } from '../runtime/strategyActor.js';
import { daysToExpiry, isIsoDate, marketDate, marketOffsetMinutes } from './time.js';
import { TIME_WINDOWS, TimeWindowError, windowInstants, type TimeWindow } from './timeWindows.js';
import { ExpiredPositionError, StrategyLifecycleError } from '../../machines/errors.js';

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

/** How an exit the monitor sends came about. */
export interface DteExitInfo {
  /** Sent after its time: the monitor saw the position late (a restart), or it waited for the open. */
  late: boolean;
  dueAt: number;
  /** The state it waited in when it fell due (the strategy could not take it there), if it waited. */
  heldIn?: StrategyState;
}

/** Options of {@link startDteMonitor}. */
export interface DteMonitorOptions {
  strategy: StrategyActor;
  /** Default: the strategy's clock. */
  clock?: Clock;
  /** Default: the definition's (`definitionOf(strategy.machine)`); `null` selects the same-day rule. */
  defensiveDte?: number | null;
  /** Windows of the same-day rule; default the variant's in {@link TIME_WINDOWS}, else {@link DEFAULT_SAME_DAY_EXIT}. */
  windows?: readonly TimeWindow[];
  /** The window whose end exits a same-day position; default `manage`. */
  exitWindow?: string;
  /** Failures after start (e.g. an expiry past the calendar's years). Default: console.error. */
  onError?: (error: unknown) => void;
  /** Default: a new {@link createSessionCache}; a simulation shares one across its monitors. */
  sessions?: SessionSource;
  /**
   * Replaces `strategy.trigger(event)`, e.g. to send through a persistent system. `late` says the
   * exit fell due before the monitor could send it (the process was down over it). Also sends the
   * hold of a position that expired while held (SYSTEM_ERROR, or MANUAL_OVERRIDE to ERROR, with
   * `hold`; `late` false): no exit is sent for it.
   */
  send?: (event: StrategyEvent, info: DteExitInfo) => void;
}

/** A running monitor. */
export interface DteMonitorHandle {
  /** Which rule this strategy follows. */
  readonly rule: 'defensiveDte' | 'sameDay';
  /** When the armed exit falls due (epoch ms), or null when no position is watched or it was sent. */
  readonly dueAt: number | null;
  /**
   * The exit just sent was not delivered (its write failed): it is worked out again, now while the
   * market is open, else at the next open, from the state the strategy is in then (a same-day
   * position in ERROR gets EMERGENCY_EXIT, one held for an operator is reported).
   */
  retry(): void;
  stop(): void;
}

const positionKey = (p: Position | null | undefined): string | null => (p ? `${p.expiry ?? ''}@${p.openedAt}` : null);

/** States where a same-day exit falls due with no edge to take it, and the position is flattened instead. */
const SAME_DAY_FLATTENED_IN: readonly StrategyState[] = ['ERROR', 'ADJUSTING', 'SUSPENDED'];

/**
 * Watches one strategy's position and sends its exit signal once per position:
 * DEFENSIVE_EXIT_DTE at {@link defensiveExitInstant}, or for a same-day variant TIME_WINDOW_END
 * (its exit window) at {@link sameDayExitInstant}. It re-arms when the position changes
 * (opened, rolled to a new expiry, closed) by subscribing to the strategy. The event is delivered
 * only in a state that has an edge for it (MANAGING; POSITION_OPEN too for the same-day exit):
 * if it falls due elsewhere (POSITION_OPEN before that day's MARKET_OPEN, ADJUSTING, ERROR,
 * SUSPENDED) it is held and sent as soon as the strategy reaches such a state. A same-day
 * position (it expires at today's close) is not held in ERROR (recovering by itself), ADJUSTING
 * or SUSPENDED while the market is open: it gets EMERGENCY_EXIT then (a recovery could come after
 * the close). An ERROR held for an operator is reported to `onError` instead, and left to them.
 * A position whose expiry date's close has passed (the service was down over its exit and the
 * close, or its exit never filled) gets no exit: an {@link ExpiredPositionError} goes to `onError`
 * once, and the strategy is held in ERROR for an operator, at once (no order waits for the open);
 * one whose exit order works (EXITING, PARTIAL_EXIT) is left to the broker's answer first. The
 * expiry's close is watched by itself too: a strategy holding the position there in a state that
 * waits on no broker answer (ADJUSTING, POSITION_OPEN, SUSPENDED, ERROR) is held then; one waiting
 * on an answer (a `stuck`-tagged state) is held once it leaves for a state that waits on none.
 *
 * @example
 * ```ts
 * const monitor = startDteMonitor({ strategy }); // lt112: DEFENSIVE_EXIT_DTE at the open of the 21-DTE day
 * monitor.dueAt; // epoch ms, once a position with an expiry is held
 * monitor.stop();
 * ```
 * @throws what the first computation throws (e.g. {@link CalendarRangeError} for a held expiry past 2028).
 */
export function startDteMonitor(options: DteMonitorOptions): DteMonitorHandle {
  const { strategy } = options;
  const clock = options.clock ?? strategy.clock;
  const def = definitionOf(strategy.machine);
  // `null` is a setting (the same-day rule), not a missing value: only a foreign machine gets the default 21.
  const defensiveDte = options.defensiveDte !== undefined ? options.defensiveDte : def ? def.defensiveDte : 21;
  const rule: DteMonitorHandle['rule'] = defensiveDte === null ? 'sameDay' : 'defensiveDte';
  const exitWindow = options.exitWindow ?? 'manage';
  const variantWindows = def ? TIME_WINDOWS[def.id] : undefined;
  const windows =
    options.windows ??
    (variantWindows?.some((w) => w.name === exitWindow) ? variantWindows : [{ ...DEFAULT_SAME_DAY_EXIT, name: exitWindow }]);
  const states: readonly StrategyState[] = rule === 'sameDay' ? ['POSITION_OPEN', 'MANAGING'] : ['MANAGING'];
  const onError = options.onError ?? ((error: unknown) => console.error(`dteMonitor ${strategy.id}:`, error));
  const sessions = options.sessions ?? createSessionCache();

  let watched: string | null = null; // the position the timer is for
  let sentFor: string | null = null; // the position whose exit was delivered
  let dueAt: number | null = null;
  let late = false; // the armed exit was due before the monitor saw the position
  let held = false; // fell due outside `states`: deliver on the next entry into one
  let heldIn: StrategyState | undefined; // where it fell due, when it was held
  let lastHeldIn: StrategyState | undefined; // where the last delivery found it (not looked at again there)
  let reported: string | null = null; // the position whose hold for an operator was reported
  let noExpiryReported: string | null = null; // the position reported as having no expiry to count from
  let expiredReported: string | null = null; // the position reported as expired while held
  let sentLate = false; // whether the exit last sent was late (a retry keeps its reason)
  let cancel: (() => void) | null = null;
  let expiryCancel: (() => void) | null = null; // the timer at the watched position's expiry
  let awaitingBroker = false; // expired while an order of it waited on the broker: held once it answers
  let stopped = false;
  let lastState: StrategyState | null = null; // the state seen by the previous check

  const eventFor = (position: Position): StrategyEvent => {
    if (rule === 'sameDay') return { type: 'TIME_WINDOW_END', window: exitWindow };
    const dte = position.expiry ? daysToExpiry(position.expiry, clock.now()) : -1;
    return dte >= 0 ? { type: 'DEFENSIVE_EXIT_DTE', dte } : { type: 'DEFENSIVE_EXIT_DTE' };
  };

  const deliver = (): void => {
    cancel = null;
    const position = strategy.getSnapshot().context.position;
    if (stopped || !position || positionKey(position) !== watched) return;
    const now = clock.now();
    if (hasExpired(position, now)) {
      // An exit order works (EXITING, PARTIAL_EXIT: placed before the close): the broker's answer
      // decides. Its fill closes the position; back in MANAGING without one, the strategy is held then.
      if (strategy.getSnapshot().hasTag('exiting')) {
        held = true;
        awaitingBroker = true;
        return;
      }
      return holdExpired(position, now);
    }
    if (!states.includes(strategy.state)) {
      const waitsForOperator = strategy.state === 'ERROR' && strategy.getSnapshot().context.deadline === null;
      if (rule === 'sameDay' && waitsForOperator && isMarketOpen(now) && reported !== watched) {
        reported = watched; // once per position
        // An ERROR held for an operator (a position mismatch with the broker, the circuit breaker):
        // an exit of what the strategy believes it holds could open the reverse position. Said loudly.
        onError(
          new Error(
            `${strategy.id}: same-day exit time reached in ERROR held for an operator with ${position.quantity} contracts expiring today: ` +
              'not flattened automatically; reconcile with the broker, then EMERGENCY_EXIT or MANUAL_OVERRIDE before the close',
          ),
        );
      }
      if (rule === 'sameDay' && !waitsForOperator && SAME_DAY_FLATTENED_IN.includes(strategy.state) && isMarketOpen(now)) {
        // The position expires at today's close: it cannot wait for ERROR's recovery (30 minutes),
        // an adjustment or a resume, which may come after the close. Flattened now, as the kill switch would.
        const emergency: StrategyEvent = {
          type: 'EMERGENCY_EXIT',
          reason: `same-day exit time reached in ${strategy.state}: flattened before the position expires at today's close`,
        };
        if (strategy.can(emergency)) {
          const info: DteExitInfo = { late, dueAt: dueAt ?? now, heldIn: strategy.state };
          dueAt = null;
          held = false;
          sentFor = watched;
          sentLate = late;
          if (options.send) options.send(emergency, info);
          else strategy.trigger(emergency);
          return;
        }
      }
      // On time, but the strategy could not take it (an exit already late, after a restart, says so instead).
      if (!held && !late) heldIn = strategy.state;
      held = true;
      lastHeldIn = strategy.state;
      return;
    }
    held = false;
    if (!isMarketOpen(now)) {
      // A timer that fired late (a process suspended or stalled past the close), or an exit held
      // until the strategy came back after hours: an order placed now would not fill. The next open.
      late = true;
      dueAt = nowOrNextOpen(now);
      cancel = scheduleAt(clock, dueAt, deliver);
      return;
    }
    const info: DteExitInfo = { late, dueAt: dueAt ?? now, ...(heldIn !== undefined ? { heldIn } : {}) };
    heldIn = undefined;
    dispatch(eventFor(position), info);
  };

  /** Sends the exit of the watched position, once: marked sent (a refused write comes back through `retry`). */
  const dispatch = (event: StrategyEvent, info: DteExitInfo): void => {
    dueAt = null;
    held = false;
    sentFor = watched;
    sentLate = late;
    if (options.send) options.send(event, info);
    else strategy.trigger(event);
  };

  /** True while a regular session is open at `at`. */
  const isMarketOpen = (at: number): boolean => {
    const session = sessions.session(marketDate(at));
    return session !== null && session.open <= at && at < session.close;
  };

  /**
   * The date the position's contracts expire: its expiry; a same-day position without one, the
   * trading day it was opened on, or the next one when opened on a day with no session (a weekend
   * or a holiday, on a simulated clock or a replay). Before, that day itself: it has no session, so
   * the position was held as expired the moment it was opened, while its exit was armed for the
   * next session (see {@link sameDayExitInstant}).
   */
  const expiryOf = (position: Position): string | undefined => {
    if (position.expiry !== undefined || rule !== 'sameDay') return position.expiry;
    let day = marketDate(position.openedAt);
    while (!sessions.session(day)) day = addCalendarDays(day, 1);
    return day;
  };

  /** True once the close of the position's expiry date has passed at `at`: its contracts have expired. */
  const hasExpired = (position: Position, at: number): boolean => {
    const expiry = expiryOf(position);
    return expiry !== undefined && hasExpiredAt(expiry, at, sessions);
  };

  /**
   * The position expired while the strategy held it (the service was down over its exit and the
   * close, or its exit never filled): no exit order, which a broker would refuse or take as the
   * reverse position. Reported once per position to `onError`, and the strategy held in ERROR for
   * an operator (SYSTEM_ERROR with `hold`; in an ERROR that would recover by itself, MANUAL_OVERRIDE
   * to ERROR with `hold`). Nothing pretends the exit was filled: the position stays as it was.
   */
  const holdExpired = (position: Position, now: number): void => {
    const expiry = expiryOf(position) as string;
    dueAt = null;
    held = false;
    heldIn = undefined;
    sentFor = watched;
    sentLate = false;
    const state = strategy.state;
    if (expiredReported !== watched) {
      expiredReported = watched;
      onError(new ExpiredPositionError(strategy.id, expiry, position.quantity, state));
    }
    if (state === 'ERROR' && strategy.getSnapshot().context.deadline === null) return; // held for an operator already
    const reason = `position expired unmanaged: ${position.quantity} contracts expiring ${expiry} were still held in ${state} after that day's close; no exit order sent, held for an operator`;
    const event: StrategyEvent =
      state === 'ERROR'
        ? { type: 'MANUAL_OVERRIDE', target: 'ERROR', reason, operator: 'dteMonitor', hold: true }
        : { type: 'SYSTEM_ERROR', reason, hold: true };
    if (!strategy.can(event)) return;
    if (options.send) options.send(event, { late: false, dueAt: now });
    else strategy.trigger(event);
  };

  /** The instant `expiry`'s contracts expire: its session's close, or the start of that day when it has none (see {@link hasExpiredAt}). */
  const expiresAt = (expiry: string): number => {
    const session = sessions.session(expiry);
    if (session) return session.close;
    const utcMidnight = Date.parse(`${expiry}T00:00:00Z`);
    // New York's offset at UTC midnight (the evening before) is its offset at its own midnight: DST moves at 02:00.
    return utcMidnight - marketOffsetMinutes(utcMidnight) * 60_000;
  };

  /**
   * At the watched position's expiry, whatever the state: one waiting on a broker's answer (a
   * stuck-tagged state: an exit or entry order in flight over the close) gets that answer first,
   * bounded by its stuck deadline, and is held once it leaves for a state that waits on none; any
   * other (ADJUSTING, POSITION_OPEN, SUSPENDED, ERROR, MANAGING with its exit sent and lost) is
   * reported and held now. Before, only MANAGING was looked at, and only when an exit fell due there.
   */
  const expire = (): void => {
    expiryCancel = null;
    const position = strategy.getSnapshot().context.position;
    if (stopped || !position || positionKey(position) !== watched) return;
    const now = clock.now();
    if (!hasExpired(position, now)) return;
    if (strategy.getSnapshot().hasTag('stuck')) {
      awaitingBroker = true;
      return;
    }
    awaitingBroker = false;
    cancel?.();
    cancel = null;
    holdExpired(position, now);
  };

  /** Now while the market is open, else the next open (an order placed after the close would not fill). */
  const nowOrNextOpen = (now: number): number => (isMarketOpen(now) ? now : firstSessionFrom(marketDate(now), now, sessions).open);

  /** Arms an exit already sent once more: now while the market is open, else at the next open. */
  const armAgain = (): void => {
    late = false;
    const now = clock.now();
    const position = strategy.getSnapshot().context.position;
    // An expired position is held at once: no order is placed, so it need not wait for the open.
    if (position && hasExpired(position, now)) {
      dueAt = null;
      cancel = scheduleAt(clock, now, deliver);
      return;
    }
    dueAt = nowOrNextOpen(now);
    cancel = scheduleAt(clock, dueAt, deliver);
  };

  /**
   * Arms the exit of `position`, counted from `from`: an exit already due is sent now while the
   * market is open, else at the next open.
   */
  const arm = (position: Position, from: number): void => {
    const now = clock.now();
    if (hasExpired(position, now)) {
      // Expired before the monitor saw it (the service was down over its close): held at once, from a fresh timer.
      cancel = scheduleAt(clock, now, deliver);
      return;
    }
    if (rule === 'sameDay') {
      dueAt = sameDayExitInstant(expiryOf(position) as string, from, windows, exitWindow, sessions);
    } else if (position.expiry) {
      dueAt = defensiveExitInstant(position.expiry, defensiveDte as number, from, sessions);
    }
    late = dueAt !== null && dueAt < now;
    if (dueAt !== null && dueAt <= now) dueAt = nowOrNextOpen(now);
    if (dueAt !== null) cancel = scheduleAt(clock, dueAt, deliver);
  };

  const check = (): void => {
    const position = strategy.getSnapshot().context.position;
    const key = positionKey(position);
    const state = strategy.state;
    if (rule === 'defensiveDte' && position && !position.expiry && state === 'MANAGING' && noExpiryReported !== key) {
      // Nothing to count the rule's days from: no exit will be sent for it. Said once per position,
      // when it is managed (an entry's partial fills may still bring the expiry).
      noExpiryReported = key;
      onError(
        new DteMonitorError(
          'expiry',
          `missing: ${strategy.id} manages ${position.quantity} contracts with no expiry, so no ${String(defensiveDte)}-DTE exit is armed; ` +
            'give the entry fill its expiry (ORDER_FILLED.expiry), or exit by hand',
        ),
      );
    }
    const entered = states.includes(state) && (lastState === null || !states.includes(lastState));
    lastState = state;
    if (key !== watched) {
      cancel?.();
      cancel = null;
      expiryCancel?.();
      expiryCancel = null;
      awaitingBroker = false;
      held = false;
      heldIn = undefined;
      dueAt = null;
      watched = key;
      if (!position) return;
      const expiry = expiryOf(position);
      if (expiry !== undefined && isIsoDate(expiry) && !hasExpired(position, clock.now()))
        expiryCancel = scheduleAt(clock, expiresAt(expiry), expire);
      if (key === sentFor) return;
      // Counted from the opening fill, so an exit that fell due while the process was down shows as late.
      arm(position, Math.min(position.openedAt, clock.now()));
    } else if (awaitingBroker && !expiryCancel && position && !strategy.getSnapshot().hasTag('stuck')) {
      // The broker answered (or the stuck deadline gave up) without closing the expired position: held now, from a fresh timer.
      awaitingBroker = false;
      expiryCancel = scheduleAt(clock, clock.now(), expire);
    } else if (held && !cancel && states.includes(state)) {
      // Called from inside the strategy's transition: send from a fresh timer, not re-entrantly.
      cancel = scheduleAt(clock, clock.now(), deliver);
    } else if (held && !cancel && rule === 'sameDay' && state !== lastHeldIn && SAME_DAY_FLATTENED_IN.includes(state)) {
      // Held in another state (an exit order stuck in EXITING), then ERROR, ADJUSTING or SUSPENDED:
      // a same-day position is flattened now (or reported), not when the strategy comes back after the close.
      cancel = scheduleAt(clock, clock.now(), deliver);
    } else if (position && key === sentFor && entered && !cancel) {
      // The exit sent for this position ended without closing it (its orders refused until the
      // stuck deadline moved it to ERROR, which recovered to MANAGING): the rule still holds.
      sentFor = null;
      armAgain();
    }
  };

  check();
  const unsubscribe = strategy.subscribe(() => {
    if (stopped) return;
    try {
      check();
    } catch (error) {
      onError(error);
    }
  });
  return {
    rule,
    get dueAt() {
      return dueAt;
    },
    retry() {
      // Only for the position the refused exit was sent for: a position rolled meanwhile has its own exit armed.
      if (stopped || watched === null || sentFor !== watched) return;
      cancel?.();
      cancel = null;
      sentFor = null;
      armAgain();
      late = sentLate;
    },
    stop() {
      stopped = true;
      unsubscribe();
      cancel?.();
      cancel = null;
      expiryCancel?.();
      expiryCancel = null;
      dueAt = null;
    },
  };
}

/**
 * {@link startDteMonitor} as an XState callback actor, for a coordinator machine that invokes one
 * per strategy (the inspector then shows it).
 *
 * @example
 * ```ts
 * setup({ actors: { dteMonitor } }).createMachine({ invoke: { src: 'dteMonitor', input: { strategy } } });
 * ```
 */
export const dteMonitor = fromCallback<EventObject, DteMonitorOptions>(({ input }) => {
  const monitor = startDteMonitor(input);
  return () => monitor.stop();
});
