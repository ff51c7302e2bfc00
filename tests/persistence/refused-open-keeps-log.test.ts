/**
 * An open that refuses the file leaves it as it found it, its write-ahead log included: a
 * read-write connection's close copies the log into the database file and deletes the log, so a
 * refusal made on one would write another store's log over this store's data, or delete a damaged
 * log that still holds the newest commits.
 */
import { copyFileSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { StoreCorruptError, StoreIdentityError } from '../../machines/errors';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { holdZeroDte } from '../support/restartHarness';
import { copyStore, tempDir } from './helpers';

const variants = [zeroDte, lt112, strangle];
let dir: string;
let cleanup: () => void;
let file: string;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('sl-refused-log-'));
  file = join(dir, 'strategies.db');
});
afterEach(() => cleanup());

const open = (path = file) =>
  openStrategySystem({ store: new SqliteStore(path, { checkEveryMs: 0 }), variants, clock: createSimulatedClock(FRIDAY_11AM) });

test("another store's log beside the database: refused, and the database and the log are left byte for byte", async () => {
  const ours = await open();
  await holdZeroDte(ours, 'z', { expiry: '2026-01-02', quantity: 2 });
  await ours.close();
  const other = join(dir, 'other.db');
  const theirs = await open(other);
  await holdZeroDte(theirs, 'q', { expiry: '2026-01-02' });
  copyFileSync(`${other}-wal`, `${file}-wal`);
  await theirs.close();
  const database = readFileSync(file);
  const log = readFileSync(`${file}-wal`);

  await expect(open()).rejects.toMatchObject({ constructor: StoreIdentityError, problem: 'replaced' });
  expect(readFileSync(file).equals(database)).toBe(true);
  expect(readFileSync(`${file}-wal`).equals(log)).toBe(true);
  // The stray log moved aside, the store is as it was: the position is there.
  rmSync(`${file}-wal`);
  rmSync(`${file}-shm`, { force: true });
  const system = await open();
  expect(system.peek('z').snapshot).toMatchObject({ value: 'MANAGING', context: { position: { quantity: 2 } } });
  await system.close();
});

test('a log cut short by a crash: refused as a damaged log (not a replaced database), the log left on disk as found', async () => {
  const crashed = join(dir, 'crashed.db');
  const running = await open(crashed);
  await holdZeroDte(running, 'z', { expiry: '2026-01-02', quantity: 2 });
  copyStore(crashed, file);
  await running.close();
  truncateSync(`${file}-wal`, 5000);
  const log = readFileSync(`${file}-wal`);

  await expect(open()).rejects.toMatchObject({ constructor: StoreCorruptError, path: file });
  expect(readFileSync(`${file}-wal`).equals(log)).toBe(true);
});
