/**
 * A transition is computed on the real, inspected actor before its write; a rollback replaces that
 * actor. The inspector is shown a transaction's events only once it ends: on a commit as they
 * were; on a rollback (a refused write, an aborting hook) without the undone transition: no
 * snapshot of the state it never committed, no event that caused it, no invoked actor it started
 * and stopped, and the replaced actor shown stopped in its committed state. Before, the viewer saw
 * the strategy enter ANALYZING (and its analyzer start) on a write the store then refused.
 */
import type { InspectionEvent } from 'xstate';
import { StoreUnavailableError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { MemoryStore } from '../../services/store/memoryStore';
import type { StrategyWrite } from '../../services/store/types';
import { brokenExitFill } from '../support/brokenActions';
import { FRIDAY_11AM, VARIANTS, managing } from '../support/fixtures';

type Ref = { sessionId: string; id?: string };
const sessionOf = (e: InspectionEvent) => (e.actorRef as Ref).sessionId;
/** Each session's snapshots as `value:status`, in the order shown. */
function snapshots(seen: InspectionEvent[], ids: Set<string>): string[] {
  return seen
    .filter((e) => e.type === '@xstate.snapshot' && ids.has(sessionOf(e)))
    .map((e) => {
      const snapshot = (e as { snapshot: { value?: unknown; status: string } }).snapshot;
      return `${String(snapshot.value)}:${snapshot.status}`;
    });
}

class FailingStore extends MemoryStore {
  fail = false;
  override append(write: StrategyWrite) {
    if (this.fail) throw new StoreUnavailableError('memory', 'disk full');
    return super.append(write);
  }
}

test('a write the store refuses: no session of the strategy is ever shown in the state it did not commit', () => {
  const store = new FailingStore();
  const seen: InspectionEvent[] = [];
  const system = createStrategySystem({ store, clock: createSimulatedClock(FRIDAY_11AM), inspect: (e) => void seen.push(e) });
  system.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
  system.send('lt', { type: 'MARKET_OPEN' });
  store.fail = true;
  expect(() => system.send('lt', { type: 'TIME_WINDOW_START' })).toThrow(StoreUnavailableError);
  expect(system.get('lt').state).toBe('READY');
  const sessions = new Set(seen.filter((e) => e.type === '@xstate.actor' && (e.actorRef as Ref).id === 'lt').map(sessionOf));
  expect(sessions.size).toBe(2); // the actor the rollback replaced, and its replacement
  const [first, second] = [...sessions];
  expect(snapshots(seen, new Set([first]))).toEqual(['INITIALIZING:active', 'READY:active', 'READY:stopped']);
  expect(snapshots(seen, new Set([second]))).toEqual(['READY:active']);
  expect(seen.filter((e) => e.type === '@xstate.event' && (e as { event: { type: string } }).event.type === 'TIME_WINDOW_START')).toEqual(
    [],
  );
  // The analyzer the undone transition started (and the rollback stopped) never appears.
  const isCoordinator = (e: InspectionEvent) => sessionOf(e) === e.rootId;
  expect(seen.filter((e) => e.type === '@xstate.actor' && (e.actorRef as Ref).id !== 'lt' && !isCoordinator(e))).toEqual([]);
  // Committed transitions are shown as they happen, once committed.
  store.fail = false;
  system.send('lt', { type: 'TIME_WINDOW_START' });
  expect(snapshots(seen, new Set([second]))).toEqual(['READY:active', 'ANALYZING:active']);
  system.stop();
});

test('a hook that aborts the transition: the lone strategy is shown stopped in READY, then READY again, never ANALYZING', () => {
  const seen: InspectionEvent[] = [];
  const strategy = createStrategyActor(createStrategyMachine(lt112), {
    id: 'x',
    clock: createSimulatedClock(FRIDAY_11AM),
    inspect: (e) => void seen.push(e),
    hooks: {
      onEnter: {
        ANALYZING: () => {
          throw new Error('boom');
        },
      },
    },
  });
  strategy.trigger({ type: 'MARKET_OPEN' });
  expect(strategy.trigger({ type: 'TIME_WINDOW_START' })).toMatchObject({ accepted: false, code: 'HOOK_FAILED' });
  const all = new Set(seen.filter((e) => e.type === '@xstate.actor').map(sessionOf));
  expect(snapshots(seen, all).filter((s) => s.startsWith('ANALYZING'))).toEqual([]);
  expect(snapshots(seen, all).at(-1)).toBe('READY:active');
  strategy.stop();
});

test('an inspector that throws never half-commits a strategy: the transition commits, the next event is taken', () => {
  let throwOnce = false;
  const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    const strategy = createStrategyActor(createStrategyMachine(lt112), {
      id: 'x',
      clock: createSimulatedClock(FRIDAY_11AM),
      inspect: (e: InspectionEvent) => {
        if (throwOnce && e.type === '@xstate.snapshot') {
          throwOnce = false;
          throw new Error('viewer failed');
        }
      },
    });
    strategy.trigger({ type: 'MARKET_OPEN' });
    throwOnce = true;
    // The events are released at the commit: a throwing inspector there left the strategy busy for good.
    expect(strategy.trigger({ type: 'TIME_WINDOW_START' })).toMatchObject({ accepted: true, to: 'ANALYZING' });
    expect(strategy.trigger({ type: 'TIME_WINDOW_END' })).toMatchObject({ accepted: true, to: 'READY' });
    expect(String(spy.mock.calls[0]?.[0])).toContain('the inspector threw');
    strategy.stop();
  } finally {
    spy.mockRestore();
  }
});

test.each(['a lone strategy', 'a system'])(
  'an action that throws (ACTOR_FAILED), in %s: the failed actor is shown stopped in its committed state, beside its replacement',
  (where) => {
    // XState reports nothing of an actor that failed in a transition, nor of its stop: before, the
    // failed session stayed shown running (and was replayed to every late viewer) for good.
    const { machine, state } = brokenExitFill(false);
    const seen: InspectionEvent[] = [];
    const inspect = (e: InspectionEvent) => void seen.push(e);
    const clock = createSimulatedClock(FRIDAY_11AM);
    const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      let send: (event: Parameters<typeof system.send>[1]) => { accepted: boolean; code?: string };
      let stop: () => void;
      const system = createStrategySystem({ clock, inspect });
      if (where === 'a system') {
        system.add(machine, { id: 'x' });
        send = (event) => system.send('x', event);
        stop = () => system.stop();
      } else {
        const strategy = createStrategyActor(machine, { id: 'x', clock, inspect });
        send = (event) => strategy.trigger(event);
        stop = () => strategy.stop();
      }
      const entry = VARIANTS.find((v) => v.def === lt112)!.entry;
      for (const event of [...managing(entry, 3), { type: 'MARGIN_CALL' }, { type: 'ORDER_SUBMITTED' }] as const)
        expect(send(event).accepted).toBe(true);
      state.armed = true;
      expect(send({ type: 'ORDER_PARTIALLY_FILLED', quantity: 1 })).toMatchObject({ accepted: false, code: 'ACTOR_FAILED' });
      const isStrategy = (e: InspectionEvent) =>
        (e.actorRef.getSnapshot() as { context?: { strategyId?: string } }).context?.strategyId === 'x';
      const sessions = [...new Set(seen.filter((e) => e.type === '@xstate.actor' && isStrategy(e)).map(sessionOf))];
      expect(sessions).toHaveLength(2); // the failed actor, and its replacement
      expect(snapshots(seen, new Set([sessions[0]])).at(-1)).toBe('EXITING:stopped');
      expect(snapshots(seen, new Set([sessions[1]])).at(-1)).toBe('EXITING:active');
      stop();
    } finally {
      spy.mockRestore();
    }
  },
);
