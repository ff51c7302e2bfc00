import pg from 'pg';

/** The test cluster's URL; a PostgreSQL test fails (never skips) when there is none. */
export function pgUrl(): string {
  const url = process.env.PG_TEST_URL;
  if (!url) throw new Error(process.env.PG_TEST_ERROR ?? 'PG_TEST_URL is not set and no test cluster was started');
  return url;
}

/** A fresh database on the test cluster, so tests never see each other's rows. */
export async function freshDatabase(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: pgUrl() });
  await admin.connect();
  const db = `${name}_${process.pid}_${Math.floor(Math.random() * 1e9)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  await admin.query(`CREATE DATABASE ${db}`);
  await admin.end();
  const url = new URL(pgUrl());
  url.pathname = `/${db}`;
  return url.toString();
}

/** Waits (real time, bounded) for what another connection or instance brings about; fails naming `what`. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The rows of one statement, run on a connection of its own (opened and closed here). */
export async function sql<T extends pg.QueryResultRow = Record<string, unknown>>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}
