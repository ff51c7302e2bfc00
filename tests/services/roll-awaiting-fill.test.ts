/**
 * The strangle's roll in real order flow: ADJUSTING.ROLLING chooses the roll, and once the broker
 * acknowledges the roll order the strategy is in ADJUSTING.AWAITING_FILL, as docs/variants.md
 * says. Before, the routing never told it the roll order was placed: it sat in ROLLING while its
 * order worked at the broker. A variant that adjusts without substates takes no such step: it is
 * sent nothing it would refuse. The real runtime, trading day and routing over the scripted broker.
 */
import type { StrategyDefinition } from '../../machines/definition';
import { strangle } from '../../machines/variants';
import { brokerDayManaging, settled } from '../support/scriptedBroker';

test('the roll order acknowledged by the broker moves ROLLING to AWAITING_FILL; its fill returns to MANAGING', async () => {
  const { clock, strategy, broker, errors, driver, send } = await brokerDayManaging();
  send({ type: 'RISK_LIMIT_EXCEEDED' });
  clock.increment(0);
  await settled();
  expect(broker.orders.map((o) => `${o.id}:${o.order.side}`)).toEqual(['B-1:open', 'B-2:adjust']);
  expect(strategy.getSnapshot().value).toEqual({ ADJUSTING: 'AWAITING_FILL' });
  expect(strategy.getAuditTrail().at(-1)).toMatchObject({
    trigger: 'ORDER_SUBMITTED',
    accepted: true,
    message: 'ADJUSTING.ROLLING -> ADJUSTING.AWAITING_FILL',
    eventId: 'B-2/submitted',
  });
  broker.report({ orderId: 'B-2', strategyId: 's', kind: 'partial', quantity: 1, reportId: 'E-2', price: 1 });
  broker.report({ orderId: 'B-2', strategyId: 's', kind: 'fill', quantity: 1, reportId: 'E-3', price: 1 });
  await settled();
  expect({ state: strategy.state, quantity: strategy.getSnapshot().context.position?.quantity, errors }).toEqual({
    state: 'MANAGING',
    quantity: 2,
    errors: [],
  });
  driver.stop();
});

test('a variant that adjusts without substates is sent no acknowledgement it has no edge for', async () => {
  // The strangle's windows and rules, without its ADJUSTING substates.
  const plain: StrategyDefinition = { ...strangle, substates: undefined };
  const { clock, strategy, broker, errors, driver, send } = await brokerDayManaging(plain);
  send({ type: 'RISK_LIMIT_EXCEEDED' });
  clock.increment(0);
  await settled();
  expect(broker.orders.map((o) => `${o.id}:${o.order.side}`)).toEqual(['B-1:open', 'B-2:adjust']);
  expect(strategy.getSnapshot().value).toBe('ADJUSTING');
  expect(strategy.getAuditTrail().filter((r) => !r.accepted)).toEqual([]);
  broker.report({ orderId: 'B-2', strategyId: 's', kind: 'fill', quantity: 2, reportId: 'E-2', price: 1 });
  await settled();
  expect({ state: strategy.state, errors }).toEqual({ state: 'MANAGING', errors: [] });
  driver.stop();
});
