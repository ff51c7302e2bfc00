/**
 * The machine is plain XState: written out with named guards, actions and delays that
 * `machine.provide()` replaces, tags instead of state lists, no catch-all (so `snapshot.can`
 * tells the truth), and few transitions.
 */
import { assign, createActor, type AnyStateNode } from 'xstate';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { lt112 } from '../../machines/variants';
import { FRIDAY_11AM, NEAR_EXPIRY, VARIANTS, drive, start } from '../support/fixtures';

/** Every transition of a machine: each candidate of each event of each state node, delays included. */
function countTransitions(node: AnyStateNode): number {
  let n = 0;
  for (const list of node.transitions.values()) n += list.length;
  for (const child of Object.values(node.states) as AnyStateNode[]) n += countTransitions(child);
  return n;
}

const entry = VARIANTS[1].entry;
const at = FRIDAY_11AM;

test('lt112 has fewer than 100 transitions in all (364 when compiled from the edge table)', () => {
  expect(countTransitions(createStrategyMachine(lt112).root)).toBeLessThan(100);
});

test('no catch-all: snapshot.can(event) is true only for events the state takes', () => {
  const machine = createStrategyMachine(lt112);
  const actor = createActor(machine, { input: { createdAt: at } }).start();
  const snapshot = actor.getSnapshot();
  expect(snapshot.can({ type: 'MARKET_OPEN', at })).toBe(true);
  expect(snapshot.can({ type: 'ORDER_FILLED', quantity: 1, at })).toBe(false);
  expect(snapshot.can({ type: 'EMERGENCY_EXIT', at })).toBe(false);
  for (const node of Object.values(machine.root.states) as AnyStateNode[]) expect(node.transitions.has('*')).toBe(false);
  actor.stop();
});

test.each(['applyEntryFill', 'recordTransition', 'enterError', 'armStuckDeadline'])('machine.provide() replaces the %s action', (name) => {
  const calls: string[] = [];
  const machine = createStrategyMachine(lt112).provide({ actions: { [name]: assign(() => (calls.push(name), {})) } });
  const actor = createActor(machine, { input: { createdAt: at } }).start();
  for (const event of [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START' },
    entry,
    { type: 'ORDER_SUBMITTED' },
    { type: 'ORDER_FILLED', quantity: 1, expiry: NEAR_EXPIRY },
    { type: 'SYSTEM_ERROR' },
  ]) {
    actor.send({ ...event, at } as never);
  }
  expect(calls).toContain(name);
  actor.stop();
});

test('machine.provide() replaces a guard and a delay', () => {
  const machine = createStrategyMachine(lt112).provide({ guards: { hasOpenPosition: () => true }, delays: { errorRecovery: 1000 } });
  const actor = createActor(machine, { input: { createdAt: at } }).start();
  actor.send({ type: 'MARKET_OPEN', at });
  expect(actor.getSnapshot().can({ type: 'EMERGENCY_EXIT', at })).toBe(false); // READY forbids it
  actor.send({ type: 'SYSTEM_ERROR', at });
  // The provided guard says a position is held: RESET goes to MANAGING.
  actor.send({ type: 'RESET', at });
  expect(actor.getSnapshot().value).toBe('MANAGING');
  actor.stop();
});

test('states carry tags: holdsPosition, flat, stuck', () => {
  const { strategy } = start(lt112);
  drive(strategy, [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }, entry, { type: 'ORDER_SUBMITTED' }]);
  const snapshot = strategy.getSnapshot();
  expect(snapshot.hasTag('stuck')).toBe(true);
  expect(snapshot.hasTag('holdsPosition')).toBe(true);
  drive(strategy, [{ type: 'ORDER_FILLED', quantity: 1, expiry: NEAR_EXPIRY }]);
  expect(strategy.getSnapshot().hasTag('flat')).toBe(false);
});

test('strategy.can() and explain() answer without triggering or auditing', () => {
  const { strategy } = start(lt112);
  expect(strategy.can({ type: 'MARKET_OPEN' })).toBe(true);
  expect(strategy.can({ type: 'ORDER_FILLED', quantity: 1 })).toBe(false);
  expect(strategy.explain({ type: 'ORDER_FILLED', quantity: 1 })).toEqual({
    code: 'NO_EDGE',
    reason: 'INITIALIZING has no edge for ORDER_FILLED',
  });
  drive(strategy, [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }]);
  expect(strategy.explain({ type: 'ENTRY_CONDITIONS_MET', vix: 80, expiry: '2027-03-29' })).toMatchObject({
    code: 'GUARD_FAILED',
    reason: expect.stringContaining('isVixInRange'),
  });
  expect(strategy.getAuditTrail()).toHaveLength(2);
  expect(strategy.state).toBe('ANALYZING');
});

test('a stopped strategy: can() is false and explain() says ACTOR_STOPPED, as trigger() answers', () => {
  const { strategy } = start(lt112);
  drive(strategy, [{ type: 'MARKET_OPEN' }]);
  strategy.stop();
  expect(strategy.can({ type: 'TIME_WINDOW_START' })).toBe(false);
  expect(strategy.explain({ type: 'TIME_WINDOW_START' })).toMatchObject({ code: 'ACTOR_STOPPED' });
  expect(strategy.trigger({ type: 'TIME_WINDOW_START' })).toMatchObject({ accepted: false, code: 'ACTOR_STOPPED' });
});

test('createActor(machine) needs no options: the input is optional', () => {
  const actor = createActor(createStrategyMachine(lt112)).start();
  expect(actor.getSnapshot().value).toBe('INITIALIZING');
  actor.stop();
});
