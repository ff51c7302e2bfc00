/**
 * A strategy removed and added again under its id while the trading day runs (between two bells,
 * before the service's next refresh): the driver must follow the new strategy, not the removed one
 * it still had enrolled. Before, its transitions were taken as the removed strategy's: PENDING_ENTRY
 * placed no order (the removed handle's state asked for none) and the strategy waited for its stuck
 * deadline. In-memory system, simulated clock, paper broker: no mocks.
 */
import { lt112 } from '../../machines/variants';
import { PaperBroker, type OrderRequest } from '../../services/broker/broker';
import { startTradingDay } from '../../services/day/tradingDay';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategySystem } from '../../services/runtime/strategySystem';

const ENTRY = { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-29' } as const;

function setUp(withBroker = true) {
  const clock = createSimulatedClock('2026-12-07T09:00:00-05:00');
  const system = createStrategySystem({ clock });
  const orders: OrderRequest[] = [];
  const broker = new PaperBroker({ clock, session: 'readd' });
  const submit = broker.submit.bind(broker);
  broker.submit = (order) => {
    orders.push(order);
    return submit(order);
  };
  const errors: unknown[] = [];
  system.add(lt112, { id: 'a' });
  const day = startTradingDay({ target: system, clock, ...(withBroker ? { broker } : {}), onError: (e) => errors.push(e) });
  clock.increment(40 * 60_000); // 09:40 ET: open, before the entry window
  expect(system.get('a').state).toBe('READY');
  return { clock, system, orders, errors, day };
}

test('the entry of a strategy added again under a removed id is placed with the broker and fills', () => {
  const { clock, system, orders, errors, day } = setUp();
  system.remove('a');
  const again = system.add(lt112, { id: 'a' });
  expect(system.send('a', { type: 'MARKET_OPEN' }).to).toBe('READY');
  expect(system.send('a', { type: 'TIME_WINDOW_START' }).to).toBe('ANALYZING');
  expect(system.send('a', ENTRY).to).toBe('PENDING_ENTRY');
  clock.increment(1000);
  expect(orders).toEqual([expect.objectContaining({ strategyId: 'a', side: 'open', expiry: '2027-03-29' })]);
  expect(again.state).toBe('POSITION_OPEN');
  expect(again.getSnapshot().context.position?.quantity).toBe(1);
  expect(errors).toEqual([]);
  expect(day.status().strategies).toBe(1);
  day.stop();
  system.stop();
});

test('the DTE monitor of a strategy added again under a removed id watches the new strategy', () => {
  const { clock, system, errors, day } = setUp(false);
  system.remove('a');
  system.add(lt112, { id: 'a' });
  for (const event of [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START' },
    ENTRY,
    { type: 'ORDER_SUBMITTED' },
    { type: 'ORDER_FILLED', quantity: 2, expiry: '2027-03-29' },
  ] as const)
    expect(system.send('a', event).accepted).toBe(true);
  clock.increment(1000);
  // The new strategy holds a position expiring 2027-03-29: its 21-DTE exit is armed.
  expect(day.scheduledExit('a')).toEqual({ event: 'DEFENSIVE_EXIT_DTE', at: expect.any(Number) });
  expect(errors).toEqual([]);
  day.stop();
  system.stop();
});
