/**
 * SQLite files written by builds before the first release, which shipped other layouts under the
 * same schema version: a version-1 `strategies` table without `created_at`, and version-2 files
 * without the store identity table. Before, the open failed with a retryable-looking
 * StoreUnavailableError ("no such table: store_identity", "table strategies has no column named
 * created_at"), and for the first had already committed the migration to version 3 and written
 * a marker, so neither build could open the file again. Now the migration brings them to the
 * current layout, and a layout it cannot repair is refused with SchemaLayoutError, the file as
 * it was.
 */
import Database from 'better-sqlite3';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SchemaLayoutError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM, VARIANTS, open } from '../support/fixtures';
import { tempDir } from './helpers';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('sl-legacy-')));
afterEach(() => cleanup());

/** A store holding strategy `lt` in POSITION_OPEN (2 contracts), REDUCING, written by this build. */
async function written(file: string): Promise<void> {
  const system = await openStrategySystem({ store: new SqliteStore(file), variants: [lt112], clock: createSimulatedClock(FRIDAY_11AM) });
  await system.add(lt112, { id: 'lt' });
  for (const event of open(VARIANTS[1].entry, 2)) await system.send('lt', event);
  await system.setTradingState('REDUCING', 'risk', 'ops');
  await system.close();
}

/** The audit table as versions 1 and 2 laid it out (no feed rowid). */
const OLD_AUDIT = `CREATE TABLE audit_old (strategy_id TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, record TEXT NOT NULL, PRIMARY KEY (strategy_id, seq)) WITHOUT ROWID;
  INSERT INTO audit_old SELECT strategy_id, seq, at, record FROM audit_records; DROP TABLE audit_records; ALTER TABLE audit_old RENAME TO audit_records;`;

/** Rewrites the file the way an early build left it; the marker file is removed (those builds wrote none). */
function asEarlyBuild(file: string, rewrite: string, version: number): void {
  const db = new Database(file);
  db.exec(rewrite);
  db.pragma(`user_version = ${version}`);
  db.close();
  rmSync(`${file}.id`);
}

async function reopened(file: string) {
  const system = await openStrategySystem({
    store: new SqliteStore(file),
    variants: [lt112],
    clock: createSimulatedClock(FRIDAY_11AM + 60_000),
  });
  const strategy = system.get('lt');
  const state = { state: strategy.state, quantity: strategy.getSnapshot().context.position?.quantity, tradingState: system.tradingState };
  expect(await system.send('lt', { type: 'MARKET_OPEN' })).toMatchObject({ accepted: true, to: 'MANAGING' });
  const trail = (await system.readAuditTrail('lt')).records.map((r) => r.seq);
  await system.close();
  return { ...state, trail };
}

test('version 2 without the store identity table: opened, migrated, every strategy as it was', async () => {
  const file = join(dir, 's.db');
  await written(file);
  asEarlyBuild(file, `${OLD_AUDIT} DROP TABLE store_identity;`, 2);
  const after = await reopened(file);
  expect(after).toEqual({ state: 'POSITION_OPEN', quantity: 2, tradingState: 'REDUCING', trail: [1, 2, 3, 4, 5, 6] });
  expect(existsSync(`${file}.id`)).toBe(true);
});

test('version 1 whose strategies table has no created_at: opened, the column added from the first record', async () => {
  const file = join(dir, 's.db');
  await written(file);
  asEarlyBuild(
    file,
    `${OLD_AUDIT}
     CREATE TABLE strategies_old (strategy_id TEXT PRIMARY KEY, variant TEXT NOT NULL, params TEXT NOT NULL, snapshot TEXT NOT NULL, seq INTEGER NOT NULL, state TEXT NOT NULL, updated_at INTEGER NOT NULL);
     INSERT INTO strategies_old SELECT strategy_id, variant, params, snapshot, seq, state, updated_at FROM strategies;
     DROP TABLE strategies; ALTER TABLE strategies_old RENAME TO strategies;
     DROP TABLE store_identity; DROP TABLE trading_state; DROP TABLE trading_state_changes; DROP TABLE kill_switch_steps;`,
    1,
  );
  const after = await reopened(file);
  // Version 1 kept no trading state: it starts ACTIVE.
  expect(after).toEqual({ state: 'POSITION_OPEN', quantity: 2, tradingState: 'ACTIVE', trail: [1, 2, 3, 4, 5, 6] });
  const db = new Database(file, { readonly: true });
  expect(db.prepare('SELECT created_at FROM strategies').get()).toEqual({ created_at: FRIDAY_11AM });
  db.close();
});

test('a layout the migration cannot repair: SchemaLayoutError, and the file is as it was (version, no marker)', async () => {
  const file = join(dir, 's.db');
  await written(file);
  asEarlyBuild(
    file,
    `${OLD_AUDIT}
     CREATE TABLE strategies_old (strategy_id TEXT PRIMARY KEY, variant TEXT NOT NULL, params TEXT NOT NULL, snapshot TEXT NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
     INSERT INTO strategies_old SELECT strategy_id, variant, params, snapshot, state, created_at, updated_at FROM strategies;
     DROP TABLE strategies; ALTER TABLE strategies_old RENAME TO strategies;`,
    2,
  );
  const opening = openStrategySystem({ store: new SqliteStore(file), variants: [lt112] });
  await expect(opening).rejects.toThrow(SchemaLayoutError);
  await expect(opening).rejects.toThrow(/do not have the layout of schema version 4 \(.*seq.*\)\. Nothing was written/);
  const db = new Database(file, { readonly: true });
  expect(db.pragma('user_version', { simple: true })).toBe(2);
  db.close();
  expect(existsSync(`${file}.id`)).toBe(false);
});
