/**
 * A position stored by a build before `pricedQuantity` was kept: its `entryPrice` stood for the
 * whole quantity, and its snapshot has no `pricedQuantity`. Replaying its trail now gives the
 * position `pricedQuantity` (every fill carried a price: the whole quantity), which says the same.
 * Before, `verifyStore` (`replay --verify`) reported every such strategy as a difference in its
 * snapshot's position, after an upgrade, for a store nothing had damaged; also one restored from it
 * and exited in part since (the exit fill keeps an absent `pricedQuantity` absent). Real SQLite
 * file, simulated clock.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { verifyStore } from '../../services/runtime/replay';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM, MINUTE, VARIANTS } from '../support/fixtures';
import { tempDir } from './helpers';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

/** An LT112 holding 2 contracts bought at 12.5 then 13.5, its stored position written as an older build did. */
async function olderStore(file: string, secondPrice: number | null = 13.5) {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = await openStrategySystem({ store: new SqliteStore(file), variants: [lt112], clock });
  await system.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
  for (const event of [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START' },
    VARIANTS[1].entry,
    { type: 'ORDER_SUBMITTED' },
    { type: 'ORDER_PARTIALLY_FILLED', quantity: 1, expiry: '2027-03-19', price: 12.5 },
    { type: 'ORDER_FILLED', quantity: 1, expiry: '2027-03-19', ...(secondPrice === null ? {} : { price: secondPrice }) },
  ] as const) {
    await system.send('lt', event);
    clock.increment(MINUTE);
  }
  const priced = secondPrice === null ? { entryPrice: 12.5, pricedQuantity: 1 } : { entryPrice: 13, pricedQuantity: 2 };
  expect(system.get('lt').getSnapshot().context.position).toMatchObject({ quantity: 2, ...priced });
  await system.close();
  const raw = new Database(file);
  raw.prepare("UPDATE strategies SET snapshot = json_remove(snapshot, '$.context.position.pricedQuantity')").run();
  raw.close();
  return clock;
}

test('a position stored before pricedQuantity was kept verifies clean', async () => {
  const file = join(dir, 's.db');
  await olderStore(file);
  const report = await verifyStore(new SqliteStore(file), [lt112]);
  expect(report.differences).toEqual([]);
});

test('restored from such a store and exited in part, it still verifies clean', async () => {
  const file = join(dir, 's.db');
  const clock = await olderStore(file);
  const system = await openStrategySystem({ store: new SqliteStore(file), variants: [lt112], clock });
  expect(system.get('lt').getSnapshot().context.position).not.toHaveProperty('pricedQuantity');
  for (const event of [
    { type: 'MARKET_OPEN' },
    { type: 'MARGIN_CALL' },
    { type: 'ORDER_SUBMITTED' },
    { type: 'ORDER_PARTIALLY_FILLED', quantity: 1 },
  ] as const) {
    await system.send('lt', event);
    clock.increment(MINUTE);
  }
  expect(system.get('lt').state).toBe('PARTIAL_EXIT');
  expect(system.get('lt').getSnapshot().context.position).toMatchObject({ quantity: 1, entryPrice: 13 });
  await system.close();
  const report = await verifyStore(new SqliteStore(file), [lt112]);
  expect(report.differences).toEqual([]);
});

test('a stored position without pricedQuantity whose replay prices only part of it is still a difference', async () => {
  const file = join(dir, 's.db');
  await olderStore(file, null);
  const report = await verifyStore(new SqliteStore(file), [lt112]);
  expect(report.differences).toEqual([
    expect.objectContaining({
      strategyId: 'lt',
      where: 'snapshot',
      field: 'position',
      replayed: expect.objectContaining({ pricedQuantity: 1 }),
    }),
  ]);
});
