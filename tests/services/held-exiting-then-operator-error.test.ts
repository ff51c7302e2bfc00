/**
 * A same-day exit held in EXITING, then an ERROR held for an operator before the close: the
 * operator is told through onError (no automatic flattening there). Before, the report was given
 * only when the exit was not already held, so nobody was told and the position expired.
 */
import { DateTime } from 'luxon';
import { zeroDte } from '../../machines/variants';
import { PaperBroker } from '../../services/broker/broker';
import { startTradingDay } from '../../services/day/tradingDay';
import { createSimulatedClock } from '../../services/market/clock';
import { MARKET_ZONE } from '../../services/market/time';
import { createStrategySystem } from '../../services/runtime/strategySystem';

const ny = (iso: string) => DateTime.fromISO(iso, { zone: MARKET_ZONE }).toMillis();

test('0DTE exit held in EXITING, then ERROR held for an operator at 15:46: the operator is told', () => {
  const clock = createSimulatedClock(ny('2026-12-04T09:00:00'));
  const system = createStrategySystem({ clock });
  system.add(zeroDte, { id: 'z', params: { quantity: 2 } });
  const broker = new PaperBroker({
    clock,
    script: (o) => (o.side === 'close' ? [{ kind: 'fill', afterMs: 6 * 3_600_000 }] : [{ kind: 'fill' }]),
  });
  const errors: string[] = [];
  const day = startTradingDay({ target: system, clock, broker, onError: (e) => void errors.push(String(e)) });
  clock.set(ny('2026-12-04T10:30:00'));
  system.send('z', { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2026-12-04' });
  clock.set(ny('2026-12-04T10:45:00'));
  clock.set(ny('2026-12-04T15:43:00'));
  expect(system.send('z', { type: 'MARGIN_CALL' })).toMatchObject({ accepted: true });
  clock.set(ny('2026-12-04T15:44:00'));
  expect(system.get('z').state).toBe('EXITING');
  clock.set(ny('2026-12-04T15:45:00')); // held in EXITING
  clock.set(ny('2026-12-04T15:46:00'));
  expect(system.send('z', { type: 'SYSTEM_ERROR', reason: 'position mismatch: reconcile with the broker', hold: true })).toMatchObject({
    accepted: true,
    to: 'ERROR',
  });
  clock.set(ny('2026-12-04T15:50:00'));
  expect(system.get('z').state).toBe('ERROR');
  day.stop();
  system.stop();
  expect(errors.filter((e) => e.includes('held for an operator'))).toHaveLength(1);
});
