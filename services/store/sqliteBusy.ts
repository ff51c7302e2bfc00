/**
 * Waiting for SQLite's write lock without holding the event loop. better-sqlite3 is synchronous:
 * SQLite's own busy handler sleeps inside the call, so a 5 s busy timeout froze timers, HTTP and
 * the live stream for 5 s per write while another process held the lock (a 300-strategy broadcast:
 * 15 s). SQLite now waits {@link SQLITE_BUSY_SLICE_MS} per attempt; the store waits between
 * attempts on timers, up to the store's bound, then refuses with `StoreUnavailableError`.
 */
import { StoreUnavailableError } from '../../machines/errors.js';
import type { Clock, TimerHandle } from '../market/clock.js';

/** SQLite's busy timeout per attempt, in ms (`PRAGMA busy_timeout`): what one attempt may hold the event loop. */
export const SQLITE_BUSY_SLICE_MS = 5;

/** Default bound of the wait for another connection's write lock, in ms (`busyTimeoutMs`). */
export const DEFAULT_SQLITE_BUSY_TIMEOUT_MS = 5000;

/** First pause between attempts, in ms; doubled after each, up to {@link BUSY_RETRY_MAX_MS}. */
const BUSY_RETRY_FIRST_MS = 5;
const BUSY_RETRY_MAX_MS = 100;

/**
 * True for SQLite's "another connection holds the lock" (`SQLITE_BUSY` and its extended codes):
 * the statement or transaction changed nothing, so running it again is safe.
 */
export function isSqliteBusy(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_'));
}

/** Runs synchronous SQLite work again while it is refused as busy; see {@link createSqliteBusyWait}. */
export interface SqliteBusyWait {
  /**
   * Runs `attempt` now; while it throws SQLITE_BUSY, again after a pause on the clock, until the
   * store has been busy for its bound. Settles with the attempt's result or its last error (a
   * `StoreUnavailableError` naming SQLITE_BUSY once the bound is passed).
   */
  run<T>(attempt: () => T): Promise<T>;
  /** Ends every pause now (each waiting `run` fails with its SQLITE_BUSY) and every later one (a closing store). */
  cancel(): void;
}

/**
 * Makes the busy wait of the store `name`. The bound counts from the first refusal of an episode
 * (cleared by the next attempt that gets through), not per write: with the lock held for good, the
 * batches queued behind the first one fail at their first attempt once the bound is passed, instead
 * of each waiting the bound again (a 10k broadcast is eighty batches).
 *
 * @example
 * ```ts
 * const busy = createSqliteBusyWait('sqlite:./data/x.db', () => realClock, 5000);
 * const outcome = await busy.run(() => commitBatch(writes)); // retried while another process writes
 * ```
 */
export function createSqliteBusyWait(name: string, clock: () => Clock, boundMs: number): SqliteBusyWait {
  let busySince: number | undefined;
  let cancelled = false;
  const pauses = new Map<TimerHandle, () => void>();

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const c = clock();
      const handle = c.setTimeout(() => {
        pauses.delete(handle);
        resolve();
      }, ms);
      pauses.set(handle, () => {
        c.clearTimeout(handle);
        resolve();
      });
    });

  const refusal = (error: unknown, waited: number, why: string) =>
    new StoreUnavailableError(
      name,
      `SQLITE_BUSY: database is locked: another connection held the write lock (waited ${Math.round(waited)} ms; ${why}); nothing was written`,
      error,
    );

  return {
    async run<T>(attempt: () => T): Promise<T> {
      let delay = BUSY_RETRY_FIRST_MS;
      for (;;) {
        try {
          const result = attempt();
          busySince = undefined;
          return result;
        } catch (error) {
          if (!isSqliteBusy(error)) throw error;
          const now = clock().now();
          busySince ??= now;
          const waited = now - busySince;
          if (cancelled) throw refusal(error, waited, 'the store closed');
          const left = busySince + boundMs - now;
          if (left <= 0) throw refusal(error, waited, `busyTimeoutMs ${boundMs}`);
          await pause(Math.min(delay, left));
          delay = Math.min(delay * 2, BUSY_RETRY_MAX_MS);
          if (cancelled) throw refusal(error, clock().now() - (busySince ?? now), 'the store closed');
        }
      }
    },
    cancel() {
      cancelled = true;
      const ends = [...pauses.values()];
      pauses.clear();
      for (const end of ends) end();
    },
  };
}
