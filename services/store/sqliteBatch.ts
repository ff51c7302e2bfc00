import type Database from 'better-sqlite3';
import { StoreConflictError, TradingStateRefusal } from '../../machines/errors.js';
import type { BatchOutcome } from './groupCommit.js';

/**
 * True for an error that refuses one write and leaves the batch's transaction intact: the store's
 * own refusals (seq conflict, trading state) and a constraint the write broke. SQLite rolls back
 * the whole transaction on a full disk or an I/O error; those are never a single write's fault.
 */
function refusesOneWrite(error: unknown): boolean {
  if (error instanceof StoreConflictError || error instanceof TradingStateRefusal) return true;
  return String((error as { code?: unknown })?.code ?? '').startsWith('SQLITE_CONSTRAINT');
}

/**
 * Writes a batch in one SQLite transaction, each write in a savepoint of its own: a write refused
 * alone is rolled back to its savepoint and reported in its slot of the outcome, and its
 * neighbours commit; any other failure rolls the whole transaction back and is thrown, so no write
 * of the batch is committed. One commit, so one fsync (WAL, `synchronous=FULL`) for the batch.
 *
 * `writeOne` must be a `db.transaction(...)` function: called inside this transaction,
 * better-sqlite3 runs it in a savepoint.
 *
 * @example
 * ```ts
 * const outcome = commitSqliteBatch(db, appendTransaction, writes); // [undefined, StoreConflictError, undefined]
 * ```
 * @throws whatever failed the transaction (full disk, I/O error, read-only file): nothing was committed.
 */
export function commitSqliteBatch<W>(db: Database.Database, writeOne: (write: W) => void, writes: readonly W[]): BatchOutcome {
  const outcome: unknown[] = new Array(writes.length).fill(undefined);
  db.transaction(() => {
    writes.forEach((write, i) => {
      try {
        writeOne(write);
      } catch (error) {
        // After a full disk SQLite has already ended the transaction: continuing would commit the
        // rest one by one, outside the batch. Only a refusal inside a live transaction is local.
        if (!refusesOneWrite(error) || !db.inTransaction) throw error;
        outcome[i] = error;
      }
    });
  }).immediate();
  return outcome;
}
