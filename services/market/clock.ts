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

/**
 * How often a waiting {@link realClock} timer looks at the wall clock again. Node's timers count
 * monotonic time, which stops while the host sleeps (a suspended laptop or VM): a timer armed for
 * Monday 09:30 on Friday evening would otherwise fire a suspend's length late. Checked every
 * minute, it fires within a minute of its wall-clock instant after a wake.
 */
export const WALL_CHECK_MS = 60_000;

/**
 * A {@link realClock} timer: its wall-clock due instant, the same instant in elapsed time
 * (`performance.now()`, which no wall-clock step moves), and the Node timer of the link now pending.
 */
class ChainedTimer {
  current: ReturnType<typeof setTimeout> | undefined;
  cancelled = false;
  constructor(
    readonly due: number,
    readonly elapsedDue: number,
  ) {}
  /** What is left of the wait: it ends at the earlier of its wall-clock and elapsed-time instants. */
  remaining(): number {
    return Math.min(this.due - Date.now(), this.elapsedDue - performance.now());
  }
}

/** Arms the next link of `timer`: the rest of the wait, at most {@link WALL_CHECK_MS}. */
function armLink(timer: ChainedTimer, fn: () => void): void {
  timer.current = setTimeout(
    () => {
      if (timer.cancelled) return;
      if (timer.remaining() > 0) armLink(timer, fn);
      else fn();
    },
    Math.max(0, Math.min(timer.remaining(), WALL_CHECK_MS)),
  );
  // A pending deadline must not keep a finished process alive.
  timer.current.unref?.();
}

/**
 * Wall-clock time and Node's timers. The default clock of every strategy. Delays of any length
 * are exact: a wait is a chain of Node timers of at most {@link WALL_CHECK_MS}, each checking the
 * time again, and `clearTimeout` cancels whichever link is pending. A wait ends when its length has
 * passed by the wall clock (a host that slept does not delay a bell by its sleep) or in elapsed
 * time, whichever comes first: a wall clock stepped back (NTP) does not stretch a 1 s retry into
 * minutes. Code waiting for an instant looks at `now()` when the timer fires and waits on if the
 * instant is still ahead (`scheduleAt`, the durable delays), so a step back never rings it early.
 */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    // NaN and negative delays mean "now", as for Node's own setTimeout.
    const wait = ms > 0 ? ms : 0;
    const timer = new ChainedTimer(Date.now() + wait, performance.now() + wait);
    armLink(timer, fn);
    return timer;
  },
  clearTimeout: (handle) => {
    if (!(handle instanceof ChainedTimer)) return;
    handle.cancelled = true;
    clearTimeout(handle.current);
  },
};

/** Where a clock whose timers are parked keeps the clock that runs them (see {@link parkTimers}). */
const RUNNING = Symbol('strategy-lifecycle.runningClock');

/**
 * `clock`'s time with timers that never run: what a strategy's actor system gets, since the runtime
 * arms the chart's delays itself (durableDelays.ts). An actor the strategy invokes asks
 * {@link clockOfActor} for its clock and gets `clock` itself, timers and all.
 */
export function parkTimers(clock: Clock): Clock {
  let next = 0;
  const parked = { now: () => clock.now(), setTimeout: () => ++next, clearTimeout: () => undefined, [RUNNING]: clock };
  return parked;
}

/**
 * The clock of the actor system an actor runs in (`self.clock`, public on XState's `Actor`: the
 * one given to `createActor(root, { clock })`), when it tells the time (ours and XState's
 * `SimulatedClock` do); else {@link realClock}. The market actors fall back on it when their
 * input names no clock.
 *
 * @example
 * ```ts
 * fromCallback(({ input, self }) => startMarketClock({ clock: input?.clock ?? clockOfActor(self), ... }));
 * ```
 */
export function clockOfActor(self: unknown): Clock {
  const clock = (self as { clock?: Partial<Clock> & { [RUNNING]?: Clock } } | undefined)?.clock;
  // A strategy's system parks XState's timers: the clock that runs them is the strategy's.
  if (clock?.[RUNNING]) return clock[RUNNING];
  if (typeof clock?.now === 'function' && typeof clock.setTimeout === 'function' && typeof clock.clearTimeout === 'function') {
    return clock as Clock;
  }
  return realClock;
}

/** A pending timer of a simulated clock. */
interface SimulatedTimer {
  due: number;
  fn: () => void;
}

/**
 * Creates a simulated clock starting at `start`: epoch milliseconds or an ISO 8601 string with
 * its offset. It implements XState's public `Clock` interface (`setTimeout`, `clearTimeout`) and
 * `now()`, so it can be given to `createActor(machine, { clock })` as well as to our services.
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
  let now = startMs;
  let nextId = 1;
  // Insertion order breaks ties: timers due at the same instant fire in the order they were set.
  const pending = new Map<number, SimulatedTimer>();
  const dueBy = (limit: number): [number, SimulatedTimer] | undefined => {
    let found: [number, SimulatedTimer] | undefined;
    for (const entry of pending) if (entry[1].due <= limit && (!found || entry[1].due < found[1].due)) found = entry;
    return found;
  };
  // Time steps to each due instant in turn, so a timer armed by a firing timer starts at the
  // instant it was armed, and every timestamp it produces is exact. A callback that throws never
  // stops time: its error is rethrown once time has finished moving.
  const move = (target: number) => {
    if (!Number.isFinite(target)) throw new RangeError(`simulated clock: ${target} is not a time`);
    const failures: unknown[] = [];
    for (let due = dueBy(target); due; due = dueBy(target)) {
      const [id, timer] = due;
      pending.delete(id);
      now = Math.max(now, timer.due);
      try {
        timer.fn();
      } catch (error) {
        failures.push(error);
      }
    }
    if (target > now) now = target;
    if (failures.length)
      throw failures.length === 1 ? failures[0] : new AggregateError(failures, `${failures.length} simulated-clock timers threw`);
  };
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = nextId++;
      // NaN and negative delays mean "now", as for Node's own setTimeout.
      pending.set(id, { due: now + (ms > 0 ? ms : 0), fn });
      return id;
    },
    clearTimeout: (handle) => {
      pending.delete(handle as number);
    },
    increment: (ms) => move(now + Math.max(0, ms)),
    set: (ms) => move(ms),
    nextDue: () => {
      let next = Infinity;
      for (const timer of pending.values()) next = Math.min(next, timer.due);
      return Number.isFinite(next) ? Math.max(next, now) : null;
    },
  };
}
