/**
 * An operator's MANUAL_OVERRIDE to ADJUSTING while the strangle's roll order works re-enters
 * ADJUSTING. Before, the trading day took the re-entry for a new adjustment and the routing placed
 * a second roll order beside the first: both filled at the broker (the position rolled twice) and
 * the second fill held the strategy in ERROR. Now the order its state waits on, working already,
 * is kept and no second one goes out. The real runtime, trading day and routing over the scripted
 * broker: no mocks.
 */
import { brokerDayManaging, settled } from '../support/scriptedBroker';

test('MANUAL_OVERRIDE to ADJUSTING mid-roll keeps the one working roll order: no second order, its fill ends the roll', async () => {
  const { clock, strategy, broker, errors, driver, send } = await brokerDayManaging();
  broker.held = 2;
  send({ type: 'RISK_LIMIT_EXCEEDED' });
  clock.increment(0);
  await settled();
  expect(strategy.getSnapshot().value).toEqual({ ADJUSTING: 'AWAITING_FILL' });
  expect(send({ type: 'MANUAL_OVERRIDE', target: 'ADJUSTING', reason: 'roll again', operator: 'desk' })).toMatchObject({ accepted: true });
  clock.increment(0);
  await settled();
  expect({ orders: broker.orders.map((o) => `${o.id}:${o.order.side}`), cancels: broker.cancels }).toEqual({
    orders: ['B-1:open', 'B-2:adjust'],
    cancels: [],
  });
  broker.report({ orderId: 'B-2', strategyId: 's', kind: 'fill', quantity: 2, reportId: 'E-2', price: 1 });
  await settled();
  clock.increment(0);
  await settled();
  expect({ state: strategy.state, quantity: strategy.getSnapshot().context.position?.quantity, errors }).toEqual({
    state: 'MANAGING',
    quantity: 2,
    errors: [],
  });
  driver.stop();
});
