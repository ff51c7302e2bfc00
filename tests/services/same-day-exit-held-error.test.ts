/**
 * The same-day EMERGENCY_EXIT (same-day-exit-in-error.test.ts) is not sent in an ERROR held for an
 * operator (hold: true, as the broker routing's "position mismatch ... reconcile with the broker"):
 * a close order for the quantity the strategy believes it holds, which the broker disputes, could
 * open the reverse position. The operator is told instead, through onError, at the exit time.
 */
import { ny, zeroDteDay } from '../support/zeroDteDay';

test('no automatic close order for a strategy held in ERROR for an operator (position mismatch)', () => {
  const { clock, system, orders, errors, stop } = zeroDteDay();
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
  stop();
});
