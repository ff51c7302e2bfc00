/**
 * A DTE-monitor exit the store refused is worked out again by the monitor, from the state the
 * strategy is in by the retry. Before, the trading day re-sent it as it was: an EMERGENCY_EXIT
 * refused at 15:45 in a recovering ERROR flattened an ERROR that meanwhile was held for an
 * operator, and a refused TIME_WINDOW_END was re-sent into ERROR (no edge) instead of an EMERGENCY_EXIT.
 */
import { DateTime } from 'luxon';
import { zeroDte } from '../../machines/variants';
import { PaperBroker } from '../../services/broker/broker';
import { startTradingDay } from '../../services/day/tradingDay';
import { createSimulatedClock } from '../../services/market/clock';
import { MARKET_ZONE } from '../../services/market/time';
import { StoreUnavailableError } from '../../machines/errors';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { MemoryStore } from '../../services/store/memoryStore';
import type { StrategyWrite } from '../../services/store/types';

const ny = (iso: string) => DateTime.fromISO(iso, { zone: MARKET_ZONE }).toMillis();

class RefusesExits extends MemoryStore {
  refuse = false;
  override append(write: StrategyWrite) {
    if (this.refuse && write.state === 'EXITING') throw new StoreUnavailableError('memory', 'connection lost');
    return super.append(write);
  }
}

test('a retried EMERGENCY_EXIT is not sent into an ERROR held for an operator', () => {
  const store = new RefusesExits();
  const clock = createSimulatedClock(ny('2026-12-04T09:00:00'));
  const system = createStrategySystem({ store, clock });
  system.add(zeroDte, { id: 'z', params: { quantity: 2 } });
  const errors: unknown[] = [];
  const day = startTradingDay({ target: system, clock, broker: new PaperBroker({ clock }), onError: (e) => void errors.push(e) });
  clock.set(ny('2026-12-04T10:30:00'));
  system.send('z', { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2026-12-04' });
  clock.set(ny('2026-12-04T10:45:00'));
  expect(system.get('z').state).toBe('MANAGING');
  clock.set(ny('2026-12-04T15:40:00'));
  expect(system.send('z', { type: 'SYSTEM_ERROR', reason: 'feed lost' })).toMatchObject({ accepted: true, to: 'ERROR' });
  store.refuse = true;
  clock.set(ny('2026-12-04T15:45:00')); // EMERGENCY_EXIT sent, its write refused
  expect(errors.some((e) => e instanceof StoreUnavailableError)).toBe(true);
  store.refuse = false;
  // Within the backoff, a position mismatch holds the strategy for an operator (as the routing does).
  expect(
    system.send('z', { type: 'MANUAL_OVERRIDE', target: 'ERROR', reason: 'position mismatch', operator: 'broker', hold: true }),
  ).toMatchObject({ accepted: true, to: 'ERROR' });
  expect(system.get('z').getSnapshot().context.deadline).toBeNull();
  clock.set(ny('2026-12-04T15:47:00'));
  const flattened = system
    .get('z')
    .getAuditTrail()
    .filter((r) => r.trigger === 'EMERGENCY_EXIT' && r.accepted);
  day.stop();
  system.stop();
  expect(flattened.map((r) => `${r.previousState}->${r.currentState}`)).toEqual([]);
});

test('a retried 0DTE TIME_WINDOW_END that finds the strategy in a recovering ERROR: flattened before the close', () => {
  const store = new RefusesExits();
  const clock = createSimulatedClock(ny('2026-12-04T09:00:00'));
  const system = createStrategySystem({ store, clock });
  system.add(zeroDte, { id: 'z', params: { quantity: 2 } });
  const errors: unknown[] = [];
  const day = startTradingDay({ target: system, clock, broker: new PaperBroker({ clock }), onError: (e) => void errors.push(e) });
  clock.set(ny('2026-12-04T10:30:00'));
  system.send('z', { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2026-12-04' });
  clock.set(ny('2026-12-04T10:45:00'));
  expect(system.get('z').state).toBe('MANAGING');
  store.refuse = true;
  // PENDING_EXIT is not EXITING: refuse that write too.
  const append = store.append.bind(store);
  store.append = (w: StrategyWrite) => {
    if (store.refuse && w.state === 'PENDING_EXIT') throw new StoreUnavailableError('memory', 'connection lost');
    return append(w);
  };
  clock.set(ny('2026-12-04T15:45:00')); // TIME_WINDOW_END sent, its write refused
  expect(errors.some((e) => e instanceof StoreUnavailableError)).toBe(true);
  store.refuse = false;
  expect(system.send('z', { type: 'SYSTEM_ERROR', reason: 'feed lost' })).toMatchObject({ accepted: true, to: 'ERROR' });
  clock.set(ny('2026-12-04T15:59:00'));
  const trail = system
    .get('z')
    .getAuditTrail()
    .map((r) => `${r.trigger}:${r.previousState}->${r.currentState}:${r.accepted}`);
  day.stop();
  system.stop();
  // Observed: [..., 'SYSTEM_ERROR:MANAGING->ERROR:true', 'TIME_WINDOW_END:ERROR->ERROR:false'] and nothing more.
  expect(trail.filter((t) => t.startsWith('EMERGENCY_EXIT') && t.endsWith('true'))).toHaveLength(1);
});
