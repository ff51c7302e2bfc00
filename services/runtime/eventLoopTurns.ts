/**
 * Turns of the event loop for long runs of synchronous work. A broadcast to 10k strategies over
 * synchronous better-sqlite3 runs in microtasks: without a turn between its parts, no timer, HTTP
 * request or live-stream message would run until all of it ended (seconds at 10k).
 */

/** How many strategies a broadcast or a restore takes between two turns of the event loop. */
export const STRATEGIES_PER_TURN = 256;

/**
 * Resolves at the next turn of the event loop, after the timers and I/O that are due (a
 * `setImmediate`: real event-loop scheduling, not the strategies' clock, which may be simulated).
 *
 * @example
 * ```ts
 * for (const part of parts) { work(part); await nextTurn(); } // timers run between the parts
 * ```
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
