import type * as Database from 'better-sqlite3';
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
 * Makes the batch commit of one connection: writes a batch in one SQLite transaction, one commit,
 * so one fsync (WAL, `synchronous=FULL`). A write refused alone is reported in its slot of the
 * outcome and its neighbours commit. Refusals change nothing before they are thrown, so the first
 * pass needs no savepoints (two statements fewer per write); a write failing after it changed rows
 * (a broken constraint) rolls that pass back, and the batch is written again with a savepoint per
 * write so only that write fails. Any other failure rolls the whole transaction back and is
 * thrown: no write of the batch is committed. Both passes are compiled once, here (better-sqlite3
 * builds four wrappers per `db.transaction()`: a few microseconds a commit for a lone write).
 *
 * @example
 * ```ts
 * const commitBatch = sqliteBatchCommit(db, { plain: appendTx, inSavepoint: db.transaction(appendTx) });
 * const outcome = commitBatch(writes); // [undefined, StoreConflictError, undefined]
 * ```
 * The returned function throws whatever failed the transaction (full disk, I/O error, read-only
 * file): nothing was committed.
 */
export function sqliteBatchCommit<W>(db: Database.Database, writer: SqliteWriter<W>): (writes: readonly W[]) => BatchOutcome {
  const plainPass = passOf(db, writer.plain, isRefusal);
  const savepointPass = passOf(db, writer.inSavepoint, refusesOneWrite);
  return (writes) => {
    const outcome: unknown[] = new Array(writes.length).fill(undefined);
    try {
      plainPass.immediate(writes, outcome);
    } catch (error) {
      if (!refusesOneWrite(error)) throw error;
      outcome.fill(undefined);
      savepointPass.immediate(writes, outcome);
    }
    return outcome;
  };
}

/** One pass over a batch, as a compiled transaction: each write's local refusal goes to its slot of `outcome`. */
function passOf<W>(db: Database.Database, writeOne: (write: W) => void, isLocal: (error: unknown) => boolean) {
  return db.transaction((writes: readonly W[], outcome: unknown[]) => {
    for (let i = 0; i < writes.length; i++) {
      try {
        writeOne(writes[i]);
      } catch (error) {
        // After a full disk SQLite has already ended the transaction: continuing would commit the
        // rest one by one, outside the batch. Only a refusal inside a live transaction is local.
        if (!isLocal(error) || !db.inTransaction) throw error;
        outcome[i] = error;
      }
    }
  });
}
