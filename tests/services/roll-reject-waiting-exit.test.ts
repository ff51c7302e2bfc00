/**
 * The roll's rejection refused by the store (it waits in the routing's retry queue) and, before it
 * is sent again, an emergency exit of the position: the strategy is in EXITING, its exit order
 * working. Before, the retry handed the roll's ORDER_REJECTED to EXITING, which took it as the
 * exit's rejection ("retry the exit"): back to PENDING_EXIT while the exit still worked at the
 * broker, a second exit asked for. Now a waiting rejection of an order the strategy no longer waits
 * on answers nothing, as a fresh one does: the exit goes on and closes the position. The real
 * runtime and trading day, the scripted broker, a real in-memory store that refuses writes while
 * told to.
 */
import { FlakyMemoryStore } from '../support/flakyStore';
import { ScriptedBroker, settled } from '../support/scriptedBroker';
import { exitFills, strangleRolling } from '../support/strangleRoll';

test("a roll's rejection waiting for the store is not taken as the rejection of the emergency exit that came meanwhile", async () => {
  const store = new FlakyMemoryStore();
  const broker = new ScriptedBroker();
  const { clock, system, strategy, errors, driver } = await strangleRolling(broker, store);
  expect(strategy.getSnapshot().value).toEqual({ ADJUSTING: 'AWAITING_FILL' });
  // The roll is rejected while the store refuses writes: its rejection waits to be sent again (after 1 s).
  store.full = true;
  broker.report({ orderId: 'B-2', strategyId: 's', kind: 'reject', quantity: 0, reportId: 'E-2', reason: 'no liquidity' });
  await settled();
  store.full = false;
  expect(system.send('s', { type: 'EMERGENCY_EXIT', reason: 'desk' })).toMatchObject({ accepted: true, to: 'EXITING' });
  clock.increment(0);
  await settled();
  clock.increment(1000); // the retry
  await settled();
  clock.increment(0);
  await settled();
  expect({
    state: strategy.state,
    orders: broker.orders.map((o) => `${o.id}:${o.order.side}:${o.order.quantity}`),
    working: [...broker.book.keys()],
  }).toEqual({
    state: 'EXITING',
    orders: ['B-1:open:2', 'B-2:adjust:2', 'B-3:close:2'],
    working: ['B-3'],
  });
  await exitFills(broker, clock, 'B-3', 'E-3');
  expect({ state: strategy.state, position: strategy.getSnapshot().context.position, errors }).toEqual({
    state: 'CLOSED',
    position: null,
    errors: [],
  });
  driver.stop();
});
