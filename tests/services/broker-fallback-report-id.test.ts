/**
 * A broker whose execution reports carry no `reportId`: the routing names each report's event
 * after the order and the contracts filled so far (`B-1/partial-1`). That count was kept in the
 * routing's memory only, so after a restart it began again at zero: the second partial fill of an
 * entry (1 of 3) got the id the first one had before the restart, the strategy refused it as a
 * duplicate, and went on holding 2 contracts while the broker held 3. The count now starts from
 * what the strategy already applied of the order.
 */
import { startTradingDay } from '../../services/day/tradingDay';
import { brokerDay, settled } from '../support/scriptedBroker';

test('after a restart, a partial fill of a broker without report ids is applied, not refused as a duplicate', async () => {
  const { clock, system, strategy, broker, errors, driver } = await brokerDay();
  // brokerDay's strategy holds 2 contracts: the entry B-1 is for 2.
  expect(broker.orders.map((o) => [o.id, o.order.side, o.order.quantity])).toEqual([['B-1', 'open', 2]]);
  broker.report({ orderId: 'B-1', strategyId: 's', kind: 'partial', quantity: 1, price: 1 });
  broker.held = 1;
  await settled();
  expect(strategy.state).toBe('ENTERING');
  expect(strategy.getSnapshot().context.position?.quantity).toBe(1);

  driver.stop(); // the service goes down; the same strategies come back with a new routing
  const second = startTradingDay({ target: system, clock, broker, onError: (e) => errors.push(e) });
  clock.increment(0);
  await settled();
  broker.report({ orderId: 'B-1', strategyId: 's', kind: 'partial', quantity: 1, price: 1 });
  broker.held = 2;
  await settled();

  const last = strategy.getAuditTrail().at(-1);
  expect(last?.code).toBeUndefined();
  expect(last?.accepted).toBe(true);
  expect(strategy.getSnapshot().context.position?.quantity).toBe(2);
  expect(errors).toEqual([]);
  second.stop();
});
