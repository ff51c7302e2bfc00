/**
 * A restart after the broker acknowledged an order but before the strategy's ORDER_SUBMITTED was
 * written (the process died in between): the strategy is restored in PENDING_EXIT (or the
 * strangle's ADJUSTING.ROLLING) while its order works at the broker. The routing follows the order
 * again; before, it never told the strategy it was placed, so the exit's fill reached PENDING_EXIT,
 * which has no edge for it: refused, and the strategy held in ERROR for a "position mismatch" while
 * the broker had closed the position as asked. Now the acknowledgement comes first. SQLite in a
 * temp dir, the simulated clock, the scripted broker (its book outlives the process): no mocks.
 */
import { join } from 'node:path';
import type { StrategyEvent } from '../../machines/events';
import { strangle } from '../../machines/variants';
import type { OrderRequest } from '../../services/broker/broker';
import { startTradingDay } from '../../services/day/tradingDay';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { ScriptedBroker, settled } from '../support/scriptedBroker';

const MONDAY_10AM = Date.parse('2026-11-23T10:00:00-05:00');
const MANAGING: StrategyEvent[] = [
  { type: 'MARKET_OPEN' },
  { type: 'TIME_WINDOW_START', window: 'entry' },
  { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-01-15' },
  { type: 'ORDER_SUBMITTED', orderId: 'before' },
  { type: 'ORDER_FILLED', quantity: 2, expiry: '2027-01-15', orderId: 'before' },
  { type: 'MARKET_OPEN' },
];

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('sl-restart-ack-')));
afterEach(() => cleanup());

/** Strategy `s` driven by `events`, the process stopped; the broker works `order` (B-1); a new process over the file. */
async function restartedWorking(events: StrategyEvent[], order: Omit<OrderRequest, 'strategyId'>) {
  const file = join(dir, 'ack.db');
  const before = await openStrategySystem({ store: new SqliteStore(file), variants: [strangle], clock: createSimulatedClock(MONDAY_10AM) });
  await before.add(strangle, { id: 's', params: { quantity: 2 } });
  for (const event of events) expect(await before.send('s', event)).toMatchObject({ accepted: true });
  await before.close();
  const broker = new ScriptedBroker();
  await broker.submit({ strategyId: 's', ...order }); // acknowledged as B-1: the process died before writing it
  broker.held = 2;
  const clock = createSimulatedClock(MONDAY_10AM + 60_000);
  const system = await openStrategySystem({ store: new SqliteStore(file), variants: [strangle], clock, broker });
  const errors: unknown[] = [];
  const day = startTradingDay({ target: system, clock, broker, onError: (e) => errors.push(e) });
  const turn = async () => {
    for (let i = 0; i < 4; i++) {
      clock.increment(0);
      await settled();
      await system.flush();
    }
  };
  await turn();
  return { system, broker, errors, turn, stop: async () => (day.stop(), await system.close()) };
}

test('restored in PENDING_EXIT with its exit working at the broker: acknowledged, and its fill closes the position', async () => {
  const r = await restartedWorking([...MANAGING, { type: 'MARGIN_CALL' }], { side: 'close', quantity: 2, expiry: '2027-01-15' });
  expect(r.system.get('s').state).toBe('EXITING');
  r.broker.report({ orderId: 'B-1', strategyId: 's', kind: 'fill', quantity: 2, reportId: 'E-1', price: 1 });
  r.broker.held = 0;
  await r.turn();
  expect({ state: r.system.get('s').state, orders: r.broker.orders.length, errors: r.errors }).toEqual({
    state: 'CLOSED',
    orders: 1,
    errors: [],
  });
  await r.stop();
});

test('restored in ADJUSTING.ROLLING with its roll working at the broker: acknowledged (AWAITING_FILL), its fill ends the roll', async () => {
  const r = await restartedWorking([...MANAGING, { type: 'RISK_LIMIT_EXCEEDED' }], { side: 'adjust', quantity: 2, expiry: '2027-01-15' });
  expect(r.system.get('s').getSnapshot().value).toEqual({ ADJUSTING: 'AWAITING_FILL' });
  r.broker.report({ orderId: 'B-1', strategyId: 's', kind: 'fill', quantity: 2, reportId: 'E-1', price: 1 });
  await r.turn();
  expect({ state: r.system.get('s').state, orders: r.broker.orders.length, errors: r.errors }).toEqual({
    state: 'MANAGING',
    orders: 1,
    errors: [],
  });
  await r.stop();
});
