/**
 * A strangle strategy `s` holding 2 contracts whose roll order is on its way: the starting point
 * of the tests of a roll in real order flow (the runtime, the trading day and its routing, a
 * scripted broker).
 */
import { strangle } from '../../machines/variants';
import { startTradingDay } from '../../services/day/tradingDay';
import { createSimulatedClock } from '../../services/market/clock';
import type { MemoryStore } from '../../services/store/memoryStore';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { type ScriptedBroker, sendEntry, settled } from './scriptedBroker';

/**
 * Enters `s` (entry order B-1 filled for 2 at the broker), opens the market and sends
 * RISK_LIMIT_EXCEEDED: the strategy is in ADJUSTING, its roll order submitted to `broker`.
 * `errors` collects what the trading day tells `onError`.
 */
export async function strangleRolling(broker: ScriptedBroker, store?: MemoryStore) {
  const clock = createSimulatedClock('2026-11-23T10:00:00-05:00');
  const system = createStrategySystem(store ? { clock, store } : { clock });
  const strategy = system.add(strangle, { id: 's', params: { quantity: 2 } });
  const errors: unknown[] = [];
  const driver = startTradingDay({ target: system, clock, broker, onError: (e) => errors.push(e) });
  sendEntry(system);
  clock.increment(0);
  await settled();
  broker.report({ orderId: 'B-1', strategyId: 's', kind: 'fill', quantity: 2, reportId: 'E-1', price: 1 });
  broker.held = 2;
  await settled();
  system.send('s', { type: 'MARKET_OPEN' });
  system.send('s', { type: 'RISK_LIMIT_EXCEEDED' });
  clock.increment(0);
  await settled();
  return { clock, system, strategy, errors, driver };
}

/** The exit order `orderId` fills for the 2 contracts of `s` (report `reportId`), the broker flat after it; settled. */
export async function exitFills(broker: ScriptedBroker, clock: { increment(ms: number): void }, orderId: string, reportId: string) {
  broker.report({ orderId, strategyId: 's', kind: 'fill', quantity: 2, reportId, price: 1 });
  broker.held = 0;
  await settled();
  clock.increment(0);
  await settled();
}
