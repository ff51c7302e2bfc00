/**
 * The position's average entry price is the average over the fills that carried a price,
 * weighted by their quantities. Before, a fill without a price counted in the weight of the
 * average's next update: 2 @ 10, 2 unpriced, 2 @ 16 recorded 12 ((10 x 4 + 16 x 2) / 6) instead
 * of 13. Real actor and store (SQLite file) through a strategy system, simulated clock.
 */
import { join } from 'node:path';
import type { StrategyDefinition } from '../../machines/definition';
import type { StrategyEvent } from '../../machines/events';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { SqliteStore } from '../../services/store/sqliteStore';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import type { PersistedStrategy } from '../../services/runtime/strategyActor';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM } from '../support/fixtures';

const unguarded: StrategyDefinition = { ...lt112, id: 'lt112AnyEntry', entryGuards: [] };
const fill = (quantity: number, price?: number): StrategyEvent => ({
  type: 'ORDER_PARTIALLY_FILLED',
  quantity,
  expiry: '2027-03-19',
  ...(price === undefined ? {} : { price }),
});

let cleanup: () => void;
let dir: string;
beforeEach(() => ({ dir, cleanup } = tempDir('entry-price-')));
afterEach(() => cleanup());

test.each([
  ['2 @ 10, 2 unpriced, 2 @ 16', 13, [fill(2, 10), fill(2), fill(2, 16)]],
  ['2 unpriced, 1 @ 4, 3 @ 8', 7, [fill(2), fill(1, 4), fill(3, 8)]],
  ['1 @ 5, 4 unpriced', 5, [fill(1, 5), fill(4)]],
  ['3 unpriced, 1 @ 2, 5 unpriced, 1 @ 6', 4, [fill(3), fill(1, 2), fill(5), fill(1, 6)]],
])('%s: the average of the priced fills is %s, and stays right across a restart', async (_, average, fills) => {
  const file = join(dir, 'strategies.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = await openStrategySystem({ store: new SqliteStore(file, { checkEveryMs: 0 }), variants: [unguarded], clock });
  const strategy = await system.add(unguarded, { id: 'lt' });
  for (const event of [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START' },
    { type: 'ENTRY_CONDITIONS_MET', vix: 18 },
    { type: 'ORDER_SUBMITTED' },
    ...fills,
  ] as StrategyEvent[]) {
    expect(await system.send('lt', event)).toMatchObject({ accepted: true });
  }
  const quantity = fills.reduce((sum, e) => sum + (e as { quantity: number }).quantity, 0);
  expect(strategy.getSnapshot().context.position).toMatchObject({ quantity, entryPrice: average });
  await system.close();

  const again = await openStrategySystem({ store: new SqliteStore(file, { checkEveryMs: 0 }), variants: [unguarded], clock });
  // As many contracts again as were priced, 6 below the average: the average moves down by 3
  // only if the restored position still knows how many contracts its price covers.
  const priced = fills.reduce((sum, e) => sum + ('price' in e ? (e as { quantity: number }).quantity : 0), 0);
  expect(await again.send('lt', { type: 'ORDER_FILLED', quantity: priced, price: average - 6 })).toMatchObject({ accepted: true });
  expect(again.get('lt').getSnapshot().context.position).toMatchObject({ quantity: quantity + priced, entryPrice: average - 3 });
  await again.close();
});

test('a position stored before the priced count was kept: its price stands for its whole quantity', () => {
  const first = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  first.add(unguarded, { id: 'lt' });
  for (const event of [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START' },
    { type: 'ENTRY_CONDITIONS_MET', vix: 18 },
    { type: 'ORDER_SUBMITTED' },
    fill(2, 10),
  ] as StrategyEvent[]) {
    expect(first.send('lt', event)).toMatchObject({ accepted: true });
  }
  const saved = JSON.parse(JSON.stringify(first.get('lt').getPersistedSnapshot())) as PersistedStrategy;
  const { position } = (saved.snapshot as unknown as { context: { position: Record<string, unknown> } }).context;
  expect(position).toMatchObject({ quantity: 2, entryPrice: 10, pricedQuantity: 2 });
  delete position.pricedQuantity;

  const second = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  second.add(unguarded, { id: 'lt', snapshot: saved });
  expect(second.send('lt', { type: 'ORDER_FILLED', quantity: 2, price: 16 })).toMatchObject({ accepted: true });
  expect(second.get('lt').getSnapshot().context.position).toMatchObject({ quantity: 4, entryPrice: 13, pricedQuantity: 4 });
});

test('a partial exit keeps the average and never leaves more priced contracts than open ones: the position restores', async () => {
  const file = join(dir, 'strategies.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = await openStrategySystem({ store: new SqliteStore(file, { checkEveryMs: 0 }), variants: [unguarded], clock });
  await system.add(unguarded, { id: 'lt' });
  for (const event of [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START' },
    { type: 'ENTRY_CONDITIONS_MET', vix: 18 },
    { type: 'ORDER_SUBMITTED' },
    fill(3, 10),
    { type: 'ORDER_FILLED', quantity: 1 },
    { type: 'MARKET_OPEN' },
    { type: 'MARGIN_CALL' },
    { type: 'ORDER_SUBMITTED' },
    { type: 'ORDER_PARTIALLY_FILLED', quantity: 2 },
  ] as StrategyEvent[]) {
    expect(await system.send('lt', event)).toMatchObject({ accepted: true });
  }
  expect(system.get('lt').getSnapshot().context.position).toMatchObject({ quantity: 2, entryPrice: 10, pricedQuantity: 2 });
  await system.close();

  const again = await openStrategySystem({ store: new SqliteStore(file, { checkEveryMs: 0 }), variants: [unguarded], clock });
  expect(again.get('lt').state).toBe('PARTIAL_EXIT');
  expect(await again.send('lt', { type: 'ORDER_FILLED', quantity: 2 })).toMatchObject({ accepted: true, to: 'CLOSED' });
  await again.close();
});
