/**
 * The schema side of a SQLite store's open: the version check, the migrations with the identity
 * row, and the statements every write reuses, prepared once per connection.
 */
import type * as Database from 'better-sqlite3';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import { SchemaLayoutError } from '../../machines/errors.js';
import { checkSqliteIntegrity, corruptionOf, isCorruption } from './sqliteIntegrity.js';
import { newStoreIdentity, type StoreIdentity } from './storeFiles.js';

/** The statements of the write paths, prepared once per connection (see {@link prepareSqliteStatements}). */
export type SqliteStatements = Record<
  'update' | 'insertRecord' | 'create' | 'remove' | 'removeRecords' | 'tradingState',
  Database.Statement
>;

/**
 * The schema version, once the tables an open reads passed SQLite's check (see
 * sqliteIntegrity.ts: the audit trail is not among them, so the open does not grow with history).
 * Read before anything writes (WAL mode itself is a write).
 *
 * @example
 * ```ts
 * const found = checkedSqliteVersion(db, './data/strategy-lifecycle.db'); // 0 for a new file
 * ```
 * @throws {StoreCorruptError}
 */
export function checkedSqliteVersion(db: Database.Database, path: string): number {
  try {
    const found = db.pragma('user_version', { simple: true }) as number;
    checkSqliteIntegrity(db, path);
    return found;
  } catch (error) {
    if (isCorruption(error)) throw corruptionOf(path, error);
    throw error;
  }
}

/**
 * Migrates from version `found` to {@link SCHEMA_VERSION} in one transaction; a new store, or one
 * from before version 2, gets its identity row in the same transaction (made at `now()`).
 *
 * @example
 * ```ts
 * migrateSqlite(db, found, () => clock.now());
 * const identity = sqliteIdentityOf(db);
 * ```
 */
export function migrateSqlite(db: Database.Database, found: number, now: () => number, name = 'sqlite'): void {
  db.transaction(() => {
    for (let version = found + 1; version <= SCHEMA_VERSION; version++) {
      db.exec(MIGRATIONS.sqlite[version - 1]);
      db.pragma(`user_version = ${version}`);
    }
    if (found >= 1) repairSqliteLayout(db);
    // Every statement the store runs, prepared against the migrated tables before the migration
    // commits: a layout it cannot work with is refused with the file as it was, not half-migrated.
    try {
      prepareSqliteStatements(db);
    } catch (error) {
      throw new SchemaLayoutError(name, SCHEMA_VERSION, (error as Error).message);
    }
    // A new store, or one from before version 2: it gets its identity now.
    if (!sqliteIdentityOf(db)) {
      const made = newStoreIdentity(now());
      db.prepare('INSERT INTO store_identity (singleton, store_id, created_at) VALUES (1, ?, ?)').run(made.storeId, made.createdAt);
    }
  })();
}

/**
 * Brings a database written by an early build to the layout its schema version has now. Builds
 * before the first release shipped two layouts under one version number: a version-1
 * `strategies` table without `created_at`, and version-2 databases without the store identity
 * table. Idempotent: a database with the full layout is left as it is.
 */
function repairSqliteLayout(db: Database.Database): void {
  // Only what is missing is written: a database with the full layout is not written at all (an
  // open of a file that cannot be written then fails on its own check, naming the file).
  const tables = new Set(
    (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name),
  );
  const columns = db.prepare("SELECT name FROM pragma_table_info('strategies')").all() as Array<{ name: string }>;
  if (columns.length > 0 && !columns.some((c) => c.name === 'created_at')) {
    db.exec('ALTER TABLE strategies ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0');
    // Its first audit record's time, or its last write's when it has none.
    db.exec(
      'UPDATE strategies SET created_at = COALESCE((SELECT MIN(a.at) FROM audit_records a WHERE a.strategy_id = strategies.strategy_id), updated_at)',
    );
  }
  const missing: Record<string, string> = {
    trading_state: `CREATE TABLE trading_state (
       id INTEGER PRIMARY KEY CHECK (id = 1),
       state TEXT NOT NULL CHECK (state IN ('ACTIVE', 'REDUCING', 'HALTED'))
     );
     INSERT INTO trading_state (id, state) VALUES (1, 'ACTIVE');`,
    trading_state_changes: `CREATE TABLE trading_state_changes (
       seq INTEGER PRIMARY KEY, from_state TEXT NOT NULL, to_state TEXT NOT NULL, reason TEXT NOT NULL, operator TEXT NOT NULL, at INTEGER NOT NULL
     );`,
    kill_switch_steps: `CREATE TABLE kill_switch_steps (
       seq INTEGER PRIMARY KEY, started_at INTEGER NOT NULL, at INTEGER NOT NULL, progress TEXT NOT NULL
     );`,
    store_identity: `CREATE TABLE store_identity (
       singleton INTEGER PRIMARY KEY CHECK (singleton = 1), store_id TEXT NOT NULL, created_at INTEGER NOT NULL
     );`,
  };
  for (const [table, sql] of Object.entries(missing)) if (!tables.has(table)) db.exec(sql);
}

/**
 * The identity row of an open database, if it has one (schema version 2 and later).
 *
 * @example
 * ```ts
 * sqliteIdentityOf(db); // { storeId: '7f1c…', createdAt: 1767225600000 }
 * ```
 */
export function sqliteIdentityOf(db: Database.Database): StoreIdentity | undefined {
  const row = db.prepare('SELECT store_id, created_at FROM store_identity WHERE singleton = 1').get() as
    { store_id: string; created_at: number } | undefined;
  return row ? { storeId: row.store_id, createdAt: row.created_at } : undefined;
}

/**
 * Prepares the statements of the write paths on a migrated connection.
 *
 * @example
 * ```ts
 * const statements = prepareSqliteStatements(db);
 * statements.remove.run('spx-0dte-1');
 * ```
 */
export function prepareSqliteStatements(db: Database.Database): SqliteStatements {
  return {
    update: db.prepare('UPDATE strategies SET snapshot = ?, seq = ?, state = ?, updated_at = ? WHERE strategy_id = ? AND seq = ?'),
    insertRecord: db.prepare('INSERT INTO audit_records (strategy_id, seq, at, record) VALUES (?, ?, ?, ?)'),
    create: db.prepare(
      'INSERT INTO strategies (strategy_id, variant, params, snapshot, seq, state, created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?)',
    ),
    remove: db.prepare('DELETE FROM strategies WHERE strategy_id = ?'),
    removeRecords: db.prepare('DELETE FROM audit_records WHERE strategy_id = ?'),
    tradingState: db.prepare('SELECT state FROM trading_state WHERE id = 1'),
  };
}
