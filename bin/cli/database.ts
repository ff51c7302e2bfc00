/**
 * Opening a database for the read-only commands (`status`, `replay`): the file must exist and be
 * a strategy-lifecycle database of this schema version, checked on a read-only connection first,
 * because `SqliteStore.open()` creates a missing file and migrates an older schema: neither may
 * happen to a database an operator only asked to look at.
 */
import Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SchemaVersionError } from '../../machines/errors.js';
import { SCHEMA_VERSION } from '../../services/store/migrations.js';
import { writerLockHeld } from '../../services/store/sqliteLock.js';
import { checkSqliteWal } from '../../services/store/sqliteWalCheck.js';
import { SqliteStore } from '../../services/store/sqliteStore.js';
import { CommandError } from './args.js';

/** The database file of a data directory (the service's layout). */
export function databaseIn(dataDir: string): string {
  return join(dataDir, 'strategy-lifecycle.db');
}

/**
 * Checks that `path` holds a strategy-lifecycle database this version reads without migrating.
 * @throws {CommandError} naming the file and the problem.
 */
export function checkDatabase(path: string): void {
  if (!existsSync(path)) throw new CommandError(`no database at ${path}`);
  if (!statSync(path).isFile()) throw new CommandError(`${path} is not a file`);
  // A log cut short reads as an older database, or as none ("not a strategy-lifecycle database"):
  // named as what it is, with the advice that keeps the files. Not while the service writes it.
  if (!writerLockHeld(path)) {
    try {
      checkSqliteWal(path);
    } catch (error) {
      throw new CommandError((error as Error).message);
    }
  }
  let version: number;
  let tables: number;
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      version = db.pragma('user_version', { simple: true }) as number;
      tables = (
        db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('strategies', 'audit_records')").get() as {
          n: number;
        }
      ).n;
    } finally {
      db.close();
    }
  } catch (error) {
    throw new CommandError(`cannot read ${path}: ${(error as Error).message}`);
  }
  if (version > SCHEMA_VERSION) throw new CommandError(new SchemaVersionError(`sqlite:${path}`, version, SCHEMA_VERSION).message);
  if (version === 0 || tables < 2) throw new CommandError(`${path} is not a strategy-lifecycle database`);
  if (version < SCHEMA_VERSION) {
    throw new CommandError(
      `${path} has schema version ${version}, older than this version's ${SCHEMA_VERSION}: start the service on it once to migrate it`,
    );
  }
}

/**
 * A store over an existing, current database (checked by {@link checkDatabase}), opened. It
 * creates nothing, not even a missing marker, and refuses a database its marker does not name.
 */
export async function openExistingStore(path: string): Promise<SqliteStore> {
  checkDatabase(path);
  const store = new SqliteStore(path, { create: false, checkEveryMs: 0, lock: false });
  await store.open();
  return store;
}
