/**
 * The example broker adapter (examples/broker-adapter.example.ts) wired into the trading day
 * through the public API: its order reaches the broker tagged with the strategy, the broker's
 * executions become fills with eventIds, a replayed execution is refused as a duplicate, and its
 * positions attribute the account to strategy ids. The broker's SDK is the only stand-in (there
 * is no real broker in a test); the strategies, their clock and XState are real.
 */
import { ExampleBrokerAdapter, type BrokerConnection, type BrokerExecution } from '../../examples/broker-adapter.example';
import { createSimulatedClock, createStrategySystem, startTradingDay, strangle } from '../../index';

/** A broker SDK as the example expects it: it records orders and sends what the test tells it to. */
function brokerSdk() {
  const orders: Array<{ clientOrderId: string; side: string; quantity: number; expiry?: string }> = [];
  const listeners = new Set<(e: BrokerExecution) => void>();
  const connection: BrokerConnection = {
    async placeOrder(order) {
      orders.push(order);
      return { brokerOrderId: `B-${orders.length}` };
    },
    async cancelOrder() {},
    async openPositions() {
      return orders.map((o) => ({ clientTag: o.clientOrderId, quantity: o.side === 'buy' ? o.quantity : -o.quantity }));
    },
    async workingOrders() {
      return orders.map((o, i) => ({ brokerOrderId: `B-${i + 1}`, clientOrderId: o.clientOrderId, quantity: o.quantity }));
    },
    onExecution(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return { connection, orders, execute: (e: BrokerExecution) => listeners.forEach((l) => l(e)) };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

test('the example adapter: order tagged with the strategy, executions as fills with eventIds, a replayed execution refused, positions per strategy', async () => {
  const clock = createSimulatedClock('2026-11-23T10:00:00-05:00');
  const system = createStrategySystem({ clock });
  const strategy = system.add(strangle, { id: 'strangle-spy', params: { quantity: 2 } });
  const sdk = brokerSdk();
  const broker = new ExampleBrokerAdapter(sdk.connection);
  const day = startTradingDay({ target: system, clock, broker });
  for (const event of [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START' },
    { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-01-15' },
  ] as const) {
    expect(system.send('strangle-spy', event)).toMatchObject({ accepted: true });
  }
  clock.increment(0); // the driver places the order from a timer of the strategy's clock
  await settled();
  expect(sdk.orders).toEqual([
    expect.objectContaining({
      side: 'buy',
      quantity: 2,
      expiry: '2027-01-15',
      clientOrderId: expect.stringMatching(/^strangle-spy:[0-9a-f]{16}:1:/),
    }),
  ]);
  // The strategy's incarnation travels with the order and comes back from the broker.
  const { incarnation } = strategy.getSnapshot().context;
  expect(sdk.orders[0].clientOrderId.split(':')[1]).toBe(incarnation);
  expect(await broker.openOrders()).toEqual([{ orderId: 'B-1', strategyId: 'strangle-spy', side: 'open', quantity: 2, incarnation }]);
  expect(strategy.state).toBe('ENTERING');

  const execution: BrokerExecution = {
    brokerOrderId: 'B-1',
    executionId: 'E-7',
    clientOrderId: sdk.orders[0].clientOrderId,
    status: 'partially_filled',
    lastQuantity: 1,
    lastPrice: 1.2,
  };
  sdk.execute(execution);
  await settled();
  expect(strategy.getSnapshot().context.position?.quantity).toBe(1);
  // The broker replays the same execution after a reconnect: same eventId, refused.
  sdk.execute(execution);
  await settled();
  expect(strategy.getAuditTrail().at(-1)).toMatchObject({ trigger: 'ORDER_PARTIALLY_FILLED', accepted: false, code: 'DUPLICATE_EVENT' });
  sdk.execute({ ...execution, executionId: 'E-8', status: 'filled' });
  await settled();
  expect(strategy.state).toBe('POSITION_OPEN');
  expect(strategy.getSnapshot().context.position).toMatchObject({ quantity: 2, expiry: '2027-01-15' });
  expect(
    strategy
      .getAuditTrail()
      .filter((r) => r.accepted && r.trigger.startsWith('ORDER_'))
      .map((r) => r.eventId),
  ).toEqual(['B-1/submitted', 'B-1/E-7', 'B-1/E-8']);
  expect(await broker.positions()).toEqual([{ strategyId: 'strangle-spy', quantity: 2 }]);
  day.stop();
});
