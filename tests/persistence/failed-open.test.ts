/**
 * An open that fails while it reads the stored trading state closes what it opened. Before, the
 * store (its connection, on SQLite its writer lock) and its LISTEN connection were left open when
 * the trading state could not be read: the next open of the same file was refused as if another
 * process held it.
 */
import { join } from 'node:path';
import { StoreUnavailableError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import type { StoredSystemState } from '../../services/store/types';
import { FRIDAY_11AM } from '../support/fixtures';
import { tempDir } from './helpers';

/** The real store, whose trading state cannot be read (a damaged page, a dropped connection). */
class UnreadableStateStore extends SqliteStore {
  override loadSystemState(): Promise<StoredSystemState> {
    return Promise.reject(new StoreUnavailableError(this.name, 'disk I/O error'));
  }
}

test('an open whose trading state cannot be read fails with the error and leaves the store closed', async () => {
  const { dir, cleanup } = tempDir('sl-failed-open-');
  const file = join(dir, 's.db');
  try {
    const failing = new UnreadableStateStore(file, { checkEveryMs: 0 });
    await expect(openStrategySystem({ store: failing, variants: [lt112], clock: createSimulatedClock(FRIDAY_11AM) })).rejects.toThrow(
      'disk I/O error',
    );
    // Closed: its writer lock is free, and the same file opens.
    const system = await openStrategySystem({ store: new SqliteStore(file, { checkEveryMs: 0 }), variants: [lt112] });
    await system.add(lt112, { id: 'a' });
    await system.close();
  } finally {
    cleanup();
  }
});
