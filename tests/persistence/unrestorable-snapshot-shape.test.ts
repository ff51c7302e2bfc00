/**
 * A stored snapshot that is valid JSON but not a snapshot (null, a number, an array) is refused
 * at open with SnapshotRestoreError naming the strategy and its variant, like any snapshot the
 * chart cannot take: never a TypeError from reading its deadline or its state.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { SnapshotRestoreError } from '../../machines/errors';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { holdZeroDte } from '../support/restartHarness';
import { tempDir } from './helpers';

const variants = [zeroDte, lt112, strangle];
let cleanup: () => void;
let file: string;
beforeEach(() => {
  let dir: string;
  ({ dir, cleanup } = tempDir('sl-snapshot-shape-'));
  file = join(dir, 'strategies.db');
});
afterEach(() => cleanup());

const open = () =>
  openStrategySystem({ store: new SqliteStore(file, { checkEveryMs: 0 }), variants, clock: createSimulatedClock(FRIDAY_11AM) });

test.each(['null', '7', '"MANAGING"', '[1,2]'])('a snapshot stored as %s is refused naming the strategy', async (json) => {
  const system = await open();
  await holdZeroDte(system, 'z', { expiry: '2026-01-02' });
  await system.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
  await system.close();
  const db = new Database(file);
  db.prepare("UPDATE strategies SET snapshot = ? WHERE strategy_id = 'z'").run(json);
  db.close();
  const error = await open().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SnapshotRestoreError);
  expect((error as Error).message).toMatch(/^stored strategy "z" of variant "zeroDte" cannot be restored: /);
});
