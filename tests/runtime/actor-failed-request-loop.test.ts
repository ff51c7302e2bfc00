/**
 * An ACTOR_FAILED refusal restores the actor, which restarts the invoked actors of the state. One
 * that asks for an event as it starts would ask again at once, the throwing action would fail it
 * again, ACTOR_FAILED, restore, restart... in microtasks: no timer or I/O ran, and a refusal
 * record was written on each turn. Its requests now wait like those after a failed write (100 ms,
 * doubling), and the refusal's own commit does not reset that.
 */
import { fromCallback, type EventObject } from 'xstate';
import { lifecycleRequest, type StrategyActorInput } from '../../machines/actors';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { FRIDAY_11AM, VARIANTS } from '../support/fixtures';

test('a throwing action on the move an analyzer asks for as it starts does not loop in microtasks', async () => {
  let starts = 0;
  const CAP = 500;
  const analyzer = fromCallback<EventObject, StrategyActorInput>(({ sendBack }) => {
    starts++;
    if (starts <= CAP) sendBack(lifecycleRequest(VARIANTS[1].entry));
  });
  const machine = createStrategyMachine({ ...lt112, actors: { entryAnalyzer: analyzer } }).provide({
    actions: {
      armStuckDeadline: () => {
        throw new Error('deadline service down');
      },
    },
  });
  const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    const clock = createSimulatedClock(FRIDAY_11AM);
    const strategy = createStrategyActor(machine, { id: 'lt', clock });
    strategy.trigger({ type: 'MARKET_OPEN' });
    expect(strategy.trigger({ type: 'TIME_WINDOW_START' })).toMatchObject({ accepted: true, to: 'ANALYZING' });
    let macrotaskRan = false;
    let startsAtMacrotask = -1;
    setTimeout(() => {
      macrotaskRan = true;
      startsAtMacrotask = starts;
    }, 0);
    await new Promise((r) => setTimeout(r, 5));
    expect(macrotaskRan).toBe(true);
    const refusals = () => strategy.getAuditTrail().filter((r) => r.code === 'ACTOR_FAILED').length;
    // The first request failed; the restarted analyzer's request waits 100 ms on the clock.
    expect([startsAtMacrotask, starts, refusals()]).toEqual([2, 2, 1]);
    expect(strategy.state).toBe('ANALYZING');
    clock.increment(100);
    await new Promise((r) => setTimeout(r, 5));
    expect([starts, refusals()]).toEqual([3, 2]); // one more try; the next waits 200 ms
    clock.increment(199);
    await new Promise((r) => setTimeout(r, 5));
    expect(starts).toBe(3);
    strategy.stop();
  } finally {
    spy.mockRestore();
  }
});
