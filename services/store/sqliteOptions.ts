/**
 * What a SQLite store is opened with, and what its open reports: kept apart from the class so a
 * reader finds every knob of the embedded store in one place (re-exported by sqliteStore.ts).
 */
import type { StoreUnavailableError } from '../../machines/errors.js';
import type { Clock } from '../market/clock.js';
import type { BatchReport, GroupCommitOptions } from './groupCommit.js';
import type { StoreIdentity } from './storeFiles.js';

/** Options of `SqliteStore`. */
export interface SqliteStoreOptions {
  /**
   * `FULL` (default) syncs every commit to disk, so an acknowledged transition survives a power
   * cut; `NORMAL` survives a process crash only, and is faster.
   */
  synchronous?: 'FULL' | 'NORMAL';
  /**
   * When the database file is missing. Default: create it only at a first start (no marker file
   * `<path>.id` either); a marker without its database means the database was deleted, and
   * `open` refuses with `StoreIdentityError`. `true` (the CLI's `--init`) creates an empty
   * store even then; `false` never creates anything, neither database nor marker (tools that
   * only read).
   */
  create?: boolean;
  /**
   * How often (ms of `checkClock`) the open store checks that its path still names its file and
   * the marker still names it (default 5000; 0: never).
   */
  checkEveryMs?: number;
  /**
   * The clock of the periodic check. Default: real time, whatever clock the strategies run on:
   * the file lives in real time, and a simulated clock racing through months would otherwise
   * pay for a check every 5 simulated seconds. Tests pass their simulated clock.
   */
  checkClock?: Clock;
  /**
   * How long writes wait for the write lock another connection holds (another process inside a
   * transaction, a tool such as `sqlite3` writing the file), in ms of `checkClock` (default 5000;
   * 0: refuse at the first refusal). SQLite itself waits only a few ms per attempt, which holds the
   * event loop; the store waits between attempts on timers, so timers, HTTP and the live stream run
   * meanwhile. Counted from the first refusal until a write gets through: once passed, every write
   * fails at its first attempt with `StoreUnavailableError` naming SQLITE_BUSY, nothing written.
   */
  busyTimeoutMs?: number;
  /** Told once when a periodic check finds the file deleted or replaced; default console.error. */
  onFault?: (error: StoreUnavailableError) => void;
  /**
   * Group commit of `append` (default `{ maxBatch: 128, maxWaitMs: 0, maxWaitTurns: 4 }`; one batch at a time, its commit is synchronous): the writes
   * queued by the next turns of the event loop share one transaction and one fsync, each acknowledged after that
   * commit. `false`: every append is its own transaction, committed before `append` returns.
   */
  groupCommit?: GroupCommitOptions | false;
  /** Told after each group commit (metrics): how many writes it held and committed. A throw is logged and ignored. */
  onBatch?: (report: BatchReport) => void;
  /**
   * Hold the one-writer lock (`<path>.lock`, released when the store closes or the process ends):
   * a second open of the same database is refused with `StoreUnavailableError`, so two processes
   * never run the same strategies. Default true; `false` for tools that only read while the
   * service runs (`status`, `replay`).
   */
  lock?: boolean;
}

/** The store's identity once open, and whether this open made the store. */
export interface OpenedStoreIdentity extends StoreIdentity {
  /** `first-start`: no database and no marker; `init`: made by `create: true` over a marker; false: it existed. */
  created: 'first-start' | 'init' | false;
}

/** The embedded default path, relative to the working directory. */
export const DEFAULT_SQLITE_PATH = './data/strategy-lifecycle.db';
