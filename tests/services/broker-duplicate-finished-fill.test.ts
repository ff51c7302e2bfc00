/**
 * A fill the broker delivers twice with the same `reportId` is a duplicate, as docs/service.md
 * promises, also once its order is over. Before, a second delivery of an entry's final fill after
 * the strategy reached POSITION_OPEN was told to `onError` as "position mismatch: the broker
 * reports a fill of 2 on entry order B-1, which the strategy no longer waits on", a false alarm
 * (the position matched the broker's); so was every redelivery of a stray fill already held.
 */
import { brokerDay, settled } from '../support/scriptedBroker';

test('a redelivered final entry fill changes nothing and raises no false position mismatch', async () => {
  const d = await brokerDay();
  const fill = { orderId: 'B-1', strategyId: 's', kind: 'fill', quantity: 2, reportId: 'E-1', price: 1 } as const;
  d.broker.report(fill);
  await settled();
  expect(d.strategy.state).toBe('POSITION_OPEN');
  const records = d.strategy.getAuditTrail().length;
  d.broker.report(fill);
  await settled();
  expect(d.strategy.state).toBe('POSITION_OPEN');
  expect(d.strategy.getSnapshot().context.position?.quantity).toBe(2);
  expect(d.strategy.getAuditTrail().length).toBe(records);
  expect(d.errors).toEqual([]);
  d.driver.stop();
});

test('a stray fill is told once: its redelivery is a duplicate of the hold it made', async () => {
  const d = await brokerDay();
  d.broker.report({ orderId: 'B-1', strategyId: 's', kind: 'fill', quantity: 2, reportId: 'E-1', price: 1 });
  await settled();
  const stray = { orderId: 'B-1', strategyId: 's', kind: 'fill', quantity: 1, reportId: 'E-2', price: 1 } as const;
  d.broker.report(stray);
  await settled();
  expect(d.strategy.state).toBe('ERROR');
  expect(d.errors).toHaveLength(1);
  expect(String(d.errors[0])).toMatch(/position mismatch: the broker reports a fill of 1 on entry order B-1/);
  d.broker.report(stray);
  await settled();
  expect(d.strategy.state).toBe('ERROR');
  expect(d.errors).toHaveLength(1);
  d.driver.stop();
});
