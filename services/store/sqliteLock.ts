/**
 * One writing process per SQLite store: the store holds an exclusive SQLite lock on a small file
 * beside the database (`<path>.lock`) while it is open. The operating system drops the lock when
 * the process ends, kill -9 included, so a crash never leaves a stale lock behind; a second
 * process (or a second store in the same process) opening the same database is refused.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { createEmptyFile } from './storeFiles.js';
import { StoreUnavailableError } from '../../machines/errors.js';

/** The lock file of the database at `path`. */
export function lockPathOf(path: string): string {
  return `${path}.lock`;
}

/**
 * Takes the writer lock of the database at `path`; close the returned connection to let it go.
 *
 * @example
 * ```ts
 * const lock = takeWriterLock('sqlite:./data/x.db', './data/x.db');
 * // ... the store is open ...
 * lock.close();
 * ```
 * @throws {StoreUnavailableError} when another open store (another process) holds it.
 */
export function takeWriterLock(name: string, path: string): Database.Database {
  const lockPath = lockPathOf(path);
  // Owner-only like the database (SQLite gives its journal the same mode): made so before SQLite opens it.
  if (!existsSync(lockPath)) {
    try {
      createEmptyFile(lockPath);
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error; // another process made it meanwhile
    }
  }
  const lock = new Database(lockPath, { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    // The first write takes the exclusive lock; in EXCLUSIVE mode it is kept until the connection closes.
    lock.exec('CREATE TABLE IF NOT EXISTS writer (pid INTEGER)');
    lock.prepare('DELETE FROM writer').run();
    lock.prepare('INSERT INTO writer (pid) VALUES (?)').run(process.pid);
    return lock;
  } catch (error) {
    lock.close();
    const code = (error as { code?: string }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
      throw new StoreUnavailableError(
        name,
        `the database is open in another process (it holds ${lockPath}): one process writes a SQLite store; stop the other, or use PostgreSQL for several instances`,
        error,
      );
    }
    throw error;
  }
}

/**
 * Whether another connection (another process, or another store in this one) holds the writer
 * lock of the database at `path` now. Opens the lock file read-only; creates nothing.
 *
 * @example
 * ```ts
 * if (!writerLockHeld(path)) checkSqliteWal(path); // a live writer's log may be mid-frame
 * ```
 */
export function writerLockHeld(path: string): boolean {
  const lockPath = lockPathOf(path);
  if (!existsSync(lockPath)) return false;
  let lock: Database.Database | undefined;
  try {
    lock = new Database(lockPath, { readonly: true, fileMustExist: true, timeout: 0 });
    lock.prepare('SELECT count(*) FROM sqlite_schema').get();
    return false;
  } catch (error) {
    const code = (error as { code?: string }).code;
    return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
  } finally {
    lock?.close();
  }
}
