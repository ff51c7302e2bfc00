import { SimulatedClock } from 'xstate';

/** Handle returned by {@link Clock.setTimeout}; opaque to callers. */
export type TimerHandle = unknown;

/**
 * The one source of time for strategies, services and tests.
 *
 * It is a superset of XState's own clock (`setTimeout`/`clearTimeout`), so the same object is
 * handed to `createActor(machine, { clock })` and XState's delayed events run on it too.
 *
 * @example
 * ```ts
 * const clock = createSimulatedClock('2026-12-01T09:30:00-05:00');
 * clock.increment(30 * 60_000); // half an hour later, timers fire in order
 * ```
 */
export interface Clock {
  /** Milliseconds since the Unix epoch, in this clock's time. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds of this clock's time. */
  setTimeout(fn: (...args: unknown[]) => void, ms: number): TimerHandle;
  /** Cancels a timer made by {@link Clock.setTimeout}; unknown handles are ignored. */
  clearTimeout(handle: TimerHandle): void;
}

/** A clock driven by hand: time only moves when the test or simulation moves it. */
export interface SimulatedClockHandle extends Clock {
  /** Moves time forward by `ms`, firing every timer that falls due, in time order. */
  increment(ms: number): void;
  /** Moves time forward to `ms` (epoch), firing what falls due; earlier times are ignored. */
  set(ms: number): void;
  /** When the earliest pending timer falls due (epoch ms), or null when none is pending. */
  nextDue(): number | null;
}

/**
 * The longest delay one Node timer can hold (2^31-1 ms, about 24.8 days). Node fires a longer
 * delay after 1 ms (with a TimeoutOverflowWarning), so {@link realClock} chains timers of at most
 * this length.
 *
 * @example
 * ```ts
 * MAX_TIMER_MS / 86_400_000; // 24.855...
 * ```
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A {@link realClock} timer: the Node timer of the link now pending, replaced at each link. */
class ChainedTimer {
  current: ReturnType<typeof setTimeout> | undefined;
  cancelled = false;
}

/** Arms the next link of `timer`: the rest of the wait if it fits in one Node timer, else a full link. */
function armLink(timer: ChainedTimer, fn: () => void, remaining: number): void {
  const link = Math.min(remaining, MAX_TIMER_MS);
  timer.current = setTimeout(() => {
    if (timer.cancelled) return;
    if (remaining > MAX_TIMER_MS) armLink(timer, fn, remaining - MAX_TIMER_MS);
    else fn();
  }, link);
  // A pending deadline must not keep a finished process alive.
  timer.current.unref?.();
}

/**
 * Wall-clock time and Node's timers. The default clock of every strategy. Delays of any length
 * are exact: a wait over {@link MAX_TIMER_MS} is a chain of Node timers, and `clearTimeout`
 * cancels whichever link is pending.
 */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const timer = new ChainedTimer();
    // NaN and negative delays mean "now", as for Node's own setTimeout.
    armLink(timer, fn, ms > 0 ? ms : 0);
    return timer;
  },
  clearTimeout: (handle) => {
    if (!(handle instanceof ChainedTimer)) return;
    handle.cancelled = true;
    clearTimeout(handle.current);
  },
};

/**
 * Creates a simulated clock (XState's `SimulatedClock` underneath) starting at `start`:
 * epoch milliseconds or an ISO 8601 string with its offset.
 *
 * @example
 * ```ts
 * const clock = createSimulatedClock('2026-12-01T09:30:00-05:00');
 * const strategy = createStrategyActor(createStrategyMachine(lt112), { clock });
 * clock.increment(5 * 60_000);
 * ```
 */
export function createSimulatedClock(start: number | string = 0): SimulatedClockHandle {
  const startMs = typeof start === 'number' ? start : Date.parse(start);
  if (!Number.isFinite(startMs)) {
    throw new RangeError(`createSimulatedClock: start "${String(start)}" is not a time`);
  }
  const inner = new SimulatedClock();
  inner.set(startMs);
  // XState's SimulatedClock jumps straight to the target and then fires what is due, so a timer
  // armed by a firing timer would start at the target time. Stepping to each due time in turn
  // keeps every timer, and every timestamp it produces, at its exact instant.
  // `timeouts` is private in XState's typings but is the clock's only record of what is pending.
  const pending = (inner as unknown as { timeouts: Map<number, { start: number; timeout: number }> }).timeouts;
  const earliest = (): number => {
    let next = Infinity;
    for (const t of pending.values()) next = Math.min(next, t.start + t.timeout);
    return next;
  };
  const advanceTo = (target: number) => {
    if (!Number.isFinite(target)) throw new RangeError(`simulated clock: ${target} is not a time`);
    for (;;) {
      const next = earliest();
      if (next > target) break;
      inner.set(Math.max(next, inner.now()));
    }
    if (target > inner.now()) inner.set(target);
  };
  // A callback that throws inside XState's flush would leave the clock marked as flushing for
  // ever; callbacks' errors are caught here and rethrown once time has finished moving.
  const failures: unknown[] = [];
  const move = (target: number) => {
    advanceTo(target);
    if (failures.length) {
      const errors = failures.splice(0);
      throw errors.length === 1 ? errors[0] : new AggregateError(errors, `${errors.length} simulated-clock timers threw`);
    }
  };
  return {
    now: () => inner.now(),
    setTimeout: (fn, ms) =>
      inner.setTimeout(() => {
        try {
          fn();
        } catch (error) {
          failures.push(error);
        }
      }, Math.max(0, ms)),
    clearTimeout: (handle) => inner.clearTimeout(handle as number),
    increment: (ms) => move(inner.now() + Math.max(0, ms)),
    set: (ms) => move(ms),
    nextDue: () => {
      const next = earliest();
      return Number.isFinite(next) ? Math.max(next, inner.now()) : null;
    },
  };
}

/**
 * Reads "now" from the clock of the XState system an actor runs in. XState keeps the clock
 * given to `createActor` as `system._clock`; a system made without one runs on real time,
 * so real time is the only honest fallback.
 */
export function clockOf(system: unknown): Clock {
  const clock = (system as { _clock?: Partial<Clock> } | undefined)?._clock;
  if (clock && typeof clock.now === 'function') return clock as Clock;
  return realClock;
}
