/**
 * The audit feed (`readAuditAfter`): a durable cursor over every audit record, in commit order,
 * that survives a restart; a version-2 database migrates to it; on PostgreSQL a row whose
 * transaction commits late is not skipped by a reader that already read past a newer one.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import pg from 'pg';
import { MIGRATIONS, SCHEMA_VERSION } from '../../services/store/migrations';
import { PostgresStore } from '../../services/store/postgresStore';
import { SqliteStore } from '../../services/store/sqliteStore';
import type { AuditFeedEntry, StrategyStore } from '../../services/store/types';
import { FRIDAY_11AM } from '../support/fixtures';
import { tempDir } from './helpers';
import { freshDatabase } from './pg';
import { newStrategy, writeAfter } from './writes';

const dirs: Array<() => void> = [];
afterAll(() => dirs.forEach((cleanup) => cleanup()));
const sqlitePath = () => {
  const tmp = tempDir('sl-feed-');
  dirs.push(tmp.cleanup);
  return join(tmp.dir, 'store.db');
};
const names = (rows: AuditFeedEntry[]) => rows.map((r) => `${r.strategyId}#${r.record?.seq}`);

/** Writes `n` records to `id` (creating it first when `from` is 0). */
async function writeRecords(store: StrategyStore, id: string, from: number, n: number) {
  if (from === 0) await store.create(newStrategy(id));
  for (let seq = from; seq < from + n; seq++) await store.append(writeAfter(id, seq));
}

/** Every row after `cursor`, read page by page. */
async function readAll(store: StrategyStore, cursor: string, limit = 2) {
  const rows: AuditFeedEntry[] = [];
  for (;;) {
    const page = await store.readAuditAfter!(cursor, { limit });
    expect(page.known).toBe(true);
    rows.push(...page.rows);
    if (page.rows.length < limit) return rows;
    cursor = page.rows.at(-1)!.cursor;
  }
}

describe.each([
  [
    'SQLite',
    async () => {
      const path = sqlitePath();
      return () => new SqliteStore(path, { checkEveryMs: 0 });
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const url = await freshDatabase('feed');
      return () => new PostgresStore({ connectionString: url });
    },
  ],
] as const)('%s', (_name, where) => {
  test('records come in commit order after a cursor, page by page; the cursor holds across a reopen; a foreign one is unknown', async () => {
    const make = await where();
    let store: StrategyStore = make();
    await store.open();
    const empty = await store.readAuditAfter!(undefined, { limit: 10 });
    expect(empty).toMatchObject({ rows: [], known: true });
    await writeRecords(store, 'a', 0, 2);
    await writeRecords(store, 'b', 0, 1);
    const { head } = await store.readAuditAfter!(undefined, { limit: 10 });
    await writeRecords(store, 'a', 2, 1);
    await writeRecords(store, 'b', 1, 2);
    const all = await readAll(store, empty.head);
    expect(names(all)).toEqual(['a#1', 'a#2', 'b#1', 'a#3', 'b#2', 'b#3']);
    expect(new Set(all.map((r) => r.cursor)).size).toBe(6);
    expect(all[3].record).toMatchObject({ seq: 3, trigger: 'MARKET_OPEN' });
    const counted = await store.readAuditAfter!(head, { limit: 1, countUpTo: 2 });
    expect(counted).toMatchObject({ known: true, remaining: 2 });
    expect(names(counted.rows)).toEqual(['a#3']);
    // Closed and opened again (a restart): the same cursor reads the same rows.
    await store.close();
    store = make();
    await store.open();
    await store.loadAll(); // claims them again (PostgreSQL)
    expect(names(await readAll(store, head))).toEqual(['a#3', 'b#2', 'b#3']);
    const tail = await store.readAuditAfter!(all.at(-1)!.cursor, { limit: 5 });
    expect(tail).toMatchObject({ rows: [], known: true, head: all.at(-1)!.cursor });
    for (const foreign of ['nonsense', '99999999', '99999999.1', ''])
      expect(await store.readAuditAfter!(foreign, { limit: 5 })).toMatchObject({ rows: [], known: false });
    // A removed strategy's rows leave the feed; a cursor that pointed at them still resumes.
    await store.remove('b');
    expect(names(await readAll(store, empty.head))).toEqual(['a#1', 'a#2', 'a#3']);
    expect(await store.readAuditAfter!(all.at(-1)!.cursor, { limit: 5 })).toMatchObject({ rows: [], known: true });
    await store.close();
  });
});

test('SQLite: a version-2 database migrates to version 3, its trail kept in order of time and readable from the feed', async () => {
  const path = sqlitePath();
  const raw = new Database(path);
  raw.exec(MIGRATIONS.sqlite[0]);
  raw.exec(MIGRATIONS.sqlite[1]);
  raw.prepare('INSERT INTO store_identity (singleton, store_id, created_at) VALUES (1, ?, ?)').run('v2-store', FRIDAY_11AM);
  raw
    .prepare("INSERT INTO strategies VALUES ('z', 'lt112', '{}', '{}', 2, 'READY', 0, 0), ('y', 'lt112', '{}', '{}', 1, 'READY', 0, 0)")
    .run();
  const insert = raw.prepare('INSERT INTO audit_records (strategy_id, seq, at, record) VALUES (?, ?, ?, ?)');
  for (const [id, seq, at] of [
    ['z', 1, 10],
    ['z', 2, 30],
    ['y', 1, 20],
  ] as const)
    insert.run(id, seq, at, JSON.stringify({ seq, at, previousState: 'IDLE', currentState: 'READY', trigger: 'MARKET_OPEN' }));
  raw.pragma('user_version = 2');
  raw.close();
  const store = new SqliteStore(path, { checkEveryMs: 0 });
  await store.open();
  expect(store.identity?.storeId).toBe('v2-store');
  const page = await store.readAuditAfter(undefined, { limit: 1 });
  expect(names(await readAll(store, '0'))).toEqual(['z#1', 'y#1', 'z#2']);
  expect(page.head).toBe('3');
  const [z] = (await store.loadAll()).filter((s) => s.strategyId === 'z');
  expect(z.auditTrail.map((r) => r.seq)).toEqual([1, 2]);
  await store.close();
  const check = new Database(path, { readonly: true });
  expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
  check.close();
});

test('PostgreSQL: a version-2 database migrates; a row whose transaction commits late is not skipped', async () => {
  const url = await freshDatabase('feedv2');
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(MIGRATIONS.postgres[0]);
  await admin.query(MIGRATIONS.postgres[1]);
  await admin.query('CREATE TABLE schema_meta (id INT PRIMARY KEY, version INT NOT NULL); INSERT INTO schema_meta VALUES (1, 2)');
  await admin.query(
    "INSERT INTO strategies (strategy_id, variant, params, snapshot, seq, state, created_at, updated_at) VALUES ('old', 'lt112', '{}', '{}', 1, 'READY', 0, 0)",
  );
  await admin.query(
    `INSERT INTO audit_records (strategy_id, seq, at, record) VALUES ('old', 1, 5, '{"seq": 1, "previousState": "IDLE", "currentState": "READY", "trigger": "MARKET_OPEN"}')`,
  );
  const store = new PostgresStore({ connectionString: url, instanceId: 'feed' });
  await store.open();
  expect((await admin.query('SELECT version FROM schema_meta')).rows).toEqual([{ version: SCHEMA_VERSION }]);
  expect(names(await readAll(store, '0.0'))).toEqual(['old#1']);
  const { head } = await store.readAuditAfter(undefined, { limit: 1 });
  // A slow writer inserts first (smaller identity) and commits after a fast one.
  const slow = new pg.Client({ connectionString: url });
  await slow.connect();
  await slow.query('BEGIN');
  await slow.query(
    `INSERT INTO audit_records (strategy_id, seq, at, record) VALUES ('old', 2, 6, '{"seq": 2, "previousState": "IDLE", "currentState": "READY", "trigger": "MARKET_OPEN"}')`,
  );
  await admin.query(
    `INSERT INTO audit_records (strategy_id, seq, at, record) VALUES ('old', 3, 7, '{"seq": 3, "previousState": "IDLE", "currentState": "READY", "trigger": "MARKET_OPEN"}')`,
  );
  // While the slow one is open, the fast one's row is held back: reading past it would skip the slow one.
  expect((await store.readAuditAfter(head, { limit: 10 })).rows).toEqual([]);
  await slow.query('COMMIT');
  expect(names(await readAll(store, head))).toEqual(['old#2', 'old#3']);
  await slow.end();
  await admin.end();
  await store.close();
});
