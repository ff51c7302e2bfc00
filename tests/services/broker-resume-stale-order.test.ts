/**
 * A restart while an entry's cancel has not yet taken: the strategy was filled 1 of 2, an
 * emergency exit cancelled the entry (B-1) and placed the exit of 1 (B-2), and the service went
 * down before the broker confirmed the cancel. On resume the broker lists both orders as working.
 * Before, the routing followed B-1 as a working order: the cancel's reject then reached the
 * strategy, in EXITING, as ORDER_REJECTED ("retry the exit"), and a second exit of 1 went out
 * while B-2 still worked: 2 contracts sold against 1 held. Now an order the strategy's state no
 * longer waits on is cancelled on resume (as `cancelStale` does), so its reject is not news to the
 * strategy and a late fill of it holds the strategy for an operator.
 */
import { strangle } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { startTradingDay } from '../../services/day/tradingDay';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { ScriptedBroker, settled } from '../support/scriptedBroker';

test('after a restart, the reject of an entry whose cancel had not taken does not send a second exit', async () => {
  const clock = createSimulatedClock('2026-11-23T10:00:00-05:00');
  const system = createStrategySystem({ clock });
  const strategy = system.add(strangle, { id: 's', params: { quantity: 2 } });
  const broker = new ScriptedBroker();
  const errors: unknown[] = [];
  const first = startTradingDay({ target: system, clock, broker, onError: (e) => errors.push(e) });
  system.send('s', { type: 'MARKET_OPEN' });
  system.send('s', { type: 'TIME_WINDOW_START', window: 'entry' });
  system.send('s', { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-01-15' });
  clock.increment(0);
  await settled();
  broker.report({ orderId: 'B-1', strategyId: 's', kind: 'partial', quantity: 1, reportId: 'E-1', price: 1 });
  broker.held = 1;
  await settled();
  system.send('s', { type: 'EMERGENCY_EXIT', reason: 'kill switch' });
  clock.increment(0);
  await settled();
  expect(strategy.state).toBe('EXITING');
  expect(broker.cancels).toEqual(['B-1']);
  expect([...broker.book.keys()]).toEqual(['B-1', 'B-2']); // the cancel has not taken yet

  first.stop(); // the service goes down; the same strategies come back with a new routing
  const second = startTradingDay({ target: system, clock, broker, onError: (e) => errors.push(e) });
  clock.increment(0);
  await settled();
  broker.report({ orderId: 'B-1', strategyId: 's', kind: 'reject', quantity: 0, reportId: 'E-2', reason: 'cancelled' });
  clock.increment(0);
  await settled();

  expect(strategy.state).toBe('EXITING');
  const exits = broker.orders.filter((o) => o.order.side === 'close').map((o) => [o.id, o.order.quantity]);
  expect(exits).toEqual([['B-2', 1]]);
  expect(errors).toEqual([]);

  broker.report({ orderId: 'B-2', strategyId: 's', kind: 'fill', quantity: 1, reportId: 'E-3', price: 1 });
  await settled();
  expect(strategy.state).toBe('CLOSED');
  second.stop();
});
