/**
 * What a PostgreSQL store is opened with, how each of its transactions begins, and the channel
 * its commits are published on: kept apart from the class so a reader finds every knob of the
 * multi-instance store in one place (re-exported by postgresStore.ts).
 */
import type { Clock } from '../market/clock.js';
import type { BatchReport, GroupCommitOptions } from './groupCommit.js';

/** Options of `PostgresStore`. */
export interface PostgresStoreOptions {
  connectionString: string;
  /** This instance's name in leases (default: a random UUID): at most 256 characters, no NUL or half surrogate pair. */
  instanceId?: string;
  /** How long a lease lasts without renewal (default 15 s). */
  leaseMs?: number;
  /** Lease times come from this clock; instances sharing a database need clocks that agree. */
  clock?: Clock;
  /** Pool size (default 10). */
  maxConnections?: number;
  /**
   * Longest wait for a row or advisory lock inside a write, remove or entry (default a fifth of
   * the lease, at most 2 s): past it the call fails with `StoreUnavailableError` and can be
   * retried. Lease claims and renewals never wait: they skip locked rows.
   */
  lockTimeoutMs?: number;
  /**
   * Longest wait for any answer from the server (default the lease, and at least a second over
   * `lockTimeoutMs`). A server that stops answering without closing the connection (paused,
   * overloaded, cut off by the network) then fails the call with a retryable
   * `StoreUnavailableError` instead of hanging it and every write behind it; the connection is
   * closed. A write that timed out may still have committed: the next write of that strategy
   * finds the store ahead and reloads it (see docs/persistence.md). Schema migrations at open are
   * not bound by it.
   */
  queryTimeoutMs?: number;
  /**
   * Group commit of `append` (default `{ maxBatch: 128, maxWaitMs: 0, maxWaitTurns: 4, concurrency: 2 }`):
   * the writes queued by the next turns of the event loop, or while a batch commits, share one
   * transaction, in most batches one statement and one round trip; two batches may commit side by
   * side (never two writes of one strategy). `false`: one transaction per append.
   */
  groupCommit?: GroupCommitOptions | false;
  /** Told after each group commit (metrics): how many writes it held and committed. A throw is logged and ignored. */
  onBatch?: (report: BatchReport) => void;
}

/** A change published with NOTIFY on the `strategy_lifecycle` channel after each commit. */
export interface StoreChange {
  strategyId: string;
  seq: number;
  state: string;
  instanceId: string;
}

/**
 * How every transaction of the store begins: waits for locks at most `lockTimeoutMs`, and the
 * server ends the session when the transaction sits idle (its process paused) for `idleMs`, a
 * lease, which releases its row locks for the instance that takes over.
 *
 * @example
 * ```ts
 * await client.query(beginTransaction(2000, 15_000)); // BEGIN; SET LOCAL lock_timeout = 2000; ...
 * ```
 */
export function beginTransaction(lockTimeoutMs: number, idleMs: number): string {
  return `BEGIN; SET LOCAL lock_timeout = ${Math.floor(lockTimeoutMs)}; SET LOCAL idle_in_transaction_session_timeout = ${Math.floor(idleMs)}`;
}

/** The NOTIFY channel. */
export const CHANGE_CHANNEL = 'strategy_lifecycle';

/**
 * The changes one NOTIFY on {@link CHANGE_CHANNEL} carries: a batch's payload lists several,
 * `{ instanceId, changes: [[strategyId, seq, state], ...] }`; a lone write's (and an earlier
 * release's) is one {@link StoreChange}.
 *
 * @example
 * ```ts
 * changesOf('{"instanceId":"a","changes":[["st",2,"READY"]]}'); // [{ strategyId: 'st', seq: 2, state: 'READY', instanceId: 'a' }]
 * ```
 */
export function changesOf(payload: string): StoreChange[] {
  const parsed = JSON.parse(payload) as StoreChange | { instanceId: string; changes: Array<[string, number | string, string]> };
  if (!('changes' in parsed)) return [parsed];
  return parsed.changes.map(([strategyId, seq, state]) => ({ strategyId, seq: Number(seq), state, instanceId: parsed.instanceId }));
}
