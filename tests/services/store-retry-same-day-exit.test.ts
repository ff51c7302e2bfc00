/**
 * The DTE monitor's exits (the 0DTE exit at 15:45, EMERGENCY_EXIT in ERROR, DEFENSIVE_EXIT_DTE) are
 * sent once by the monitor, and no catch-up ever yields an exit: one refused by the store is sent
 * again as it was, after the backoff. Before, the 0DTE position was left to expire.
 */
import { DateTime } from 'luxon';
import { StoreUnavailableError } from '../../machines/errors';
import { zeroDte } from '../../machines/variants';
import { PaperBroker } from '../../services/broker/broker';
import { startTradingDay } from '../../services/day/tradingDay';
import { createSimulatedClock } from '../../services/market/clock';
import { MARKET_ZONE } from '../../services/market/time';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FlakyMemoryStore } from '../support/flakyStore';

const ny = (iso: string) => DateTime.fromISO(iso, { zone: MARKET_ZONE }).toMillis();

function zeroDteDay() {
  const store = new FlakyMemoryStore(undefined, 'connection lost');
  const clock = createSimulatedClock(ny('2026-12-04T09:00:00'));
  const system = createStrategySystem({ store, clock });
  system.add(zeroDte, { id: 'z', params: { quantity: 2 } });
  const broker = new PaperBroker({ clock });
  const errors: unknown[] = [];
  const day = startTradingDay({ target: system, clock, broker, onError: (e) => errors.push(e) });
  clock.set(ny('2026-12-04T10:30:00'));
  system.send('z', { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2026-12-04' });
  clock.set(ny('2026-12-04T10:45:00'));
  return { store, clock, system, day, errors };
}

test('a 0DTE exit whose write failed for one second is sent again once the store takes writes', () => {
  const { store, clock, system, day, errors } = zeroDteDay();
  expect(system.get('z').state).toBe('MANAGING');
  store.full = true;
  clock.set(ny('2026-12-04T15:45:00'));
  expect(errors.some((e) => e instanceof StoreUnavailableError)).toBe(true);
  store.full = false;
  clock.set(ny('2026-12-04T15:55:00'));
  expect(system.get('z').getSnapshot().context.position).toBeNull();
  expect(system.get('z').state).toBe('CLOSED');
  day.stop();
  system.stop();
});

test('an EMERGENCY_EXIT of a 0DTE position in ERROR whose write failed is sent again', () => {
  const { store, clock, system, day } = zeroDteDay();
  clock.set(ny('2026-12-04T15:40:00'));
  expect(system.send('z', { type: 'SYSTEM_ERROR', reason: 'feed lost' })).toMatchObject({ accepted: true, to: 'ERROR' });
  store.full = true;
  clock.set(ny('2026-12-04T15:45:00'));
  store.full = false;
  clock.set(ny('2026-12-04T15:55:00'));
  expect(
    system
      .get('z')
      .getAuditTrail()
      .some((r) => r.trigger === 'EMERGENCY_EXIT' && r.accepted),
  ).toBe(true);
  day.stop();
  system.stop();
});
