import { realClock, type Clock, type SimulatedClockHandle } from '../market/clock.js';

/** What lets the writes and reactions of one step finish before time moves on. */
export type Settle = () => Promise<void>;

/**
 * Moves a simulated clock to `to` (or by `maxSteps` steps at most) one `stepMs` at a time
 * (aligned to whole steps), waiting for
 * `settle` after each: a persistent system answers after its store commits, and the reactions to
 * those answers must happen at the minute they belong to, not after the clock has run ahead.
 *
 * @example
 * ```ts
 * await stepClock(clock, Date.parse('2026-11-28T00:00:00-05:00'), () => system.flush());
 * ```
 */
export async function stepClock(
  clock: SimulatedClockHandle,
  to: number,
  settle: Settle,
  stepMs = 60_000,
  maxSteps = Infinity,
): Promise<void> {
  await settle();
  for (let steps = 0; clock.now() < to && steps < maxSteps; steps++) {
    const next = Math.min(to, (Math.floor(clock.now() / stepMs) + 1) * stepMs);
    clock.set(next);
    await settle();
  }
}

/**
 * Moves a simulated clock to `to` from one due timer to the next, waiting for `settle` after
 * each: a reaction to a persisted answer (a broker report 200 ms after its order) is armed once
 * the answer is stored, and runs at its own instant, not at the next whole step. Stops after
 * `maxSteps` steps (the caller's turn to let other work run) or at `to`.
 *
 * @example
 * ```ts
 * await stepToDue(clock, Date.parse('2026-11-28T00:00:00-05:00'), () => system.flush());
 * ```
 */
export async function stepToDue(clock: SimulatedClockHandle, to: number, settle: Settle, maxSteps = Infinity): Promise<void> {
  await settle();
  for (let steps = 0; clock.now() < to && steps < maxSteps; steps++) {
    clock.set(Math.min(to, clock.nextDue() ?? to));
    await settle();
  }
}

/** Options of {@link runSimulatedTime}. */
export interface SimulatedTimeOptions {
  clock: SimulatedClockHandle;
  /** Simulated ms per real ms: 600 plays an hour in six seconds, a week in under 17 minutes. */
  speed: number;
  settle: Settle;
  /** Simulated instant at which time stops moving (default: never). */
  until?: number;
  /**
   * Step of the simulated clock; default: from one due timer to the next ({@link stepToDue}), so
   * every reaction lands at its true instant. A fixed step stamps reactions up to a step late.
   */
  stepMs?: number;
  /** The real time it follows; default {@link realClock}. */
  wall?: Clock;
  /** A failed step (the clock stops). Default: console.error. */
  onError?: (error: unknown) => void;
}

/** A simulated clock following real time. */
export interface SimulatedTime {
  /** Stops moving the clock; resolves once the step under way has settled. */
  stop(): Promise<void>;
  /** False once the clock stopped: `stop()`, a failed step, or `until` reached (readiness reads it). */
  readonly running: boolean;
}

/**
 * Moves a simulated clock forward from real time at `speed` (a trading week in minutes), from one
 * due timer to the next ({@link stepToDue}), so `serve --simulate` runs the same driver, store and broker as a
 * real session, only faster. Between steps the event loop is free for HTTP requests.
 *
 * @example
 * ```ts
 * const time = runSimulatedTime({ clock, speed: 600, settle: () => system.flush() });
 * await time.stop();
 * ```
 */
export function runSimulatedTime(options: SimulatedTimeOptions): SimulatedTime {
  const { clock, speed, settle } = options;
  if (!(speed > 0)) throw new RangeError(`simulated time: speed must be > 0, got ${String(speed)}`);
  const wall = options.wall ?? realClock;
  const onError = options.onError ?? ((error: unknown) => console.error('strategy-lifecycle simulated time:', error));
  const startWall = wall.now();
  const startSim = clock.now();
  let stopped = false;
  let timer: unknown;
  let running: Promise<void> = Promise.resolve();
  const tick = (): void => {
    timer = undefined;
    const target = Math.min(options.until ?? Infinity, startSim + (wall.now() - startWall) * speed);
    // A bounded batch per tick: HTTP requests get their turn between batches.
    const steps =
      options.stepMs === undefined ? stepToDue(clock, target, settle, 240) : stepClock(clock, target, settle, options.stepMs, 240);
    running = steps.then(
      () => {
        if (!stopped && clock.now() < (options.until ?? Infinity)) timer = wall.setTimeout(tick, 10);
      },
      (error: unknown) => {
        stopped = true;
        onError(error);
      },
    );
  };
  timer = wall.setTimeout(tick, 0);
  return {
    async stop() {
      stopped = true;
      if (timer !== undefined) wall.clearTimeout(timer);
      await running;
    },
    get running() {
      return !stopped && clock.now() < (options.until ?? Infinity);
    },
  };
}
