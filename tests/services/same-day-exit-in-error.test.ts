/**
 * A same-day (0DTE) position whose exit time comes while the strategy cannot take TIME_WINDOW_END:
 * in ERROR (a SYSTEM_ERROR at 15:40, recovery due 16:10, after the close), ADJUSTING or SUSPENDED.
 * Before, the exit was held until the strategy came back, after the close, and went out at the
 * next session's open, days after the contracts expired, marked "missed while the service was
 * down" although the process ran all along. Now the position is flattened at the exit time with
 * EMERGENCY_EXIT (accepted wherever a position is held), and an exit held for a reason of the
 * strategy's says so.
 */
import { DateTime } from 'luxon';
import { zeroDte } from '../../machines/variants';
import { PaperBroker } from '../../services/broker/broker';
import { lateExitReason } from '../../services/day/catchUp';
import { startTradingDay } from '../../services/day/tradingDay';
import { createSimulatedClock } from '../../services/market/clock';
import { MARKET_ZONE } from '../../services/market/time';
import { createStrategySystem } from '../../services/runtime/strategySystem';

const ny = (iso: string) => DateTime.fromISO(iso, { zone: MARKET_ZONE }).toMillis();

function zeroDteDay() {
  const clock = createSimulatedClock(ny('2026-12-04T09:00:00'));
  const system = createStrategySystem({ clock });
  system.add(zeroDte, { id: 'z', params: { quantity: 2 } });
  const broker = new PaperBroker({ clock });
  const day = startTradingDay({
    target: system,
    clock,
    broker,
    onError: (e) => {
      throw e;
    },
  });
  // Through the day's own flow: the open, the entry window (10:30), an entry, the paper broker's fill.
  clock.set(ny('2026-12-04T10:30:00'));
  system.send('z', { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2026-12-04' });
  clock.set(ny('2026-12-04T10:45:00'));
  return { clock, system, broker, day };
}

test('a 0DTE position in ERROR at its exit time (15:45) is flattened then, not after the close', () => {
  const { clock, system, day } = zeroDteDay();
  expect(system.get('z').state).toBe('MANAGING');
  expect(system.get('z').getSnapshot().context.position).toMatchObject({ quantity: 2, expiry: '2026-12-04' });
  clock.set(ny('2026-12-04T15:40:00'));
  expect(system.send('z', { type: 'SYSTEM_ERROR', reason: 'feed lost' })).toMatchObject({ accepted: true, to: 'ERROR' });
  clock.set(ny('2026-12-04T15:45:00'));
  const exit = system
    .get('z')
    .getAuditTrail()
    .find((r) => r.trigger === 'EMERGENCY_EXIT');
  expect(exit).toMatchObject({ previousState: 'ERROR', currentState: 'EXITING', at: ny('2026-12-04T15:45:00') });
  expect(exit?.data.reason).toBe("same-day exit time reached in ERROR: flattened before the position expires at today's close");
  // The exit order goes to the broker and fills before the close.
  clock.set(ny('2026-12-04T15:50:00'));
  expect(system.get('z').state).toBe('CLOSED');
  expect(system.get('z').getSnapshot().context.position).toBeNull();
  day.stop();
  system.stop();
});

test('an exit held for the strategy (not a restart) says so', () => {
  expect(lateExitReason({ type: 'TIME_WINDOW_END', window: 'manage' }, 'ERROR')).toBe(
    'held until the strategy could take it: the same-day exit time passed while it was in ERROR',
  );
  expect(lateExitReason({ type: 'DEFENSIVE_EXIT_DTE', dte: 19 })).toBe(
    'missed while the service was down: the defensive exit (DTE rule) fell due at an earlier open',
  );
});
