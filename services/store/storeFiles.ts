/**
 * The files of a SQLite store besides the database itself: the owner-only data directory, the
 * marker file that says which store belongs here, and the identity (device, inode) of the open
 * database file, so a store notices when the path stops naming the file it writes to.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { StoreUnavailableError } from '../../machines/errors.js';

/** Which store a database is: written into it at creation and into its marker file. */
export interface StoreIdentity {
  /** A UUID made when the store was created. */
  storeId: string;
  /** When the store was created (epoch ms, the store's clock). */
  createdAt: number;
}

/** Where a file is on disk; a deleted file's path stops naming it, a replaced file's names another. */
export interface FileIdentity {
  dev: bigint;
  ino: bigint;
}

/**
 * The marker file of a database: `<database>.id`, beside it, so any database path has one.
 *
 * @example
 * ```ts
 * markerPathOf('./data/strategy-lifecycle.db'); // './data/strategy-lifecycle.db.id'
 * ```
 */
export function markerPathOf(databasePath: string): string {
  return `${databasePath}.id`;
}

/** A new identity: a random UUID, made at `now`. */
export function newStoreIdentity(now: number): StoreIdentity {
  return { storeId: randomUUID(), createdAt: now };
}

/**
 * Reads a marker file; `undefined` when there is none.
 * @throws {StoreUnavailableError} when it exists but cannot be read or is not a marker.
 */
export function readMarker(store: string, file: string): StoreIdentity | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw new StoreUnavailableError(store, `cannot read the store marker ${file}: ${(error as Error).message}`, error);
  }
  try {
    const marker = JSON.parse(text) as Partial<StoreIdentity>;
    if (typeof marker.storeId === 'string' && typeof marker.createdAt === 'number')
      return { storeId: marker.storeId, createdAt: marker.createdAt };
  } catch {
    // reported below, with what to do
  }
  throw new StoreUnavailableError(
    store,
    `the store marker ${file} is not a marker file (expected JSON with storeId and createdAt): delete it and it is rewritten from the database at the next start`,
  );
}

/**
 * Writes a marker file, owner-only (0600 whatever the umask), through a rename so a crash never
 * leaves half a marker.
 */
export function writeMarker(file: string, identity: StoreIdentity, databasePath: string): void {
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, `${JSON.stringify({ ...identity, database: basename(databasePath) })}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

/** Makes `dir` (and its parents) if missing; the directory made for the data is 0700 whatever the umask. */
export function makeDataDirectory(dir: string): void {
  if (mkdirSync(dir, { recursive: true, mode: 0o700 }) !== undefined) chmodSync(dir, 0o700);
}

/**
 * Creates an empty database file, owner-only (0600 whatever the umask); SQLite gives its `-wal`
 * and `-shm` files the database file's mode. Fails if the file appeared meanwhile.
 */
export function createEmptyFile(path: string): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600);
  } finally {
    closeSync(fd);
  }
}

/** The device and inode `path` names now; `undefined` when it names nothing. */
export function fileIdentityOf(path: string): FileIdentity | undefined {
  const stat = statSync(path, { bigint: true, throwIfNoEntry: false });
  return stat ? { dev: stat.dev, ino: stat.ino } : undefined;
}

/** The file's device, inode, size and modification time as one string; `undefined` when missing. */
export function fileStampOf(path: string): string | undefined {
  const stat = statSync(path, { bigint: true, throwIfNoEntry: false });
  return stat ? `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}` : undefined;
}

/** Whether two identities are the same file. */
export function isSameFile(a: FileIdentity, b: FileIdentity | undefined): boolean {
  return b !== undefined && a.dev === b.dev && a.ino === b.ino;
}
