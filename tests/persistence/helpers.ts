import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory for one test's database files. */
export function tempDir(prefix = 'sl-store-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Makes files immutable (a real read-only file, even for root) or writable again. */
export function setImmutable(files: string[], on: boolean): void {
  const present = files.filter((f) => existsSync(f));
  if (present.length) execFileSync('chattr', [on ? '+i' : '-i', ...present]);
}

/** Copies the files of the SQLite store at `from` (open: as a crash leaves them) to `to`. */
export function copyStore(from: string, to: string): void {
  for (const suffix of ['', '-wal', '-shm', '.id']) copyFileSync(from + suffix, to + suffix);
}

/** Runs one SQL statement on the database `file` through a connection of its own (a hand edit). */
export function runSql(file: string, sql: string, ...args: unknown[]): void {
  const db = new Database(file);
  try {
    db.prepare(sql).run(...args);
  } finally {
    db.close();
  }
}
