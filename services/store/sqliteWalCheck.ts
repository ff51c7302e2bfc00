/**
 * The check of a SQLite store's write-ahead log (`<path>-wal`) before the open reads it. SQLite
 * reads a log cut short (a crash, a copy taken while the store was writing, a bad restore) without
 * a word: its header cut, it ignores the whole log; a frame cut, it stops before that frame's
 * transaction. The database file then answers as it was at its last checkpoint: another store
 * (no store id yet, when every commit was still in the log), or this store as it was hours ago,
 * its strategies restored to states they have left. Either is a damaged log, not a replaced file.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { StoreCorruptError } from '../../machines/errors.js';

/** The size of a log's header; each frame is a 24-byte frame header and one page. */
const HEADER = 32;
const FRAME_HEADER = 24;
const VERSION = 3007000;

/** What is wrong with a write-ahead log ({@link walDamageOf}). */
export interface WalDamage {
  detail: string;
  /**
   * The log ends partway through a frame. A crash between a frame's header and its page (kill -9
   * or a power loss in the middle of a commit) leaves exactly this, and SQLite then keeps every
   * transaction whose frames are whole: the one cut was never acknowledged. So it refuses no open
   * by itself; only where the file shows what a cut loses (no store id yet) is it named as damage.
   */
  partialFrame: boolean;
}

/**
 * What is wrong with the write-ahead log of the database at `path`, or undefined when there is
 * none, it is empty, or it is whole (a valid header, whole frames). Reads 32 bytes; changes nothing.
 *
 * @example
 * ```ts
 * walDamageOf('./data/x.db'); // { detail: 'it is 10 bytes, shorter than its 32-byte header', partialFrame: false }
 * ```
 */
export function walDamageOf(path: string): WalDamage | undefined {
  const size = statSync(`${path}-wal`, { throwIfNoEntry: false })?.size;
  if (!size) return undefined;
  const damaged = (detail: string, partialFrame = false): WalDamage => ({ detail, partialFrame });
  if (size < HEADER) return damaged(`it is ${size} bytes, shorter than its ${HEADER}-byte header`);
  const header = Buffer.alloc(HEADER);
  const fd = openSync(`${path}-wal`, 'r');
  try {
    readSync(fd, header, 0, HEADER, 0);
  } finally {
    closeSync(fd);
  }
  const magic = header.readUInt32BE(0);
  const pageSize = header.readUInt32BE(8);
  if ((magic !== 0x377f0682 && magic !== 0x377f0683) || header.readUInt32BE(4) !== VERSION)
    return damaged('its header is not a write-ahead log header');
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0)
    return damaged(`its header names no valid page size (${pageSize})`);
  const [sum0, sum1] = walChecksum(header.subarray(0, 24), (magic & 1) === 1);
  if (sum0 !== header.readUInt32BE(24) || sum1 !== header.readUInt32BE(28)) return damaged('its header checksum does not match');
  const frames = (size - HEADER) / (FRAME_HEADER + pageSize);
  if (!Number.isInteger(frames)) {
    return damaged(
      `it is ${size} bytes, ${Math.floor(frames)} whole frames of ${FRAME_HEADER + pageSize} bytes and part of one more: it was cut short`,
      true,
    );
  }
  return undefined;
}

/** SQLite's log checksum (two 32-bit sums over pairs of words, big- or little-endian as the magic says). */
function walChecksum(bytes: Buffer, bigEndian: boolean): [number, number] {
  let s0 = 0;
  let s1 = 0;
  for (let i = 0; i < bytes.length; i += 8) {
    const x0 = bigEndian ? bytes.readUInt32BE(i) : bytes.readUInt32LE(i);
    const x1 = bigEndian ? bytes.readUInt32BE(i + 4) : bytes.readUInt32LE(i + 4);
    s0 = (s0 + x0 + s1) >>> 0;
    s1 = (s1 + x1 + s0) >>> 0;
  }
  return [s0, s1];
}

/**
 * Refuses to open a database whose write-ahead log's header is damaged ({@link walDamageOf}),
 * before anything reads or writes it: the log may hold the newest commits of every strategy, so
 * the advice keeps both files (never `--init`, never deleting the log or the marker). A log that
 * only ends partway through a frame passes: a crash in the middle of a commit leaves that.
 *
 * @example
 * ```ts
 * checkSqliteWal('./data/x.db'); // throws StoreCorruptError naming ./data/x.db-wal
 * ```
 * @throws {StoreCorruptError} naming the log and what is wrong with it.
 */
export function checkSqliteWal(path: string): void {
  const damage = walDamageOf(path);
  if (damage !== undefined && !damage.partialFrame) throw damagedWal(path, damage.detail);
}

/**
 * The error of a database whose write-ahead log is damaged, with the advice that keeps its files.
 *
 * @example
 * ```ts
 * throw damagedWal('./data/x.db', 'its header checksum does not match');
 * ```
 */
export function damagedWal(path: string, detail: string): StoreCorruptError {
  const wal = `${path}-wal`;
  return new StoreCorruptError(
    path,
    `its write-ahead log ${wal} is damaged: ${detail}`,
    undefined,
    'file',
    `The database and its log were left as found. Do not start with --init and do not delete the log or the marker: the log may hold the newest commits of every strategy. Copy ${path}, ${wal} and ${path}.id aside first; then restore the log with its database from a backup, or (after a power loss in the middle of a write, whose last transaction is only incomplete) let sqlite3 keep what the log holds whole: sqlite3 ${path} "PRAGMA quick_check", then start again and check every strategy's position against the broker.`,
  );
}
