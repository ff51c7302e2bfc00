/**
 * A same-day exit held in EXITING, then an ERROR held for an operator before the close: the
 * operator is told through onError (no automatic flattening there). Before, the report was given
 * only when the exit was not already held, so nobody was told and the position expired.
 */
import { ny, zeroDteDay } from '../support/zeroDteDay';

test('0DTE exit held in EXITING, then ERROR held for an operator at 15:46: the operator is told', () => {
  const { clock, system, errors, stop } = zeroDteDay({ stuckExits: true });
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
  stop();
  expect(errors.filter((e) => e.includes('held for an operator'))).toHaveLength(1);
});
