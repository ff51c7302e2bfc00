/**
 * `strategy-lifecycle/sqlite`: the embedded store on SQLite (`better-sqlite3`, a dependency of
 * the package because `strategy-lifecycle serve` runs on it by default). Re-exports only.
 */
export { DEFAULT_SQLITE_PATH, SqliteStore } from '../services/store/sqliteStore.js';
export type { OpenedStoreIdentity, SqliteStoreOptions } from '../services/store/sqliteStore.js';
export { TABLES_CHECKED_AT_OPEN } from '../services/store/sqliteIntegrity.js';
export type { IntegrityCheckOptions } from '../services/store/sqliteIntegrity.js';
