/**
 * A kill switch exit the broker never answers: the stuck deadline moves the strategy to ERROR and
 * the kill switch gives up on it. That ERROR is held for an operator like the one after rejected
 * exits; before, the recovery the deadline armed put the position back in MANAGING 30 minutes
 * later, as if the flattening had worked, with trading HALTED and nothing left to exit it.
 */
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FRIDAY_11AM, MINUTE } from '../support/fixtures';
import { toPosition } from '../support/persistedSteps';

test('an exit stuck during the kill switch leaves the strategy held in ERROR, not recovered to MANAGING', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = createStrategySystem({ clock });
  system.add(lt112, { id: 'silent' });
  for (const event of toPosition) system.send('silent', event);
  const done = system.killSwitch('broker outage drill');
  clock.increment(10 * MINUTE);
  expect((await done).failed).toEqual([{ strategyId: 'silent', reason: 'stuck in EXITING for 10m0s' }]);
  expect(system.get('silent').state).toBe('ERROR');
  expect(system.get('silent').getSnapshot().context.deadline).toBeNull();
  clock.increment(31 * MINUTE);
  expect(system.get('silent').state).toBe('ERROR');
  expect(system.get('silent').getSnapshot().context.position?.quantity).toBe(2);
  expect(system.send('silent', { type: 'RESET' })).toMatchObject({ accepted: true, to: 'MANAGING' });
});
