/**
 * Opening a SQLite store's database, in the order that keeps a wrong or damaged file untouched:
 * the file made only where allowed, its identity taken, its version and the tables a restore reads
 * checked, its id compared with the marker's, and only then the first write (WAL mode, migrations).
 */
import Database from 'better-sqlite3';
import { SchemaVersionError, StoreUnavailableError } from '../../machines/errors.js';
import { SCHEMA_VERSION } from './migrations.js';
import { checkSqliteMarker, checkSqlitePath, createSqliteFileIfAllowed } from './sqliteFileChecks.js';
import { DEFAULT_SQLITE_BUSY_TIMEOUT_MS, SQLITE_BUSY_SLICE_MS } from './sqliteBusy.js';
import { writerLockHeld } from './sqliteLock.js';
import type { OpenedStoreIdentity, SqliteStoreOptions } from './sqliteOptions.js';
import { checkedSqliteVersion, migrateSqlite, prepareSqliteStatements, sqliteIdentityOf, type SqliteStatements } from './sqliteSchema.js';
import { checkSqliteWal, damagedWal, walDamageOf } from './sqliteWalCheck.js';
import { fileIdentityOf, markerPathOf, readMarker, writeMarker, type FileIdentity, type StoreIdentity } from './storeFiles.js';

/** An open, migrated connection and what the store keeps of its open. */
export interface OpenedSqlite {
  db: Database.Database;
  /** The file opened (not for `:memory:`): every commit is confirmed to have gone to it. */
  file: FileIdentity | undefined;
  identity: OpenedStoreIdentity;
  statements: SqliteStatements;
}

/**
 * Opens the database at `path` as the store `name`: creates it only as
 * {@link SqliteStoreOptions.create} allows, refuses a corrupt file or a damaged write-ahead log (`StoreCorruptError`), a newer
 * schema ({@link SchemaVersionError}) and a file that is not this store (`StoreIdentityError`),
 * then migrates and prepares the write statements. A connection that fails any step is closed.
 *
 * @example
 * ```ts
 * const { db, identity } = openSqliteDatabase('sqlite:./data/x.db', './data/x.db', {}, () => Date.now());
 * ```
 */
export function openSqliteDatabase(
  name: string,
  path: string,
  options: SqliteStoreOptions,
  now: () => number,
  /** Takes the one-writer lock: after the checks that touch nothing, before the first write. */
  lockWriter?: () => void,
): OpenedSqlite {
  let db: Database.Database | undefined;
  try {
    const onDisk = path !== ':memory:';
    if (onDisk) checkSqlitePath(name, path);
    const marker = onDisk ? readMarker(name, markerPathOf(path)) : undefined;
    const created = onDisk ? createSqliteFileIfAllowed(name, path, options.create, marker) : 'first-start';
    // A log whose header is damaged reads as an older database (or none): refused as what it is,
    // before any read. A writer open in another process may be rewriting the header: not checked.
    if (onDisk && !writerLockHeld(path)) checkSqliteWal(path);
    // The checks read through a read-only connection: closing a read-write one copies the
    // write-ahead log into the file and deletes the log, so a file refused here (another store's
    // log beside it, a damaged log) would be changed by its refusal, the evidence gone with it.
    const found = onDisk ? checkedReadOnly(name, path, marker, created) : checkedSqliteVersion((db = new Database(path)), path);
    db ??= new Database(path, { fileMustExist: onDisk });
    // Taken at once: every later commit is compared with the file opened here.
    const file = onDisk ? fileIdentityOf(path) : undefined;
    // Before WAL mode and the migrations: a second process never migrates the first one's database.
    lockWriter?.();
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    // At open nothing else runs yet: SQLite may wait out the whole bound for the migrations.
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? DEFAULT_SQLITE_BUSY_TIMEOUT_MS}`);
    migrateSqlite(db, found, now, name);
    if (onDisk) checkWritable(name, path, db);
    const identity = sqliteIdentityOf(db);
    if (!identity) throw new StoreUnavailableError(name, 'the migration wrote no store identity');
    if (onDisk && (!marker || created === 'init') && options.create !== false) writeMarker(markerPathOf(path), identity, path);
    const statements = prepareSqliteStatements(db);
    // Serving: a wait inside SQLite holds the event loop, so it is a few ms; the store waits between attempts (sqliteBusy.ts).
    db.pragma(`busy_timeout = ${SQLITE_BUSY_SLICE_MS}`);
    return { db, file, identity: { ...identity, created: found === 0 ? created || 'first-start' : false }, statements };
  } catch (error) {
    db?.close();
    throw error;
  }
}

/**
 * The version of the file at `path` and its checks before anything writes (WAL mode itself is a
 * write): SQLite's check of the tables a restore reads, the schema version, the marker's store id.
 * Read through a read-only connection, which never copies the log into the file when closed.
 * @throws {StoreCorruptError}, {@link SchemaVersionError}, `StoreIdentityError`.
 */
function checkedReadOnly(name: string, path: string, marker: StoreIdentity | undefined, created: OpenedStoreIdentity['created']): number {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const found = checkedSqliteVersion(db, path);
    if (found > SCHEMA_VERSION) throw new SchemaVersionError(name, found, SCHEMA_VERSION);
    if (marker && created !== 'init') {
      const stored = found >= 2 ? sqliteIdentityOf(db) : undefined;
      // No store id in a file its marker names, and a log cut inside a frame: the commit that wrote
      // the id is what the cut lost. The log is damaged; the file was not replaced (whose advice,
      // deleting the marker, would start an empty store).
      const cut = stored === undefined ? walDamageOf(path) : undefined;
      if (cut) throw damagedWal(path, cut.detail);
      checkSqliteMarker(name, path, marker, stored);
    }
    return found;
  } finally {
    db.close();
  }
}

/**
 * One committed write that changes nothing: a file SQLite could only open read-only (its mode, an
 * immutable flag, a read-only mount) would otherwise open as usual and refuse every write after,
 * a service that says it is serving while nothing can be stored.
 * @throws {StoreUnavailableError} naming the file.
 */
function checkWritable(name: string, path: string, db: Database.Database): void {
  try {
    writeNothing(db);
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (!code.startsWith('SQLITE_READONLY') && !code.startsWith('SQLITE_CANTOPEN') && !code.startsWith('SQLITE_IOERR')) throw error;
    throw new StoreUnavailableError(
      name,
      `database file ${path} cannot be written (${code}: a read-only file, directory or mount, or an immutable flag): nothing could be stored; fix its permissions and start again`,
      error,
    );
  }
}

/**
 * Commits a write that leaves the data as it was but writes a page (SQLite skips an update to
 * identical bytes, so the change is made and undone in one transaction): it needs the space and
 * the I/O any commit needs. @throws SQLite's error when the file cannot be written.
 */
export function writeNothing(db: Database.Database): void {
  db.transaction(() => {
    db.prepare('UPDATE store_identity SET created_at = created_at + 1').run();
    db.prepare('UPDATE store_identity SET created_at = created_at - 1').run();
  })();
}
