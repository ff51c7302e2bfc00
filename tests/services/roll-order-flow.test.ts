/**
 * The strangle's roll (ADJUSTING, one adjustment order for the whole position) meeting real order
 * flow: a roll filled in part and then rejected or cancelled, the broker repeating reports mid-roll,
 * and the kill switch arriving mid-roll across a restart. The strategy's position must stay what the
 * broker holds, or be held for an operator where it cannot (a roll half done: the position records
 * one expiry and set of legs), and every contract be closed exactly once. The real runtime, trading day and routing over
 * the scripted broker; a SQLite file for the restart.
 */
import { join } from 'node:path';
import { RefusedFillError } from '../../machines/errors';
import { strangle } from '../../machines/variants';
import { startTradingDay } from '../../services/day/tradingDay';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { ScriptedBroker, brokerDayManaging, sendEntry, settled } from '../support/scriptedBroker';

const sides = (broker: ScriptedBroker) => broker.orders.map((o) => `${o.id}:${o.order.side}:${o.order.quantity}`);

/** {@link brokerDayManaging} with the broker holding its 2 contracts, then a risk event: the roll order B-2 works. */
async function rolling() {
  const d = await brokerDayManaging();
  d.broker.held = 2;
  d.send({ type: 'RISK_LIMIT_EXCEEDED' });
  d.clock.increment(0);
  await settled();
  expect(d.strategy.getSnapshot().value).toEqual({ ADJUSTING: 'AWAITING_FILL' });
  return d;
}

test('a roll filled in part, then rejected, ends the roll and holds the strategy for an operator: half its contracts rolled', async () => {
  const { clock, strategy, broker, errors, driver } = await rolling();
  broker.report({ orderId: 'B-2', strategyId: 's', kind: 'partial', quantity: 1, reportId: 'E-2', price: 1 });
  broker.report({ orderId: 'B-2', strategyId: 's', kind: 'reject', quantity: 0, reportId: 'E-3', reason: 'no liquidity' });
  await settled();
  clock.increment(0);
  await settled();
  // The strategy still thinks all of its 2 contracts are the old ones: a mismatch for an operator.
  expect({ state: strategy.state, quantity: strategy.getSnapshot().context.position?.quantity, orders: sides(broker) }).toEqual({
    state: 'ERROR',
    quantity: broker.held,
    orders: ['B-1:open:2', 'B-2:adjust:2'],
  });
  expect(strategy.getSnapshot().context.deadline).toBeNull(); // held: no auto-recovery
  expect(errors.map((e) => [e instanceof RefusedFillError, (e as Error).message])).toEqual([
    [true, expect.stringContaining('adjustment order B-2 ended (rejected) after filling 1 of 2')],
  ]);
  driver.stop();
});

test('a roll filled in part, then an emergency exit (the roll cancelled): the exit goes on, then the strategy is held', async () => {
  const { clock, strategy, broker, errors, driver, send } = await rolling();
  broker.report({ orderId: 'B-2', strategyId: 's', kind: 'partial', quantity: 1, reportId: 'E-2', price: 1 });
  await settled();
  send({ type: 'EMERGENCY_EXIT', reason: 'desk' });
  clock.increment(0);
  await settled();
  broker.report({ orderId: 'B-2', strategyId: 's', kind: 'reject', quantity: 0, reportId: 'E-3', reason: 'cancelled' });
  await settled();
  expect({ state: strategy.state, orders: sides(broker), cancels: broker.cancels, working: [...broker.book.keys()] }).toEqual({
    state: 'EXITING',
    orders: ['B-1:open:2', 'B-2:adjust:2', 'B-3:close:2'],
    cancels: ['B-2'],
    working: ['B-3'],
  });
  broker.report({ orderId: 'B-3', strategyId: 's', kind: 'fill', quantity: 2, reportId: 'E-4', price: 1 });
  broker.held = 0;
  await settled();
  clock.increment(0);
  await settled();
  expect({ state: strategy.state, position: strategy.getSnapshot().context.position }).toEqual({ state: 'ERROR', position: null });
  expect(errors.map((e) => [e instanceof RefusedFillError, (e as Error).message])).toEqual([
    [true, expect.stringContaining('adjustment order B-2 ended (cancelled) after filling 1 of 2')],
  ]);
  driver.stop();
});

test('the entry fill and the roll partial repeated by the broker mid-roll change nothing; the roll ends once', async () => {
  const { clock, strategy, broker, errors, driver } = await rolling();
  broker.report({ orderId: 'B-1', strategyId: 's', kind: 'fill', quantity: 2, reportId: 'E-1', price: 1 });
  broker.report({ orderId: 'B-2', strategyId: 's', kind: 'partial', quantity: 1, reportId: 'E-2', price: 1 });
  broker.report({ orderId: 'B-2', strategyId: 's', kind: 'partial', quantity: 1, reportId: 'E-2', price: 1 });
  await settled();
  expect(strategy.getSnapshot().value).toEqual({ ADJUSTING: 'AWAITING_FILL' });
  broker.report({ orderId: 'B-2', strategyId: 's', kind: 'fill', quantity: 1, reportId: 'E-3', price: 1 });
  broker.report({ orderId: 'B-2', strategyId: 's', kind: 'fill', quantity: 1, reportId: 'E-3', price: 1 });
  await settled();
  clock.increment(0);
  await settled();
  expect({ state: strategy.state, quantity: strategy.getSnapshot().context.position?.quantity, errors }).toEqual({
    state: 'MANAGING',
    quantity: 2,
    errors: [],
  });
  expect(strategy.getAuditTrail().filter((r) => r.accepted && r.trigger === 'ORDER_FILLED')).toHaveLength(2); // the entry's, the roll's
  driver.stop();
});

test('the kill switch mid-roll, the process restarted before the exit fills: one exit order, the roll cancelled, closed once', async () => {
  const { dir, cleanup } = tempDir('sl-roll-kill-');
  const file = join(dir, 'roll.db');
  const broker = new ScriptedBroker();
  const at = Date.parse('2026-11-23T10:00:00-05:00');
  const processAt = async (now: number) => {
    const clock = createSimulatedClock(now);
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
    return { system, errors, turn, stop: async () => (day.stop(), await system.close()) };
  };
  try {
    const first = await processAt(at);
    await first.system.add(strangle, { id: 's', params: { quantity: 2 } });
    sendEntry(first.system);
    await first.turn();
    broker.report({ orderId: 'B-1', strategyId: 's', kind: 'fill', quantity: 2, reportId: 'E-1', price: 1 });
    broker.held = 2;
    await first.turn();
    await first.system.send('s', { type: 'MARKET_OPEN' });
    await first.system.send('s', { type: 'RISK_LIMIT_EXCEEDED' });
    await first.turn();
    void first.system.killSwitch('risk desk').catch(() => undefined);
    await first.turn();
    expect({ state: first.system.get('s').state, orders: sides(broker), cancels: broker.cancels }).toEqual({
      state: 'EXITING',
      orders: ['B-1:open:2', 'B-2:adjust:2', 'B-3:close:2'],
      cancels: ['B-2'],
    });
    expect(first.errors).toEqual([]);
    await first.stop();

    // The scripted broker takes a cancel only when reported: the roll B-2 still works after the restart.
    const second = await processAt(at + 60_000);
    await second.turn();
    expect({ state: second.system.get('s').state, orders: sides(broker), cancels: broker.cancels }).toEqual({
      state: 'EXITING',
      orders: ['B-1:open:2', 'B-2:adjust:2', 'B-3:close:2'],
      cancels: ['B-2', 'B-2'],
    });
    broker.report({ orderId: 'B-2', strategyId: 's', kind: 'reject', quantity: 0, reportId: 'E-2', reason: 'cancelled' });
    broker.report({ orderId: 'B-3', strategyId: 's', kind: 'fill', quantity: 2, reportId: 'E-3', price: 1 });
    broker.held = 0;
    await second.turn();
    expect({
      state: second.system.get('s').state,
      orders: sides(broker),
      trading: second.system.tradingState,
      errors: second.errors,
    }).toEqual({
      state: 'CLOSED',
      orders: ['B-1:open:2', 'B-2:adjust:2', 'B-3:close:2'],
      trading: 'HALTED',
      errors: [],
    });
    await second.stop();
  } finally {
    cleanup();
  }
});
