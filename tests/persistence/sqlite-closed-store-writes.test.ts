/**
 * A write asked of a SQLite store after it was closed (a `remove`, `add` or trading state change
 * that comes after `close()`) is refused as "not open", as an append is. Before, the write checked
 * the write-ahead log first, found it gone (SQLite deletes it on a clean close) and answered that
 * the log "was deleted or replaced while open ... restart the service": a damaged store, for
 * nothing worse than a closed one. Real SQLite files in a temp dir.
 */
import { join } from 'node:path';
import { createActor } from 'xstate';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { StoreUnavailableError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { tempDir } from './helpers';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('sl-closed-writes-')));
afterEach(() => cleanup());

/** The refusal a write after close must be: typed, saying the store is not open, nothing about a lost file. */
async function expectNotOpen(write: Promise<unknown>): Promise<void> {
  const error = await write.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreUnavailableError);
  expect((error as Error).message).toMatch(/unavailable: not open$/);
}

test('remove, add and a trading state change after close are refused as "not open", not as a lost write-ahead log', async () => {
  const path = join(dir, 'closed.db');
  const store = new SqliteStore(path);
  const system = await openStrategySystem({ store, variants: [lt112], clock: createSimulatedClock(FRIDAY_11AM) });
  await system.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
  expect(await system.send('lt', { type: 'MARKET_OPEN' })).toMatchObject({ accepted: true });
  await system.close();

  await expectNotOpen(system.remove('lt'));
  await expectNotOpen(system.setTradingState('HALTED', 'after close'));
  const snapshot = createActor(createStrategyMachine(lt112)).getPersistedSnapshot();
  await expectNotOpen(store.create({ strategyId: 'late', variant: 'lt112', params: {}, snapshot, state: 'INITIALIZING', at: FRIDAY_11AM }));
  await expectNotOpen(store.remove('lt'));

  // Reopened, the store is whole: the strategy is still there and writes go through.
  const again = await openStrategySystem({ store: new SqliteStore(path), variants: [lt112], clock: createSimulatedClock(FRIDAY_11AM) });
  try {
    expect(again.peek('lt').state).toBe('READY');
    await again.remove('lt');
    expect(again.has('lt')).toBe(false);
  } finally {
    await again.close();
  }
});
