/**
 * A strategy handle costs its state, not a closure per method: every strategy shares the same
 * method functions (from the prototype), and its only own function is `trigger`, bound (as
 * XState binds `send`) so it works passed around on its own,
 * before and after triggers, a rolled-back write and a hook failure (both replace the actor).
 */
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { runPipeline } from '../../services/runtime/pipeline';
import { createStrategyActor, type StrategyHandle } from '../../services/runtime/strategyActor';
import { FRIDAY_11AM } from '../support/fixtures';

const METHODS = [
  'can',
  'explain',
  'getSnapshot',
  'getAuditTrail',
  'subscribe',
  'getPersistedSnapshot',
  'stop',
  'prepare',
  'begin',
  'commit',
  'rollback',
] as const;

const ownFunctions = (handle: object) =>
  Object.getOwnPropertyNames(handle).filter((key) => typeof Object.getOwnPropertyDescriptor(handle, key)?.value === 'function');

test('two strategies share every method, and a handle holds no function of its own', () => {
  const machine = createStrategyMachine(lt112);
  const clock = createSimulatedClock(FRIDAY_11AM);
  const a = createStrategyActor(machine, { id: 'a', clock }) as StrategyHandle;
  const b = createStrategyActor(machine, { id: 'b', clock }) as StrategyHandle;
  for (const method of METHODS) {
    const shared: unknown = Reflect.get(a, method);
    expect(typeof shared).toBe('function');
    expect(shared).toBe(Reflect.get(b, method));
  }
  expect(ownFunctions(a)).toEqual(['trigger']);
  expect(a.actorRef).not.toBe(b.actorRef);
  expect(a.trigger({ type: 'MARKET_OPEN' })).toMatchObject({ accepted: true, from: 'INITIALIZING', to: 'READY' });
  expect(b.state).toBe('INITIALIZING');
  // trigger on its own, as a callback: still b's.
  const { trigger } = b;
  expect([{ type: 'MARKET_OPEN' } as const].map(trigger)).toMatchObject([{ accepted: true, to: 'READY' }]);
  expect(b.state).toBe('READY');
  a.stop();
  b.stop();
});

test('a rolled-back write and a failing hook replace the actor and leave the handle as it was', () => {
  const machine = createStrategyMachine(lt112);
  const clock = createSimulatedClock(FRIDAY_11AM);
  const failing = createStrategyActor(machine, {
    id: 'hooked',
    clock,
    hooks: {
      onEnter: {
        READY: () => {
          throw new Error('no');
        },
      },
    },
  }) as StrategyHandle;
  const first = failing.actorRef;
  expect(failing.trigger({ type: 'MARKET_OPEN' })).toMatchObject({ accepted: false, from: 'INITIALIZING', to: 'INITIALIZING' });
  expect(failing.actorRef).not.toBe(first);
  expect(ownFunctions(failing)).toEqual(['trigger']);

  const s = createStrategyActor(machine, { id: 'written', clock }) as StrategyHandle;
  const before = s.actorRef;
  expect(() =>
    runPipeline(s, s.prepare({ type: 'MARKET_OPEN' }, undefined), () => {
      throw new Error('store down');
    }),
  ).toThrow('store down');
  expect(s.actorRef).not.toBe(before);
  expect(s.state).toBe('INITIALIZING');
  expect(s.getAuditTrail()).toHaveLength(0);
  expect(ownFunctions(s)).toEqual(['trigger']);
  expect(s.trigger({ type: 'MARKET_OPEN' })).toMatchObject({ accepted: true, to: 'READY' });
  expect(s.getAuditTrail().map((r) => r.trigger)).toEqual(['MARKET_OPEN']);
  failing.stop();
  s.stop();
});
