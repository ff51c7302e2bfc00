/**
 * A strategies row and its audit trail are written in one transaction: the row's seq is its
 * newest record's, and records are numbered from 1 without gaps. A row that disagrees with its
 * trail (a snapshot older than the transitions recorded after it, as when part of a file is put
 * back from an older copy; records missing from the restore window) is refused at open with
 * StoreCorruptError naming the strategy, never restored into a state it has left (a filled entry restored as still pending,
 * its position gone).
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { StoreCorruptError } from '../../machines/errors';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { feed } from '../support/restartHarness';
import { runSql, tempDir } from './helpers';

const variants = [zeroDte, lt112, strangle];
let dir: string;
let cleanup: () => void;
let file: string;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('sl-stale-'));
  file = join(dir, 'strategies.db');
});
afterEach(() => cleanup());

const newStore = () => new SqliteStore(file, { checkEveryMs: 0 });
const open = () => openStrategySystem({ store: newStore(), variants, clock: createSimulatedClock(FRIDAY_11AM) });
const run = (sql: string, ...args: unknown[]) => runSql(file, sql, ...args);
type Row = { snapshot: string; seq: number; state: string };

/**
 * A closed store: `z` (0DTE) filled for 2 contracts, `lt` (LT112) moved through 20 window events,
 * `s` (strangle) just added; returns z's row as it was while its order was pending.
 */
async function storeWithPendingRow(): Promise<Row> {
  const system = await open();
  await system.add(zeroDte, { id: 'z' });
  await feed(system, 'z', [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START', window: 'entry' },
    { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2026-01-02' },
    { type: 'ORDER_SUBMITTED' },
  ]);
  await system.flush();
  const db = new Database(file, { readonly: true });
  const pending = db.prepare("SELECT snapshot, seq, state FROM strategies WHERE strategy_id = 'z'").get() as Row;
  db.close();
  await feed(system, 'z', [{ type: 'ORDER_FILLED', quantity: 2, expiry: '2026-01-02' }]);
  await system.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
  await system.send('lt', { type: 'MARKET_OPEN' });
  for (let i = 0; i < 20; i++) await system.send('lt', { type: i % 2 === 0 ? 'TIME_WINDOW_START' : 'TIME_WINDOW_END' });
  await system.add(strangle, { id: 's', params: { underlying: 'SPX' } });
  await system.close();
  return pending;
}

async function refusal(): Promise<StoreCorruptError> {
  const error = await open().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(StoreCorruptError);
  expect(error).toMatchObject({ path: file });
  return error as StoreCorruptError;
}

test('a snapshot older than its trail (the row put back from before the fill) is refused, not restored without its position', async () => {
  const pending = await storeWithPendingRow();
  run("UPDATE strategies SET snapshot = ?, seq = ?, state = ? WHERE strategy_id = 'z'", pending.snapshot, pending.seq, pending.state);
  const error = await refusal();
  expect(error.detail).toContain('strategy "z"');
  expect(error.detail).toContain(`seq ${pending.seq}`);
  expect(error.detail).toContain(`seq ${pending.seq + 1}`);
});

test('a seq lower than the newest audit record is refused', async () => {
  await storeWithPendingRow();
  run("UPDATE strategies SET seq = seq - 2 WHERE strategy_id = 'lt'");
  expect((await refusal()).detail).toContain('strategy "lt"');
});

test('a trail missing its newest records is refused', async () => {
  await storeWithPendingRow();
  run("DELETE FROM audit_records WHERE strategy_id = 'z' AND seq = (SELECT MAX(seq) FROM audit_records WHERE strategy_id = 'z')");
  expect((await refusal()).detail).toContain('strategy "z"');
});

test('a gap in the restore window is refused; one older than the window is not read at open', async () => {
  await storeWithPendingRow();
  run("DELETE FROM audit_records WHERE strategy_id = 'lt' AND seq = 18");
  expect((await refusal()).detail).toContain('strategy "lt"');
  const store = newStore();
  await store.open();
  await expect(store.loadAll({ window: 3 })).resolves.toHaveLength(3);
  await store.close();
});

test('a store whose rows and trails agree restores every strategy, the position with it', async () => {
  await storeWithPendingRow();
  const system = await open();
  expect(system.ids().sort()).toEqual(['lt', 's', 'z']);
  expect(system.peek('z').snapshot).toMatchObject({ value: 'POSITION_OPEN', context: { position: { quantity: 2 } } });
  await system.close();
});
