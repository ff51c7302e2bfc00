/**
 * The schema of a PostgreSQL store: migrated at open, one instance at a time (an advisory lock),
 * the version read before anything is written, so an older build never touches a newer schema.
 */
import type * as pg from 'pg';
import { SchemaVersionError, StoreIdentityError } from '../../machines/errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';

/** The tables the migrations create (schema_meta aside). */
const OWN_TABLES = ['strategies', 'audit_records', 'store_identity', 'trading_state', 'trading_state_changes', 'kill_switch_steps'];

/** Key of the advisory lock that serialises migrations across instances. */
const MIGRATION_LOCK = 728014;

/**
 * Migrates the schema to {@link SCHEMA_VERSION} inside the caller's transaction.
 *
 * @example
 * ```ts
 * await client.query('BEGIN');
 * await migratePostgres(client, 'postgres:db:5432/app');
 * await client.query('COMMIT');
 * ```
 * @throws {SchemaVersionError} when the database is newer than this build (nothing is written).
 * @throws {StoreIdentityError} (`foreign`) when an unversioned database already has tables of ours' names.
 */
/** How long a migration statement may run (an hour): far longer than any answer the store otherwise waits for. */
const MIGRATION_TIMEOUT_MS = 3_600_000;

export async function migratePostgres(client: pg.PoolClient, name: string): Promise<void> {
  // One instance migrates at a time; the version is read before anything is written.
  await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
  await client.query('CREATE TABLE IF NOT EXISTS schema_meta (id INT PRIMARY KEY, version INT NOT NULL)');
  const found = (await client.query<{ version: number }>('SELECT version FROM schema_meta WHERE id = 1')).rows[0]?.version ?? 0;
  if (found > SCHEMA_VERSION) throw new SchemaVersionError(name, found, SCHEMA_VERSION);
  if (found === 0) {
    // No version: a new store, unless another application's tables already use our names.
    const { rows } = await client.query<{ name: string }>(
      'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ANY($1) ORDER BY table_name',
      [OWN_TABLES],
    );
    if (rows.length > 0) {
      throw new StoreIdentityError(
        name,
        'foreign',
        `the database already has table${rows.length === 1 ? '' : 's'} ${rows.map((r) => r.name).join(', ')} but no strategy-lifecycle schema version: another application's? Give the store an empty database (or schema). Nothing was written.`,
      );
    }
  }
  // A migration may rewrite a large table: it is the one statement not bound by the store's query timeout.
  for (let version = found + 1; version <= SCHEMA_VERSION; version++)
    await client.query({ text: MIGRATIONS.postgres[version - 1], query_timeout: MIGRATION_TIMEOUT_MS } as pg.QueryConfig);
  if (found < SCHEMA_VERSION) {
    await client.query('INSERT INTO schema_meta (id, version) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET version = $1', [
      SCHEMA_VERSION,
    ]);
  }
}
