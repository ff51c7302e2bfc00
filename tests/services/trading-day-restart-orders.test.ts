/**
 * A restart while a strategy waits on an order (kill -9 with an order in flight). The paper
 * broker's book lives in memory: the order is gone after the restart, and before, nothing placed
 * it again: the strategy waited for its stuck deadline, then ERROR and its 30-minute recovery, and
 * a 0DTE exit caught at 15:45 went out at the next open, its contract expired. A strategy restored
 * in ANALYZING never got its entry conditions either. Now the trading day asks the broker what it
 * works (`openOrders`): an order it has is followed again; one it lacks is placed again where the
 * broker's position agrees with the strategy's; an entry in part filled ends with what it holds.
 * SQLite in a temp dir, the simulated clock, the paper broker: no mocks.
 */
import { join } from 'node:path';
import type { StrategyEvent } from '../../machines/events';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { PaperBroker, type BrokerAdapter, type OrderRequest } from '../../services/broker/broker';
import { startTradingDay } from '../../services/day/tradingDay';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { createSimulatedMarket } from '../../services/simulation/simulatedMarket';
import { stepClock } from '../../services/simulation/simulatedTime';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM, VARIANTS } from '../support/fixtures';

const VARIANT_LIST = [zeroDte, lt112, strangle];
const toPosition = (quantity: number, fill: 'ORDER_FILLED' | 'ORDER_PARTIALLY_FILLED' = 'ORDER_FILLED'): StrategyEvent[] => [
  { type: 'MARKET_OPEN' },
  { type: 'TIME_WINDOW_START' },
  VARIANTS[1].entry,
  { type: 'ORDER_SUBMITTED', orderId: 'before-the-crash' },
  { type: fill, quantity, expiry: '2027-03-29' },
];

let dir: string;
let cleanup: () => void;
let running: PersistentStrategySystem | undefined;
let stopDay: (() => void) | undefined;
beforeEach(() => ({ dir, cleanup } = tempDir('sl-restart-orders-')));
afterEach(async () => {
  stopDay?.();
  await running?.close();
  running = undefined;
  stopDay = undefined;
  cleanup();
});

/**
 * Strategy `lt` brought to where `events` leave it and the process "killed" (closed), then a new
 * process over the same file with a fresh broker holding `brokerHolds`, driven by the trading day.
 */
async function restartedWith(
  events: StrategyEvent[],
  brokerHolds: number,
  broker?: (clock: ReturnType<typeof createSimulatedClock>) => BrokerAdapter,
) {
  const file = join(dir, 'day.db');
  const before = await openStrategySystem({
    store: new SqliteStore(file),
    variants: VARIANT_LIST,
    clock: createSimulatedClock(FRIDAY_11AM),
  });
  await before.add(lt112, { id: 'lt', params: { underlying: 'SPX', quantity: 2 } });
  for (const event of events) expect(await before.send('lt', event)).toMatchObject({ accepted: true });
  await before.close();

  const clock = createSimulatedClock(FRIDAY_11AM + 60_000);
  const orders: OrderRequest[] = [];
  const paper =
    broker?.(clock) ?? new PaperBroker({ clock, initialPositions: brokerHolds > 0 ? [{ strategyId: 'lt', quantity: brokerHolds }] : [] });
  const logged: BrokerAdapter = Object.assign(Object.create(paper) as BrokerAdapter, {
    submit: (order: OrderRequest) => (orders.push(order), paper.submit(order)),
  });
  const system = (running = await openStrategySystem({ store: new SqliteStore(file), variants: VARIANT_LIST, clock }));
  const errors: unknown[] = [];
  const day = startTradingDay({
    target: system,
    clock,
    broker: logged,
    market: createSimulatedMarket({ seed: 1 }),
    onError: (e) => errors.push(e),
  });
  stopDay = () => day.stop();
  const until = (ms: number) => stepClock(clock, clock.now() + ms, () => system.flush(), 50);
  return { system, orders, until, errors, strategy: () => system.get('lt') };
}

test('restored in EXITING with no order at the broker: the exit is placed again at once and fills', async () => {
  const r = await restartedWith([...toPosition(2), { type: 'EMERGENCY_EXIT', reason: 'desk' }], 2);
  expect(r.strategy().state).toBe('EXITING');
  await r.until(1000);
  // Placed with the incarnation the strategy was stored with (drawn when it was added, before the restart).
  const { incarnation } = r.strategy().getSnapshot().context;
  expect(incarnation).toMatch(/^[0-9a-f]{16}$/);
  expect(r.orders).toEqual([{ strategyId: 'lt', side: 'close', quantity: 2, expiry: '2027-03-29', incarnation }]);
  expect(r.strategy().state).toBe('CLOSED');
  expect(r.errors).toEqual([]);
});

test('restored in PENDING_EXIT: the exit is placed again, acknowledged, filled', async () => {
  const r = await restartedWith([...toPosition(2), { type: 'MARKET_OPEN' }, { type: 'MARGIN_CALL', reason: 'desk' }], 2);
  expect(r.strategy().state).toBe('PENDING_EXIT');
  await r.until(1000);
  expect(r.orders.map((o) => o.side)).toEqual(['close']);
  expect(r.strategy().state).toBe('CLOSED');
});

test('restored in PENDING_ENTRY: the entry is placed again', async () => {
  const r = await restartedWith(toPosition(2).slice(0, 3), 0);
  expect(r.strategy().state).toBe('PENDING_ENTRY');
  await r.until(1000);
  const { incarnation } = r.strategy().getSnapshot().context;
  expect(incarnation).toMatch(/^[0-9a-f]{16}$/);
  expect(r.orders).toEqual([{ strategyId: 'lt', side: 'open', quantity: 2, expiry: '2027-03-29', incarnation }]);
  expect(r.strategy().getSnapshot().context.position?.quantity).toBe(2);
});

test('restored in ENTERING after a partial fill, its order gone: the entry ends with what it holds, no second entry', async () => {
  const r = await restartedWith(toPosition(1, 'ORDER_PARTIALLY_FILLED'), 1);
  expect(r.strategy().state).toBe('ENTERING');
  await r.until(1000);
  expect(r.orders).toEqual([]);
  expect(r.strategy().state).toBe('POSITION_OPEN');
  expect(r.strategy().getSnapshot().context.position?.quantity).toBe(1);
  expect(r.strategy().getAuditTrail().at(-1)).toMatchObject({
    trigger: 'ORDER_REJECTED',
    data: { reason: expect.stringContaining('after a restart the broker has no working entry order') },
  });
});

test('the broker holds something else than the strategy (it moved while the service was down): nothing is placed blind', async () => {
  const r = await restartedWith([...toPosition(2), { type: 'EMERGENCY_EXIT', reason: 'desk' }], 0);
  await r.until(1000);
  expect(r.orders).toEqual([]);
  expect(r.strategy().state).toBe('EXITING'); // left to the reconciliation, or the stuck deadline
});

test('the broker lists the strategy twice and holds more in all than it: nothing is placed blind', async () => {
  // Read as its last entry, [1, 2] looked like the strategy's 2 and a second exit of 2 went out.
  const r = await restartedWith([...toPosition(2), { type: 'EMERGENCY_EXIT', reason: 'desk' }], 0, (clock) => {
    const paper = new PaperBroker({ clock, initialPositions: [{ strategyId: 'lt', quantity: 3 }] });
    return Object.assign(Object.create(paper) as BrokerAdapter, {
      positions: async () => [
        { strategyId: 'lt', quantity: 1 },
        { strategyId: 'lt', quantity: 2 },
      ],
    });
  });
  await r.until(1000);
  expect(r.orders).toEqual([]);
  expect(r.strategy().state).toBe('EXITING');
});

test('an order the broker still works is followed again, not placed twice: its fill closes the strategy', async () => {
  let paper: PaperBroker | undefined;
  const r = await restartedWith([...toPosition(2), { type: 'EMERGENCY_EXIT', reason: 'desk' }], 2, (clock) => {
    paper = new PaperBroker({ clock, latencyMs: 5000, initialPositions: [{ strategyId: 'lt', quantity: 2 }] });
    // Placed before the restart, still working at the broker.
    paper.submit({ strategyId: 'lt', side: 'close', quantity: 2 });
    return paper;
  });
  await r.until(10_000);
  expect(r.orders).toEqual([]);
  expect(r.strategy().state).toBe('CLOSED');
  expect(await paper?.openOrders()).toEqual([]);
});

test('a broker without openOrders: nothing is placed, the stuck deadline stays in charge', async () => {
  const r = await restartedWith([...toPosition(2), { type: 'EMERGENCY_EXIT', reason: 'desk' }], 2, (clock) => {
    const paper = new PaperBroker({ clock, initialPositions: [{ strategyId: 'lt', quantity: 2 }] });
    return {
      submit: (o) => paper.submit(o),
      cancel: (id) => paper.cancel(id),
      positions: () => paper.positions(),
      onExecution: (l) => paper.onExecution(l),
    };
  });
  await r.until(1000);
  expect(r.orders).toEqual([]);
  expect(r.strategy().state).toBe('EXITING');
});

test('restored in ANALYZING during the entry window: the market answers it, as it would have', async () => {
  const r = await restartedWith(toPosition(2).slice(0, 2), 0);
  expect(r.strategy().state).toBe('ANALYZING');
  await r.until(2 * 60_000);
  expect(
    r
      .strategy()
      .getAuditTrail()
      .some((rec) => rec.trigger === 'ENTRY_CONDITIONS_MET'),
  ).toBe(true);
});
