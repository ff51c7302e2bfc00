/**
 * The checks that a SQLite store's path names its own database: at open (is the file missing
 * because it is new, or because it was deleted? is it the database its marker names?) and while
 * open (was the file deleted or replaced? does the marker still name this store?). The files
 * themselves (marker, identity, modes) are storeFiles.ts; the store keeps the verdicts.
 */
import { existsSync, rmSync, statSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { StoreIdentityError, StoreUnavailableError } from '../../machines/errors.js';
import type { OpenedStoreIdentity } from './sqliteOptions.js';
import { createEmptyFile, makeDataDirectory, markerPathOf, readMarker, writeMarker, type StoreIdentity } from './storeFiles.js';

/**
 * Refuses a path that cannot name a database file, before anything else reads it: a directory
 * (SQLite would answer only SQLITE_IOERR_READ or SQLITE_CANTOPEN, naming nothing), or a path
 * under a file (an error about the marker file, not about the path given).
 *
 * @example
 * ```ts
 * checkSqlitePath('sqlite:./data', './data'); // throws: ./data is a directory
 * ```
 * @throws {StoreUnavailableError} naming the path and what it is.
 */
export function checkSqlitePath(name: string, path: string): void {
  const stat = statOf(path);
  if (stat?.isDirectory()) {
    throw new StoreUnavailableError(
      name,
      `${path} is a directory, not a database file: nothing was opened or created. Give the database file's path (e.g. ${join(path, 'strategy-lifecycle.db')}).`,
    );
  }
  if (stat) return;
  for (let parent = dirname(path); ; parent = dirname(parent)) {
    const found = statOf(parent);
    if (found && !found.isDirectory()) {
      throw new StoreUnavailableError(
        name,
        `${parent}, in the database path ${path}, is a file, not a directory: nothing was opened or created.`,
      );
    }
    if (found || dirname(parent) === parent) return;
  }
}

/** The stat of `path`, or undefined when it is missing (or a path under a file: ENOTDIR). */
function statOf(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/**
 * Makes the missing database file at `path`, or says why it may not (see
 * `SqliteStoreOptions.create`); returns how the store was made, false when the file exists.
 *
 * @example
 * ```ts
 * const created = createSqliteFileIfAllowed('sqlite:./data/x.db', './data/x.db', undefined, readMarker(name, markerPathOf(path)));
 * ```
 * @throws {StoreIdentityError} `deleted`: a marker names a store whose file is gone.
 * @throws {StoreUnavailableError} when `create` is false and there is no file.
 */
export function createSqliteFileIfAllowed(
  name: string,
  path: string,
  create: boolean | undefined,
  marker: StoreIdentity | undefined,
): OpenedStoreIdentity['created'] {
  if (existsSync(path)) return false;
  if (marker && create !== true) {
    throw new StoreIdentityError(
      name,
      'deleted',
      `database file ${path} is missing, but its marker ${markerPathOf(path)} says store ${marker.storeId} (made ${new Date(marker.createdAt).toISOString()}) was here: the file was deleted or moved. Nothing was created. Put the file back, or start with --init (create: true) for an empty store.`,
    );
  }
  if (create === false) throw new StoreUnavailableError(name, `no database at ${path}; nothing was created`);
  makeDataDirectory(dirname(path));
  // What is left of a deleted database must not be replayed into the new one; the old marker
  // goes first, so an --init cut short leaves a first start, not a "replaced" database.
  if (marker) for (const file of [markerPathOf(path), `${path}-wal`, `${path}-shm`]) rmSync(file, { force: true });
  createEmptyFile(path);
  return marker ? 'init' : 'first-start';
}

/**
 * A database whose id is not its marker's was put in the store's place.
 *
 * @example
 * ```ts
 * checkSqliteMarker(name, path, marker, sqliteIdentityOf(db)); // throws when they differ
 * ```
 * @throws {StoreIdentityError} `replaced`.
 */
export function checkSqliteMarker(name: string, path: string, marker: StoreIdentity, stored: StoreIdentity | undefined): void {
  if (stored?.storeId === marker.storeId) return;
  const what = stored ? `store ${stored.storeId}` : 'a database without a store id';
  throw new StoreIdentityError(
    name,
    'replaced',
    `database file ${path} is ${what}, but its marker ${markerPathOf(path)} says store ${marker.storeId}: the file was replaced. Nothing was written. Put the right file back; if this database is the one to keep, delete the marker and it is rewritten from the database.`,
  );
}

/**
 * The error of a store whose open file the path no longer names; the store refuses every later write with it.
 *
 * @example
 * ```ts
 * if (!isSameFile(opened, fileIdentityOf(path))) throw (lost = sqliteFileLost(name, path));
 * ```
 */
export function sqliteFileLost(name: string, path: string): StoreUnavailableError {
  return new StoreUnavailableError(
    name,
    `database file ${path} was deleted or replaced while open: what is written to it can no longer be found, so no write is acknowledged and every write is refused from now on (reads still answer from the open file). The write that found it gone may already be in the moved file (put back, it shows there). A restart refuses the missing or replaced file (put it back, or start with --init for an empty store).`,
  );
}

/**
 * Reads the marker of an open store again: a missing marker is written again (unless `create`
 * is false: the database is intact); a marker naming another store is returned as the error the
 * store refuses every later write with.
 *
 * @example
 * ```ts
 * const replaced = recheckSqliteMarker(name, path, identity, options.create);
 * if (replaced) throw (lost = replaced);
 * ```
 * @throws {StoreUnavailableError} when the marker cannot be read.
 */
export function recheckSqliteMarker(
  name: string,
  path: string,
  identity: StoreIdentity,
  create: boolean | undefined,
): StoreUnavailableError | undefined {
  const markerPath = markerPathOf(path);
  const marker = readMarker(name, markerPath);
  if (!marker && create !== false) writeMarker(markerPath, identity, path);
  else if (marker && marker.storeId !== identity.storeId) {
    return new StoreUnavailableError(
      name,
      `the marker ${markerPath} now names store ${marker.storeId}, not this store (${identity.storeId}): another store was put in this place while open. Writes are refused from now on.`,
    );
  }
  return undefined;
}

/**
 * The error of a store whose write-ahead log (`<path>-wal`) was deleted or replaced while open:
 * SQLite keeps appending to the file it opened, which nothing on disk names any more, so a crash
 * would lose every commit since. What was committed is copied into the database file first
 * (a checkpoint), then every later write is refused.
 */
export function sqliteWalLost(name: string, path: string): StoreUnavailableError {
  return new StoreUnavailableError(
    name,
    `write-ahead log ${path}-wal was deleted or replaced while open: new commits would go to a file nothing on disk names. What was committed has been copied into the database file; no write is acknowledged and every write is refused from now on: restart the service.`,
  );
}

/**
 * The error of a store whose shared-memory index (`<path>-shm`, which SQLite maps into memory) was
 * truncated or made unwritable while open: a write through the mapping would kill the process
 * (SIGBUS). A truncated one is given its size back first (SQLite rebuilds the index from the log).
 */
export function sqliteShmLost(name: string, path: string, what: 'truncated' | 'unwritable'): StoreUnavailableError {
  return new StoreUnavailableError(
    name,
    `shared-memory index ${path}-shm was ${what === 'truncated' ? 'truncated' : 'made unwritable (permissions or an immutable flag)'} while open: SQLite maps it into memory, and using it could kill the process. No write is acknowledged and every read and write is refused from now on: ${what === 'truncated' ? '' : 'make it writable again and '}restart the service.`,
  );
}

/**
 * The error of a store whose writer lock file (`<path>.lock`) was deleted or replaced while open:
 * a second process could open the database and write beside this one. This one stops writing.
 */
export function sqliteLockLost(name: string, path: string): StoreUnavailableError {
  return new StoreUnavailableError(
    name,
    `writer lock ${path}.lock was deleted or replaced while open: another process may open the database now, so this one refuses every write from now on. Stop the other process if one started, then restart this one.`,
  );
}
