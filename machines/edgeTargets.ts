/**
 * Where an event can lead a strategy from a top-level state, read from the machine's state
 * nodes, so the system's trading-state gate knows which triggers place orders without a second
 * list of edges that a variant could contradict.
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import type { StrategyState } from './states.js';

const byMachine = new WeakMap<AnyStateMachine, Map<string, Map<string, readonly StrategyState[]>>>();

/**
 * The top-level states the transitions for `eventType` of `state` and of its substates can
 * reach, whatever their guards (a move between its own substates reaches nothing new). The root's
 * events (EMERGENCY_EXIT, MANUAL_OVERRIDE, SYSTEM_ERROR) are not included: they apply in every state.
 *
 * @example
 * ```ts
 * edgeTargetsOf(createStrategyMachine(lt112), 'MANAGING', 'VIX_SPIKE'); // ['ADJUSTING', 'PENDING_EXIT']
 * ```
 */
export function edgeTargetsOf(machine: AnyStateMachine, state: StrategyState, eventType: string): readonly StrategyState[] {
  let byState = byMachine.get(machine);
  if (!byState) byMachine.set(machine, (byState = new Map<string, Map<string, readonly StrategyState[]>>()));
  let byEvent = byState.get(state);
  if (!byEvent) byState.set(state, (byEvent = new Map<string, readonly StrategyState[]>()));
  let targets = byEvent.get(eventType);
  if (!targets) {
    const found = new Set<StrategyState>();
    const visit = (node: AnyStateNode, inside: boolean): void => {
      for (const transition of node.transitions.get(eventType) ?? []) {
        for (const target of (transition.target ?? []) as readonly AnyStateNode[]) {
          const top = target.path[0] as StrategyState;
          // A move between substates stays in the state: it reaches nothing new.
          if (!(inside && top === state)) found.add(top);
        }
      }
      for (const child of Object.values(node.states) as AnyStateNode[]) visit(child, true);
    };
    const top = (machine.root.states as Record<string, AnyStateNode | undefined>)[state];
    if (top) visit(top, false);
    targets = Object.freeze([...found]);
    byEvent.set(eventType, targets);
  }
  return targets;
}
