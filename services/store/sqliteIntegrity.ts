/**
 * SQLite's integrity check, scoped to what an open needs. `PRAGMA quick_check` over the whole file
 * reads every page, so an open that ran it grew with history (a year of audit records: about a
 * second). An open checks only the tables a restore reads whole (`PRAGMA quick_check(TABLE)`,
 * SQLite 3.33 or later: the table and its indexes), whose size follows the number of strategies,
 * not their history. The audit trail is read a page at a time: a damaged audit page is reported
 * when it is read, as {@link StoreCorruptError}; the whole file is checked on request
 * (`SqliteStore.checkIntegrity({ full: true })`, the CLI's `status --check-integrity`).
 */
import type * as Database from 'better-sqlite3';
import { StoreCorruptError } from '../../machines/errors.js';

/**
 * The tables checked at every open, with their indexes: the schema, the strategies (one row
 * each), the store's identity and the shared trading state (rows written by operators, not by
 * transitions). `audit_records`, the one table that grows with history, is not among them.
 */
export const TABLES_CHECKED_AT_OPEN: readonly string[] = [
  'sqlite_schema',
  'strategies',
  'store_identity',
  'trading_state',
  'trading_state_changes',
  'kill_switch_steps',
];

/** Options of an integrity check. */
export interface IntegrityCheckOptions {
  /**
   * `true`: the whole file (every table and index, the audit trail included, and the pages no
   * table uses), as long as reading the file takes. Default: {@link TABLES_CHECKED_AT_OPEN}.
   */
  full?: boolean;
}

/** True for the errors SQLite raises on a damaged file or one that is not a database. */
export function isCorruption(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'));
}

/** A SQLite corruption error as the store's typed error naming the file. */
export function corruptionOf(path: string, error: unknown): StoreCorruptError {
  return new StoreCorruptError(path, error instanceof Error ? error.message : String(error), error);
}

/**
 * Parses JSON text the store wrote (a snapshot, params, an audit record): text that does not parse
 * was damaged on disk or edited by hand, and is reported as such, naming the file and the value.
 *
 * @example
 * ```ts
 * const snapshot = parseStoredJson(path, row.snapshot, 'strategy "z": its snapshot');
 * ```
 * @throws {StoreCorruptError} `<what> is not JSON (<the parser's finding>)`.
 */
export function parseStoredJson(path: string, text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new StoreCorruptError(path, `${what} is not JSON (${error instanceof Error ? error.message : String(error)})`, error);
  }
}

/**
 * Runs `PRAGMA quick_check` on the open connection: over the tables checked at open (those of
 * them the file has: a new file has none yet), or over the whole file with `full`.
 *
 * @example
 * ```ts
 * checkSqliteIntegrity(db, './data/strategy-lifecycle.db');                 // at open
 * checkSqliteIntegrity(db, './data/strategy-lifecycle.db', { full: true }); // every page
 * ```
 * @throws {StoreCorruptError} with SQLite's first finding (prefixed by the table for a scoped check).
 */
export function checkSqliteIntegrity(db: Database.Database, path: string, options: IntegrityCheckOptions = {}): void {
  try {
    if (options.full === true) {
      const verdict = db.pragma('quick_check(1)', { simple: true }) as string;
      if (verdict !== 'ok') throw new StoreCorruptError(path, verdict);
      return;
    }
    const present = new Set(
      (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as Array<{ name: string }>).map((row) => row.name),
    );
    for (const table of TABLES_CHECKED_AT_OPEN) {
      if (table !== 'sqlite_schema' && !present.has(table)) continue;
      const verdict = db.pragma(`quick_check(${table})`, { simple: true }) as string;
      if (verdict !== 'ok') throw new StoreCorruptError(path, `${table}: ${verdict}`);
    }
  } catch (error) {
    if (isCorruption(error)) throw corruptionOf(path, error);
    throw error;
  }
}
