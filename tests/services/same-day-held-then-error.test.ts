/**
 * A same-day exit that falls due while the strategy is already exiting (held in EXITING) is turned
 * into EMERGENCY_EXIT when the strategy then falls into a recovering ERROR (its exit order stuck)
 * before the close. Before, the held exit was looked at again only on entering MANAGING or
 * POSITION_OPEN, at ERROR's recovery 30 minutes later, after the close: the position expired held.
 */
import { ny, zeroDteDay } from '../support/zeroDteDay';

test('a 0DTE exit held in EXITING, then ERROR at 15:53: flattened before the close', () => {
  const { clock, system, stop } = zeroDteDay({ stuckExits: true });
  expect(system.get('z').state).toBe('MANAGING');
  clock.set(ny('2026-12-04T15:43:00'));
  expect(system.send('z', { type: 'MARGIN_CALL' })).toMatchObject({ accepted: true });
  clock.set(ny('2026-12-04T15:44:00'));
  expect(system.get('z').state).toBe('EXITING');
  clock.set(ny('2026-12-04T15:45:00')); // the same-day exit time: held (EXITING has no edge for it)
  clock.set(ny('2026-12-04T15:54:00'));
  expect(system.get('z').state).toBe('ERROR'); // the exit order stuck 10 minutes: ERROR, recovery due after the close
  expect(system.get('z').getSnapshot().context.deadline).not.toBeNull(); // recovering, not held for an operator
  clock.set(ny('2026-12-04T15:59:00'));
  const trail = system
    .get('z')
    .getAuditTrail()
    .map((r) => `${r.trigger}:${r.previousState}->${r.currentState}`);
  stop();
  expect(trail.filter((t) => t.startsWith('EMERGENCY_EXIT'))).toEqual(['EMERGENCY_EXIT:ERROR->EXITING']);
});
