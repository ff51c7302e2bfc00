/**
 * `machine.provide()` on a strategy machine refuses at compile time (`@ts-expect-error` below: the
 * names of actions, actors and delays are typed) and at run time what XState would silently keep unused: a
 * misspelt name (the default would stay in place: no position monitor, no alert), an unknown
 * group, a value that cannot run. The error names the option and lists the names the machine has.
 */
import { createActor, fromCallback } from 'xstate';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { InvalidOptionsError } from '../../machines/errors';
import { lt112, zeroDte } from '../../machines/variants';

const refusal = (fn: () => unknown): InvalidOptionsError => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionsError);
    return error as InvalidOptionsError;
  }
  throw new Error('provide() accepted it');
};

describe('machine.provide() on a strategy machine', () => {
  const machine = createStrategyMachine(lt112);

  test('a misspelt action is refused, naming it and the actions the machine has', () => {
    // @ts-expect-error a misspelt action does not compile
    const error = refusal(() => machine.provide({ actions: { applyEntyFill: () => undefined } }));
    expect(error.component).toBe('machine.provide');
    expect(error.option).toBe('actions.applyEntyFill');
    expect(error.message).toContain('is not an action of the lt112 machine');
    expect(error.message).toContain('applyEntryFill');
  });

  test('a misspelt actor, guard or delay is refused too', () => {
    const monitor = fromCallback(() => undefined);
    // @ts-expect-error a misspelt actor does not compile
    expect(refusal(() => machine.provide({ actors: { positionMonitr: monitor } })).option).toBe('actors.positionMonitr');
    expect(refusal(() => machine.provide({ guards: { isVixInRang: () => true } })).option).toBe('guards.isVixInRang');
    // @ts-expect-error a misspelt delay does not compile
    expect(refusal(() => machine.provide({ delays: { errorRecover: 1000 } })).option).toBe('delays.errorRecover');
  });

  test('a variant guard is known only on its own variant', () => {
    const own = Object.keys(createStrategyMachine(zeroDte).implementations.guards).find((g) => !(g in machine.implementations.guards));
    expect(own).toBeDefined();
    expect(refusal(() => machine.provide({ guards: { [own!]: () => true } })).option).toBe(`guards.${own}`);
    expect(() => createStrategyMachine(zeroDte).provide({ guards: { [own!]: () => true } })).not.toThrow();
  });

  test('an unknown group and values that cannot run are refused', () => {
    // @ts-expect-error an unknown group does not compile
    expect(refusal(() => machine.provide({ action: { applyEntryFill: () => undefined } })).option).toBe('action');
    // @ts-expect-error an action must be a function
    expect(refusal(() => machine.provide({ actions: { applyEntryFill: 'applyExitFill' } })).option).toBe('actions.applyEntryFill');
    // @ts-expect-error an actor must be actor logic
    expect(refusal(() => machine.provide({ actors: { positionMonitor: () => undefined } })).message).toContain('actor logic');
    expect(refusal(() => machine.provide({ delays: { errorRecovery: -1 } })).option).toBe('delays.errorRecovery');
    // Infinity would never fire on XState's simulated clock and at once on Node's timers; NaN neither.
    expect(refusal(() => machine.provide({ delays: { errorRecovery: Infinity } })).message).toContain('got Infinity');
    expect(refusal(() => machine.provide({ delays: { stuckEntering: NaN } })).message).toContain('got NaN');
    // @ts-expect-error implementations must be an object
    expect(refusal(() => machine.provide(null)).option).toBe('implementations');
  });

  test('what it accepts runs, and the machine it returns checks its own provide()', () => {
    const started: string[] = [];
    const provided = machine.provide({
      actors: { positionMonitor: fromCallback(() => void started.push('monitor')) },
      delays: { errorRecovery: 60_000 },
    });
    // @ts-expect-error the returned machine is typed the same
    expect(refusal(() => provided.provide({ actions: { nope: () => undefined } })).option).toBe('actions.nope');
    const actor = createActor(provided.provide({ guards: { isVixInRange: () => true } })).start();
    expect(actor.getSnapshot().value).toBe('INITIALIZING');
    actor.stop();
    // The original machine is unchanged by what was provided to it.
    expect(machine.implementations.delays.errorRecovery).not.toBe(60_000);
  });
});
