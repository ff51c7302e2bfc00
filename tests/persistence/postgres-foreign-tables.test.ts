/**
 * A PostgreSQL database that already holds another application's tables under our names is not
 * a store: before, the open failed as "unavailable: relation strategies already exists", which
 * reads as retryable and sends a supervisor into a restart loop.
 */
import pg from 'pg';
import { StoreIdentityError } from '../../machines/errors';
import { PostgresStore } from '../../services/store/postgresStore';
import { freshDatabase } from './pg';

test('an unversioned database with a table named strategies is refused with StoreIdentityError (foreign), and nothing is written', async () => {
  const url = await freshDatabase('foreign');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CREATE TABLE strategies (id serial PRIMARY KEY, title text)');
    const store = new PostgresStore({ connectionString: url });
    const opening = store.open();
    await expect(opening).rejects.toThrow(StoreIdentityError);
    await expect(opening).rejects.toMatchObject({
      problem: 'foreign',
      message: expect.stringContaining(
        "the database already has table strategies but no strategy-lifecycle schema version: another application's? Give the store an empty database (or schema). Nothing was written.",
      ),
    });
    const tables = await client.query<{ name: string }>(
      'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name',
    );
    expect(tables.rows.map((r) => r.name)).toEqual(['strategies']);
    await store.close();
  } finally {
    await client.end();
  }
});
