/**
 * Fills the strategy refuses for a benign reason must not hold it in ERROR (see
 * broker-refused-fill.test.ts for the fills that must).
 */
import { RefusedFillError } from '../../machines/errors';
import { strangle } from '../../machines/variants';
import { brokerDayManaging, settled } from '../support/scriptedBroker';

test('an adjustment order filled in two reports (a partial, then the rest) ends the adjustment, not held in ERROR', async () => {
  const { clock, strategy, broker, errors, driver, send } = await brokerDayManaging();
  send({ type: 'RISK_LIMIT_EXCEEDED' });
  clock.increment(0);
  await settled();
  expect(strategy.state).toBe('ADJUSTING');
  expect(broker.orders[1]).toEqual({ id: 'B-2', order: expect.objectContaining({ side: 'adjust', quantity: 2 }) });
  // As the paper broker with partialFills reports an order of 2: 1, then the other 1.
  broker.report({ orderId: 'B-2', strategyId: 's', kind: 'partial', quantity: 1, reportId: 'E-2', price: 1 });
  await settled();
  broker.report({ orderId: 'B-2', strategyId: 's', kind: 'fill', quantity: 1, reportId: 'E-3', price: 1 });
  await settled();
  expect({ state: strategy.state, quantity: strategy.getSnapshot().context.position?.quantity, errors }).toEqual({
    state: 'MANAGING',
    quantity: 2,
    errors: [],
  });
  driver.stop();
});

test('a fill refused by a failing hook that forces ERROR (maxErrors) is held there, not auto-recovered as RefusedFillError says', async () => {
  const failing = {
    ...strangle,
    maxErrors: 1,
    hooks: {
      onEnter: {
        CLOSED: () => {
          throw new Error('ledger down');
        },
      },
    },
  };
  const { clock, strategy, broker, errors, driver, send } = await brokerDayManaging(failing);
  send({ type: 'MARGIN_CALL' });
  clock.increment(0);
  await settled();
  expect(strategy.state).toBe('EXITING');
  // The exit fills at the broker; the hook into CLOSED throws, the fill is refused and ERROR forced.
  broker.report({ orderId: 'B-2', strategyId: 's', kind: 'fill', quantity: 2, reportId: 'E-2', price: 1 });
  await settled();
  expect(strategy.state).toBe('ERROR');
  expect(errors.filter((e) => e instanceof RefusedFillError)).toHaveLength(1);
  // Told it is held for an operator: no auto-recovery back to MANAGING 2 contracts the broker closed.
  expect(strategy.getSnapshot().context.deadline).toBeNull();
  clock.increment(60 * 60_000);
  await settled();
  expect(strategy.state).toBe('ERROR');
  driver.stop();
});
