/**
 * The same-day EMERGENCY_EXIT (same-day-exit-in-error.test.ts) is not sent in an ERROR held for an
 * operator (hold: true, as the broker routing's "position mismatch ... reconcile with the broker"):
 * a close order for the quantity the strategy believes it holds, which the broker disputes, could
 * open the reverse position. The operator is told instead, through onError, at the exit time.
 */
import { DateTime } from 'luxon';
import { zeroDte } from '../../machines/variants';
import { PaperBroker, type OrderRequest } from '../../services/broker/broker';
import { startTradingDay } from '../../services/day/tradingDay';
import { createSimulatedClock } from '../../services/market/clock';
import { MARKET_ZONE } from '../../services/market/time';
import { createStrategySystem } from '../../services/runtime/strategySystem';

const ny = (iso: string) => DateTime.fromISO(iso, { zone: MARKET_ZONE }).toMillis();

test('no automatic close order for a strategy held in ERROR for an operator (position mismatch)', () => {
  const clock = createSimulatedClock(ny('2026-12-04T09:00:00'));
  const system = createStrategySystem({ clock });
  system.add(zeroDte, { id: 'z', params: { quantity: 2 } });
  const orders: OrderRequest[] = [];
  const paper = new PaperBroker({ clock });
  const broker = Object.assign(Object.create(paper) as PaperBroker, {
    submit: (order: OrderRequest) => (orders.push(order), paper.submit(order)),
  });
  const errors: string[] = [];
  const day = startTradingDay({ target: system, clock, broker, onError: (e) => void errors.push(String(e)) });
  clock.set(ny('2026-12-04T10:30:00'));
  system.send('z', { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2026-12-04' });
  clock.set(ny('2026-12-04T10:45:00'));
  clock.set(ny('2026-12-04T15:40:00'));
  expect(
    system.send('z', {
      type: 'SYSTEM_ERROR',
      reason: 'position mismatch: reconcile with the broker, then RESET or MANUAL_OVERRIDE',
      hold: true,
    }),
  ).toMatchObject({ accepted: true, to: 'ERROR' });
  clock.set(ny('2026-12-04T15:46:00'));
  expect(orders.filter((o) => o.side === 'close')).toHaveLength(0);
  expect(system.get('z').state).toBe('ERROR');
  expect(errors).toEqual([
    'Error: z: same-day exit time reached in ERROR held for an operator with 2 contracts expiring today: not flattened automatically; reconcile with the broker, then EMERGENCY_EXIT or MANUAL_OVERRIDE before the close',
  ]);
  day.stop();
  system.stop();
});
