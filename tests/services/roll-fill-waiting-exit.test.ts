/**
 * The roll's fill refused by the store (it waits in the routing's retry queue) and, before it is
 * sent again, an emergency exit of the position (an operator, the kill switch): the strategy is in
 * EXITING, its exit order working. Before, the retry handed the roll's ORDER_FILLED to EXITING,
 * which took it as the exit's fill: the strategy was CLOSED, flat, while the broker still held the
 * contracts and the exit order still worked (cancelled or rejected, nothing would close them, and
 * the strategy was free to enter again). Now a waiting fill is checked against the state it reaches,
 * as a fresh report is: the roll's fill is a mismatch told to `onError`, the exit goes on, and the
 * strategy is held for an operator once it has ended. The real runtime and trading day, the
 * scripted broker, a real in-memory store that refuses writes while told to.
 */
import { RefusedFillError } from '../../machines/errors';
import { FlakyMemoryStore } from '../support/flakyStore';
import { ScriptedBroker, settled } from '../support/scriptedBroker';
import { exitFills, strangleRolling } from '../support/strangleRoll';

test("a roll's fill waiting for the store is not taken as the fill of the emergency exit that came meanwhile", async () => {
  const store = new FlakyMemoryStore();
  const broker = new ScriptedBroker();
  const { clock, system, strategy, errors, driver } = await strangleRolling(broker, store);
  expect(strategy.getSnapshot().value).toEqual({ ADJUSTING: 'AWAITING_FILL' });
  // The roll fills while the store refuses writes: its fill waits to be sent again (after 1 s).
  store.full = true;
  broker.report({ orderId: 'B-2', strategyId: 's', kind: 'fill', quantity: 2, reportId: 'E-2', price: 1 });
  await settled();
  store.full = false;
  expect(system.send('s', { type: 'EMERGENCY_EXIT', reason: 'desk' })).toMatchObject({ accepted: true, to: 'EXITING' });
  clock.increment(0);
  await settled();
  expect(broker.orders.map((o) => `${o.id}:${o.order.side}:${o.order.quantity}`)).toEqual(['B-1:open:2', 'B-2:adjust:2', 'B-3:close:2']);
  clock.increment(1000); // the retry
  await settled();
  clock.increment(0);
  await settled();
  expect({ state: strategy.state, quantity: strategy.getSnapshot().context.position?.quantity, working: [...broker.book.keys()] }).toEqual({
    state: 'EXITING',
    quantity: 2,
    working: ['B-3'],
  });
  expect(errors.filter((e) => e instanceof RefusedFillError).map((e) => (e as Error).message)).toEqual([
    expect.stringContaining('a fill of 2 on adjustment order B-2'),
  ]);
  // The exit fills: the strategy is flat, and held for an operator (the roll's fill was never applied).
  await exitFills(broker, clock, 'B-3', 'E-3');
  expect({ state: strategy.state, position: strategy.getSnapshot().context.position }).toEqual({ state: 'ERROR', position: null });
  driver.stop();
});
