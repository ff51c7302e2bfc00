import { createActor, type AnyActorScope } from 'xstate';
import type { StrategyMachine, StrategySnapshot } from '../machines/createStrategyMachine.js';
import type { MachineEvent } from '../machines/events.js';

/**
 * One inert actor scope per machine. XState's `getNextSnapshot` builds a throw-away actor (with a
 * whole initial snapshot, deadline actor included) on every call; a strategy machine's ordinary
 * transitions spawn nothing with a `systemId`, so one inert scope per machine is safe to reuse.
 * A pure memo keyed by the machine: it holds nothing of any strategy between calls.
 */
const scopes = new WeakMap<StrategyMachine, AnyActorScope>();

function inertScope(machine: StrategyMachine): AnyActorScope {
  let scope = scopes.get(machine);
  if (!scope) {
    const self = createActor(machine, { input: {} });
    const noop = () => undefined;
    scope = { self, defer: noop, id: '', logger: noop, sessionId: '', stopChild: noop, system: self.system, emit: noop, actionExecutor: noop } as unknown as AnyActorScope;
    scopes.set(machine, scope);
  }
  return scope;
}

/**
 * The snapshot `event` leads to from `snapshot`, computed purely: no action runs, nothing is
 * sent or started. What `getNextSnapshot` does, without building an actor per call.
 */
export function nextSnapshot(machine: StrategyMachine, snapshot: StrategySnapshot, event: MachineEvent): StrategySnapshot {
  const scope = inertScope(machine);
  (scope.self as unknown as { _snapshot: unknown })._snapshot = snapshot;
  return machine.transition(snapshot, event, scope) as StrategySnapshot;
}
