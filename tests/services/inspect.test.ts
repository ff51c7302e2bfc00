/** The `inspect` option reaches XState: the inspector sees the strategy, its events and snapshots. */
import type { InspectionEvent } from 'xstate';
import { lt112 } from '../../machines/variants';
import { MINUTE, drive, start } from '../support/fixtures';

test('an inspect callback receives the actor, each event and each snapshot, including the delayed recovery as XState\'s own delayed event', () => {
  const seen: InspectionEvent[] = [];
  const { strategy, clock } = start(lt112, { inspect: (e) => seen.push(e) });
  drive(strategy, [{ type: 'MARKET_OPEN' }, { type: 'SYSTEM_ERROR', reason: 'inspect me' }]);
  clock.increment(30 * MINUTE);

  // The strategy and ERROR's invoked errorAlert are the only actors: its delays are the machine's
  // own `after`, not a timer actor.
  const actors = seen.filter((e) => e.type === '@xstate.actor').map((e) => e.actorRef);
  expect(actors[0]).toBe(strategy.actorRef);
  expect(actors.slice(1).map((a) => a.id)).toEqual(['errorAlert']);
  const events = seen.filter((e): e is Extract<InspectionEvent, { type: '@xstate.event' }> => e.type === '@xstate.event').map((e) => e.event.type);
  expect(events).toEqual(expect.arrayContaining(['MARKET_OPEN', 'SYSTEM_ERROR', 'xstate.after.errorRecovery.lt112.ERROR']));
  const states = seen
    .filter((e): e is Extract<InspectionEvent, { type: '@xstate.snapshot' }> => e.type === '@xstate.snapshot' && e.actorRef === strategy.actorRef)
    .map((e) => (e.snapshot as unknown as { value: unknown }).value);
  expect(states).toEqual(expect.arrayContaining(['READY', 'ERROR']));
  expect(states.at(-1)).toBe('READY');
});
