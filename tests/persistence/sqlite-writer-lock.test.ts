/**
 * One writing process per SQLite store. Before, a second process opened the same file too: both
 * said ready, the second held stale copies (its sends refused as seq conflicts) and a trading
 * state it never reloaded, and with the market driver on both would have run the same trading day.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { StoreUnavailableError } from '../../machines/errors';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../services/store/migrations';
import { takeWriterLock } from '../../services/store/sqliteLock';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from './helpers';

/** Runs `body` with the path of a database in a fresh temp dir, removed afterwards. */
async function withDatabase(name: string, body: (path: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = tempDir();
  try {
    await body(join(dir, name));
  } finally {
    cleanup();
  }
}

test('a second open of the same database is refused while the first is open; a read-only tool may open it; after close it opens', () =>
  withDatabase('s.db', async (path) => {
    const first = new SqliteStore(path);
    await first.open();
    const second = new SqliteStore(path);
    await expect(second.open()).rejects.toThrow(StoreUnavailableError);
    await expect(second.open()).rejects.toThrow(`the database is open in another process (it holds ${path}.lock)`);
    const reader = new SqliteStore(path, { create: false, lock: false, checkEveryMs: 0 });
    await reader.open();
    expect((await reader.loadSystemState()).tradingStateHistory).toEqual([]);
    await reader.close();
    await first.close();
    await second.open();
    await second.close();
  }));

test('the lock of a process killed with SIGKILL is gone with it: the next process opens the database', () =>
  withDatabase('s.db', async (path) => {
    const entry = join(__dirname, '../../dist/cjs/entries/sqlite.js');
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const { SqliteStore } = require(${JSON.stringify(entry)}); new SqliteStore(${JSON.stringify(path)}).open().then(() => console.log('OPEN'), (e) => { console.error(e); process.exit(3); }); setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const store = new SqliteStore(path);
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('OPEN') && resolve());
        child.on('exit', (code) => reject(new Error(`child exited ${code}`)));
      });
      await expect(store.open()).rejects.toThrow('the database is open in another process');
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    await store.open();
    await store.close();
  }));

test('a second open refused by the lock has not migrated the database the first one runs (an older schema stays as it is)', () =>
  withDatabase('old.db', async (path) => {
    const raw = new Database(path);
    raw.exec(MIGRATIONS.sqlite[0]);
    raw.exec(MIGRATIONS.sqlite[1]);
    raw.prepare('INSERT INTO store_identity (singleton, store_id, created_at) VALUES (1, ?, ?)').run('v2-store', 0);
    raw.pragma('user_version = 2');
    raw.close();
    const held = takeWriterLock(`sqlite:${path}`, path); // the process running on it
    try {
      await expect(new SqliteStore(path, { checkEveryMs: 0 }).open()).rejects.toThrow('the database is open in another process');
      const check = new Database(path, { readonly: true });
      expect(check.pragma('user_version', { simple: true })).toBe(2);
      expect(check.pragma('journal_mode', { simple: true })).toBe('delete');
      check.close();
    } finally {
      held.close();
    }
  }));
