/**
 * A fill of an order the strategy no longer waits on is told to `onError` as a typed
 * RefusedFillError (its `code` undefined: the routing refused it, not the strategy). Before, it was
 * a plain Error, which an operator's handler could only tell from any other failure by its text.
 */
import { RefusedFillError } from '../../machines/errors';
import { brokerDay, settled } from '../support/scriptedBroker';

test('a fill of an order the strategy no longer waits on is a RefusedFillError naming the strategy and the fill', async () => {
  const d = await brokerDay();
  d.broker.report({ orderId: 'B-1', strategyId: 's', kind: 'reject', quantity: 0, reportId: 'E-1', reason: 'no liquidity' });
  await settled();
  d.send({ type: 'VIX_SPIKE', vix: 40 });
  expect(d.strategy.state).toBe('SUSPENDED');
  d.broker.report({ orderId: 'B-1', strategyId: 's', kind: 'partial', quantity: 1, reportId: 'E-2', price: 1 });
  await settled();
  expect(d.strategy.state).toBe('ERROR');
  expect(d.errors).toHaveLength(1);
  expect(d.errors[0]).toBeInstanceOf(RefusedFillError);
  expect(d.errors[0]).toMatchObject({
    strategyId: 's',
    eventType: 'ORDER_PARTIALLY_FILLED',
    code: undefined,
    reason: expect.stringMatching(
      /^position mismatch: the broker reports a partial fill of 1 on entry order B-1, which the strategy no longer waits on \(in SUSPENDED\)/,
    ),
  });
  d.driver.stop();
});
