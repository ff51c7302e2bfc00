import type Database from 'better-sqlite3';
import { StoreConflictError, TradingStateRefusal } from '../../machines/errors.js';
import type { BatchOutcome } from './groupCommit.js';

/** The store's refusals: thrown by a write before it changed anything (trading state, seq). */
function isRefusal(error: unknown): boolean {
  return error instanceof StoreConflictError || error instanceof TradingStateRefusal;
}

/**
 * True for an error that refuses one write and leaves the batch's transaction intact: a refusal,
 * or a constraint the write broke. SQLite rolls back the whole transaction on a full disk or an
 * I/O error; those are never a single write's fault.
 */
function refusesOneWrite(error: unknown): boolean {
  return isRefusal(error) || String((error as { code?: unknown })?.code ?? '').startsWith('SQLITE_CONSTRAINT');
}

/** How a batch writes one write: as is, and inside a savepoint (a `db.transaction(...)` called within the batch's). */
export interface SqliteWriter<W> {
  /** Must throw its refusals ({@link StoreConflictError}, {@link TradingStateRefusal}) before it changes any row. */
  plain: (write: W) => void;
  inSavepoint: (write: W) => void;
}

/**
 * Writes a batch in one SQLite transaction: one commit, so one fsync (WAL, `synchronous=FULL`).
 * A write refused alone is reported in its slot of the outcome and its neighbours commit. Refusals
 * change nothing before they are thrown, so the first pass needs no savepoints (two statements
 * fewer per write); a write failing after it changed rows (a broken constraint) rolls that pass
 * back, and the batch is written again with a savepoint per write so only that write fails. Any
 * other failure rolls the whole transaction back and is thrown: no write of the batch is committed.
 *
 * @example
 * ```ts
 * const outcome = commitSqliteBatch(db, { plain: appendTx, inSavepoint: db.transaction(appendTx) }, writes); // [undefined, StoreConflictError, undefined]
 * ```
 * @throws whatever failed the transaction (full disk, I/O error, read-only file): nothing was committed.
 */
export function commitSqliteBatch<W>(db: Database.Database, writer: SqliteWriter<W>, writes: readonly W[]): BatchOutcome {
  try {
    return writeAll(db, writer.plain, writes, isRefusal);
  } catch (error) {
    if (!refusesOneWrite(error)) throw error;
    return writeAll(db, writer.inSavepoint, writes, refusesOneWrite);
  }
}

function writeAll<W>(
  db: Database.Database,
  writeOne: (write: W) => void,
  writes: readonly W[],
  isLocal: (error: unknown) => boolean,
): BatchOutcome {
  const outcome: unknown[] = new Array(writes.length).fill(undefined);
  db.transaction(() => {
    writes.forEach((write, i) => {
      try {
        writeOne(write);
      } catch (error) {
        // After a full disk SQLite has already ended the transaction: continuing would commit the
        // rest one by one, outside the batch. Only a refusal inside a live transaction is local.
        if (!isLocal(error) || !db.inTransaction) throw error;
        outcome[i] = error;
      }
    });
  }).immediate();
  return outcome;
}
