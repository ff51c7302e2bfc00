/** The `inspect` option reaches XState: the inspector sees the strategy, its events and snapshots. */
import type { InspectionEvent } from 'xstate';
import { lt112, strangle } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FRIDAY_11AM, MINUTE, drive, start } from '../support/fixtures';

test("an inspect callback receives the actor, each event and each snapshot, including the delayed recovery as XState's own delayed event", () => {
  const seen: InspectionEvent[] = [];
  const { strategy, clock } = start(lt112, { inspect: (e) => seen.push(e) });
  drive(strategy, [{ type: 'MARKET_OPEN' }, { type: 'SYSTEM_ERROR', reason: 'inspect me' }]);
  clock.increment(30 * MINUTE);

  // The strategy and ERROR's invoked errorAlert are the only actors: its delays are the machine's
  // own `after`, not a timer actor.
  const actors = seen.filter((e) => e.type === '@xstate.actor').map((e) => e.actorRef);
  expect(actors[0]).toBe(strategy.actorRef);
  expect(actors.slice(1).map((a) => ('id' in a ? a.id : undefined))).toEqual(['errorAlert']);
  const events = seen
    .filter((e): e is Extract<InspectionEvent, { type: '@xstate.event' }> => e.type === '@xstate.event')
    .map((e) => e.event.type);
  expect(events).toEqual(expect.arrayContaining(['MARKET_OPEN', 'SYSTEM_ERROR', 'xstate.after.errorRecovery.lt112.ERROR']));
  const states = seen
    .filter(
      (e): e is Extract<InspectionEvent, { type: '@xstate.snapshot' }> => e.type === '@xstate.snapshot' && e.actorRef === strategy.actorRef,
    )
    .map((e) => (e.snapshot as unknown as { value: unknown }).value);
  expect(states).toEqual(expect.arrayContaining(['READY', 'ERROR']));
  expect(states.at(-1)).toBe('READY');
});

test("a system's inspect sees the coordinator, every strategy (with its id as name), their events, the fired recovery delay and a removal", () => {
  const seen: InspectionEvent[] = [];
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = createStrategySystem({ clock, inspect: (e) => seen.push(e) });
  system.add(lt112, { id: 'a', params: { underlying: 'SPX' } });
  system.add(strangle, { id: 'b', params: { underlying: 'SPX' } });
  system.broadcast({ type: 'MARKET_OPEN' });
  system.send('a', { type: 'SYSTEM_ERROR', reason: 'inspect me' });
  clock.increment(30 * MINUTE);
  system.remove('b');

  const actors = seen.filter((e) => e.type === '@xstate.actor').map((e) => e.actorRef);
  // The coordinator, the two strategies, then ERROR's invoked errorAlert (a's child) while a is in ERROR.
  expect(actors).toEqual([system.actorRef, expect.anything(), expect.anything(), expect.anything()]);
  expect(actors.slice(1).map((ref) => (ref as { id?: string }).id)).toEqual(['a', 'b', 'errorAlert']);
  const a = system.get('a').actorRef;
  const eventsOf = (ref: unknown) =>
    seen
      .filter((e) => e.type === '@xstate.event' && e.actorRef === ref)
      .map((e) => (e as Extract<InspectionEvent, { type: '@xstate.event' }>).event.type);
  expect(eventsOf(a)).toEqual(expect.arrayContaining(['MARKET_OPEN', 'SYSTEM_ERROR', 'xstate.after.errorRecovery.lt112.ERROR']));
  const snapshotsOf = (ref: unknown) =>
    seen
      .filter((e): e is Extract<InspectionEvent, { type: '@xstate.snapshot' }> => e.type === '@xstate.snapshot' && e.actorRef === ref)
      .map((e) => e.snapshot as unknown as { value: unknown; status: string });
  expect(snapshotsOf(a).at(-1)).toMatchObject({ value: 'READY', status: 'active' });
  // The removed strategy's last snapshot says it is stopped: what lets the bridge forget it.
  expect(snapshotsOf(actors[2]).at(-1)?.status).toBe('stopped');
  expect(eventsOf(system.actorRef)).toContain('system.stopStrategy');
  system.stop();
});
