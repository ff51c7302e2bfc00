/**
 * The periodic file check (checkEveryMs) goes on after a passing fault. Before, it stopped for good
 * after any fault it reported: with the marker deleted while the data directory could not be
 * written (immutable), the check's rewrite of the marker failed with a raw EPERM (not the
 * StoreUnavailableError onFault is typed to get), and the check was never scheduled again: once
 * the directory was writable, the marker was never rewritten, and a database file deleted later
 * was never reported.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { StoreUnavailableError } from '../../machines/errors';
import { createSimulatedClock } from '../../services/market/clock';
import { SqliteStore } from '../../services/store/sqliteStore';
import { setImmutable, tempDir } from './helpers';

test('a transient fault in the periodic check: typed for onFault, and the check keeps running once it is gone', async () => {
  const { dir, cleanup } = tempDir('sl-check-');
  const checkClock = createSimulatedClock(0);
  const faults: unknown[] = [];
  const file = join(dir, 's.db');
  const store = new SqliteStore(file, { checkEveryMs: 1000, checkClock, onFault: (e) => faults.push(e) });
  try {
    await store.open();
    rmSync(`${file}.id`);
    setImmutable([dir], true);
    checkClock.increment(1000);
    setImmutable([dir], false);
    expect(faults).toHaveLength(1);
    expect(faults[0]).toBeInstanceOf(StoreUnavailableError);
    expect((faults[0] as Error).message).toContain('the periodic file check failed');

    checkClock.increment(1000);
    expect(existsSync(`${file}.id`)).toBe(true);

    rmSync(file); // the database itself deleted later: the check should report it
    checkClock.increment(1000);
    expect(faults.some((e) => /was deleted or replaced while open/.test((e as Error).message))).toBe(true);
  } finally {
    setImmutable([dir], false);
    await store.close().catch(() => undefined);
    cleanup();
  }
});
