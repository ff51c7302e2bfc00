/**
 * A report of an order that is already over (filled in full or rejected) answers nothing the
 * strategy waits on, even when another order of it works now. Before, the routing forgot an order
 * once it was over and took its late report as the current order's: the broker's "done for the
 * day" reject of the filled entry, arriving while the exit worked, sent the strategy back to
 * PENDING_EXIT and a second exit of 2 went out while the first still worked (4 contracts sold of
 * 2 held); a late extra fill of the entry (the broker then held 3) was applied as an exit fill and
 * the strategy believed it held 1.
 */
import { brokerDayExiting, settled } from '../support/scriptedBroker';

test('a late reject of the filled entry order is not taken as the working exit rejected: no second exit goes out', async () => {
  const d = await brokerDayExiting();
  d.broker.report({ orderId: 'B-1', strategyId: 's', kind: 'reject', quantity: 0, reportId: 'E-9', reason: 'done for the day' });
  d.clock.increment(0);
  await settled();
  expect(d.strategy.state).toBe('EXITING');
  expect(d.broker.orders.map((o) => o.id)).toEqual(['B-1', 'B-2']);
  expect(d.broker.cancels).toEqual([]);
  // The working exit still closes the position.
  d.broker.report({ orderId: 'B-2', strategyId: 's', kind: 'fill', quantity: 2, reportId: 'X-1', price: 1 });
  await settled();
  expect(d.strategy.state).toBe('CLOSED');
  expect(d.strategy.getSnapshot().context.position).toBeNull();
  expect(d.errors).toEqual([]);
  d.driver.stop();
});

test('a late extra fill of the filled entry order is not applied as an exit fill: the strategy is held once its exit ends', async () => {
  const d = await brokerDayExiting();
  d.broker.report({ orderId: 'B-1', strategyId: 's', kind: 'fill', quantity: 1, reportId: 'E-9', price: 1 });
  await settled();
  // Not an exit fill: the strategy still holds the 2 contracts its working exit closes.
  expect(d.strategy.state).toBe('EXITING');
  expect(d.strategy.getSnapshot().context.position?.quantity).toBe(2);
  expect(String(d.errors[0])).toMatch(
    /position mismatch: the broker reports a fill of 1 on entry order B-1, which the strategy no longer waits on \(in EXITING\)/,
  );
  d.broker.report({ orderId: 'B-2', strategyId: 's', kind: 'fill', quantity: 2, reportId: 'X-1', price: 1 });
  d.clock.increment(0);
  await settled();
  // The exit ended; the broker still holds the extra contract: held for an operator.
  expect(d.strategy.state).toBe('ERROR');
  expect(d.strategy.getSnapshot().context.deadline).toBeNull();
  expect(d.strategy.getSnapshot().context.lastError?.reason).toMatch(/^position mismatch: .* on entry order B-1/);
  d.driver.stop();
});

test('a late fill of a finished exit order is not applied to the exit that works after it', async () => {
  const d = await brokerDayExiting();
  // B-2 fills 1 and is rejected: the strategy retries the exit of the 1 left with B-3.
  d.broker.report({ orderId: 'B-2', strategyId: 's', kind: 'partial', quantity: 1, reportId: 'X-1', price: 1 });
  d.broker.report({ orderId: 'B-2', strategyId: 's', kind: 'reject', quantity: 0, reportId: 'X-2' });
  d.clock.increment(0);
  await settled();
  expect(d.strategy.state).toBe('EXITING');
  expect(d.broker.orders.map((o) => [o.id, o.order.quantity])).toEqual([
    ['B-1', 2],
    ['B-2', 2],
    ['B-3', 1],
  ]);
  // A fill of B-2 after its reject: the broker now holds nothing, the strategy must not close B-3's contract with it.
  d.broker.report({ orderId: 'B-2', strategyId: 's', kind: 'fill', quantity: 1, reportId: 'X-3', price: 1 });
  d.clock.increment(0);
  await settled();
  expect(d.strategy.state).toBe('ERROR');
  expect(d.strategy.getSnapshot().context.position?.quantity).toBe(1);
  expect(d.strategy.getSnapshot().context.lastError?.reason).toMatch(/on exit order B-2, which the strategy no longer waits on/);
  // Its exit B-3 would now sell a contract the broker no longer holds: cancelled.
  expect(d.broker.cancels).toEqual(['B-3']);
  d.driver.stop();
});
