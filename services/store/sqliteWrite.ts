/**
 * One append to a SQLite store, as its transaction runs it: the write serialised at `append`
 * (while the transition's snapshot is still in the CPU's caches), the trading state checked, the
 * strategy row moved on from the expected seq, the records inserted. Also the store's error typing,
 * which every write's failure goes through.
 */
import type * as Database from 'better-sqlite3';
import { checkTradingState, type TradingState } from '../../guards/portfolio.js';
import { StoreConflictError, StoreUnavailableError, StrategyLifecycleError, TradingStateRefusal } from '../../machines/errors.js';
import type { StrategyWrite } from './types.js';

/** A write with the JSON text of its snapshot and records, as its transaction binds them. */
export interface SerializedWrite {
  write: StrategyWrite;
  snapshot: string;
  records: string[];
}

/**
 * Serialises a write's snapshot and records (reads `write.snapshot` once: the runtime makes it on demand).
 *
 * @example
 * ```ts
 * const row = serializedWrite(write); // { write, snapshot: '{"value":"ACTIVE",...}', records: ['{...}'] }
 * ```
 */
export function serializedWrite(write: StrategyWrite): SerializedWrite {
  const records = new Array<string>(write.records.length);
  for (let i = 0; i < records.length; i++) records[i] = JSON.stringify(write.records[i]);
  return { write, snapshot: JSON.stringify(write.snapshot), records };
}

/**
 * The body of one append over a connection's prepared statements (made once per connection, not
 * per write). Its refusals ({@link TradingStateRefusal}, {@link StoreConflictError}) are thrown
 * before it changes a row: the group commit relies on it (see sqliteBatch.ts).
 *
 * @example
 * ```ts
 * const appendTx = sqliteAppendTx(statements);
 * db.transaction(appendTx)(serializedWrite(write));
 * ```
 */
export function sqliteAppendTx(
  statements: Record<'update' | 'insertRecord' | 'tradingState', Database.Statement>,
): (row: SerializedWrite) => void {
  const { update, insertRecord, tradingState } = statements;
  return (row) => {
    const { write, snapshot, records } = row;
    if (write.effect) {
      // Checked in the write's own transaction, like the PostgreSQL store does.
      const refusal = checkTradingState((tradingState.get() as { state: TradingState }).state, write.effect);
      if (refusal) throw new TradingStateRefusal(write.strategyId, refusal.code as TradingStateRefusal['code'], refusal.reason);
    }
    const seq = write.records.length ? write.records[write.records.length - 1].seq : write.expectedSeq;
    const changed = update.run(snapshot, seq, write.state, write.at, write.strategyId, write.expectedSeq).changes;
    if (changed !== 1) throw new StoreConflictError(write.strategyId, `the stored strategy is not at seq ${write.expectedSeq}`);
    for (let i = 0; i < records.length; i++) insertRecord.run(write.strategyId, write.records[i].seq, write.records[i].at, records[i]);
  };
}

/**
 * The store's own errors as they are; any other (SQLite's) as a {@link StoreUnavailableError} of
 * the store `name`.
 *
 * @example
 * ```ts
 * throw typedSqliteError('sqlite:./data/x.db', error); // SQLITE_FULL -> StoreUnavailableError
 * ```
 */
export function typedSqliteError(name: string, error: unknown): Error {
  // The package's own errors (a refusal, a conflict, a schema, identity or data error) already name the problem.
  if (error instanceof StrategyLifecycleError) return error;
  const code = (error as { code?: string })?.code ?? '';
  return new StoreUnavailableError(name, `${code ? `${code}: ` : ''}${(error as Error)?.message ?? String(error)}`, error);
}
