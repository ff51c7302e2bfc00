/**
 * The DTE monitor: watches one strategy's position and sends its defensive or same-day exit when
 * the rule's instant (see `dteRules.ts`) comes, or holds an expired position for an operator.
 */
import { fromCallback, type EventObject } from 'xstate';
import { definitionOf } from '../../machines/createStrategyMachine.js';
import type { StrategyEvent } from '../../machines/events.js';
import type { StrategyState } from '../../machines/states.js';
import type { Position } from '../../machines/types.js';
import {
  DEFAULT_SAME_DAY_EXIT,
  defensiveExitInstant,
  expiryInstant,
  hasPositionExpired,
  isMarketOpenAt,
  nowOrNextOpenAt,
  positionExpiry,
  sameDayExitInstant,
} from './dteRules.js';
import { exitEventFor, expiredHoldEvent, heldForOperatorError, missingExpiryError, sameDayEmergencyExit } from './dteMonitorEvents.js';
import type { DteExitInfo, DteMonitorHandle, DteMonitorOptions } from './dteMonitorOptions.js';
import { createSessionCache, scheduleAt } from './marketClock.js';
import { isIsoDate } from './time.js';
import { TIME_WINDOWS } from './timeWindows.js';
import { ExpiredPositionError } from '../../machines/errors.js';

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
  const sameDay = rule === 'sameDay';
  const isMarketOpen = (at: number): boolean => isMarketOpenAt(at, sessions);
  const expiryOf = (position: Position): string | undefined => positionExpiry(position, sameDay, sessions);
  const hasExpired = (position: Position, at: number): boolean => hasPositionExpired(position, at, sameDay, sessions);
  const expiresAt = (expiry: string): number => expiryInstant(expiry, sessions);
  const nowOrNextOpen = (now: number): number => nowOrNextOpenAt(now, sessions);

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
        onError(heldForOperatorError(strategy.id, position.quantity));
      }
      if (rule === 'sameDay' && !waitsForOperator && SAME_DAY_FLATTENED_IN.includes(strategy.state) && isMarketOpen(now)) {
        // The position expires at today's close: it cannot wait for ERROR's recovery (30 minutes),
        // an adjustment or a resume, which may come after the close. Flattened now, as the kill switch would.
        const emergency = sameDayEmergencyExit(strategy.state);
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
    dispatch(exitEventFor(position, rule, exitWindow, clock.now()), info);
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
    const event = expiredHoldEvent(position.quantity, expiry, state);
    if (!strategy.can(event)) return;
    if (options.send) options.send(event, { late: false, dueAt: now });
    else strategy.trigger(event);
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
      onError(missingExpiryError(strategy.id, position.quantity, defensiveDte));
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
