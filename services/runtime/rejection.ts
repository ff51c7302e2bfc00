/**
 * Why a strategy machine refuses an event, read from the machine itself through XState's public
 * API: `snapshot.can(event)` says whether it is refused; the active state nodes' transitions say
 * whether any edge exists (NO_EDGE) or every edge's guard failed (GUARD_FAILED, with the guards'
 * own reasons). The runtime records the refusal; the machine has no catch-all.
 */
import type { AnyStateNode, AnyTransitionDefinition } from 'xstate';
import { payloadOf, sharedTexts } from '../../actions/audit.js';
import { explainOverride } from '../../guards/position.js';
import {
  definitionOf,
  guardChecks,
  isBuiltInGuard,
  type StrategyMachine,
  type StrategySnapshot,
} from '../../machines/createStrategyMachine.js';
import { describeThrown, type RejectionCode } from '../../machines/errors.js';
import type { MachineEvent } from '../../machines/events.js';
import { topLevelState, type StrategyState } from '../../machines/states.js';
import type { GuardCheck } from '../../guards/types.js';

/** A refusal: its code and the reason the audit keeps. */
export interface Refusal {
  code: RejectionCode;
  reason: string;
}

/** The active state nodes of a snapshot, innermost first, up to the root. */
export function activeNodes(machine: StrategyMachine, snapshot: StrategySnapshot): AnyStateNode[] {
  const path: AnyStateNode[] = [machine.root];
  let value: unknown = snapshot.value;
  let node: AnyStateNode = machine.root;
  while (value !== undefined) {
    const key: string = typeof value === 'string' ? value : Object.keys(value as object)[0];
    node = node.states[key];
    if (!node) break;
    path.push(node);
    value = typeof value === 'string' ? undefined : (value as Record<string, unknown>)[key];
  }
  return path.reverse();
}

/** A forbidden transition (`{}`): no target, no action. It refuses the event and stops it bubbling. */
const isForbidden = (t: AnyTransitionDefinition) => (t.target === undefined || t.target.length === 0) && t.actions.length === 0;

const checksByMachine = new WeakMap<object, Record<string, GuardCheck<never>>>();

function guardNames(guard: unknown, entryNames: string[]): string[] {
  if (typeof guard === 'string') return guard === 'areEntryConditionsMet' ? entryNames : [guard];
  if (typeof guard === 'function') return ((guard as { guards?: unknown[] }).guards ?? []).flatMap((g) => guardNames(g, entryNames));
  if (guard && typeof guard === 'object' && typeof (guard as { type?: unknown }).type === 'string')
    return guardNames((guard as { type: string }).type, entryNames);
  return [];
}

/** Per machine: state value -> event type -> whether no active node has any edge (guarded or not) for it. */
const noEdgeByMachine = new WeakMap<object, Map<string, Map<string, boolean>>>();

/**
 * Whether no edge of `snapshot`'s active states takes an event of `type` whatever the guards say,
 * so it is refused as NO_EDGE without asking XState. A pure fact about the chart, memoised per
 * machine and plain (top-level) state value; false when in doubt (a nested state value).
 */
export function hasNoEdge(machine: StrategyMachine, snapshot: StrategySnapshot, type: string): boolean {
  const value = snapshot.value;
  if (typeof value !== 'string') return false;
  let byState = noEdgeByMachine.get(machine);
  if (!byState) noEdgeByMachine.set(machine, (byState = new Map<string, Map<string, boolean>>()));
  // Two lookups, no key string built per event.
  let memo = byState.get(value);
  if (!memo) byState.set(value, (memo = new Map<string, boolean>()));
  let none = memo.get(type);
  if (none === undefined) {
    none = true;
    for (const node of activeNodes(machine, snapshot)) {
      const own = node.transitions.get(type) ?? [];
      if (own.some((t) => !isForbidden(t))) none = false;
      if (!none || own.some(isForbidden)) break;
    }
    memo.set(type, none);
  }
  return none;
}

/** `READY has no edge for ORDER_FILLED`: made once per state and event type (see `sharedTexts`). */
const noEdgeReason = sharedTexts(4096, (state, type) => `${state} has no edge for ${type}`);

/**
 * The NO_EDGE refusal of `type` in `state`. Its reason string is shared by every record that gives
 * it: a fifth of a typical stream is refused this way, and the trail keeps each record's reason.
 */
export function noEdgeRefusal(state: string, type: string): Refusal {
  return { code: 'NO_EDGE', reason: noEdgeReason(state, type) };
}

/**
 * Null when `snapshot` takes `event`; otherwise why not. The reason names the state and the
 * event: `READY has no edge for ORDER_FILLED`, `DEFENSIVE_EXIT_DTE rejected in MANAGING:
 * isDteAtOrBelowDefensive: DTE 42 is above the defensive DTE 21`. `refused`: the caller knows the
 * snapshot refuses it (a send took no transition), so XState's transition selection is not run again.
 */
export function refusalOf(machine: StrategyMachine, snapshot: StrategySnapshot, event: MachineEvent, refused = false): Refusal | null {
  // `refused`: the caller sent the event and `snapshot` took no transition, so `can` would say false again.
  if (!refused) {
    try {
      if (snapshot.can(event)) return null;
    } catch (error) {
      // A guard given through machine.provide() threw: trigger() would refuse the event so (ACTOR_FAILED).
      return actorFailedRefusal(event.type, topLevelState(snapshot.value), error);
    }
  }
  const state = topLevelState(snapshot.value);
  const candidates: AnyTransitionDefinition[] = [];
  for (const node of activeNodes(machine, snapshot)) {
    const own = node.transitions.get(event.type) ?? [];
    const forbidden = own.some(isForbidden);
    candidates.push(...own.filter((t) => !isForbidden(t)));
    if (forbidden) break;
  }
  if (candidates.length === 0) return noEdgeRefusal(state, event.type);
  if (event.type === 'MANUAL_OVERRIDE')
    return { code: 'GUARD_FAILED', reason: explainOverride(snapshot.context, event.target, event.from) ?? 'override refused' };
  const def = definitionOf(machine);
  let checks = checksByMachine.get(machine);
  if (!checks) checksByMachine.set(machine, (checks = def ? guardChecks(def) : {}));
  const entryNames = def?.entryGuards.map((g) => g.name) ?? [];
  const reasons = new Set<string>();
  const implementations = (machine.implementations.guards ?? {}) as Record<string, unknown>;
  for (const candidate of candidates) {
    for (const name of guardNames(candidate.guard, entryNames)) {
      const params = (candidate.guard as { params?: unknown } | undefined)?.params;
      const own = implementations[name];
      if (typeof own === 'function' && !isBuiltInGuard(own)) {
        // Replaced with machine.provide(): its own verdict says whether it failed; it gives no reason.
        const failed = providedGuardFailure(own as ProvidedGuard, snapshot.context, event, params);
        if (failed) reasons.add(`${name}: ${failed}`);
        continue;
      }
      // The params the config names for this guard: the check declares their shape.
      const why = checks[name]?.(snapshot.context, event, params as never);
      if (why) reasons.add(`${name}: ${why}`);
    }
  }
  return { code: 'GUARD_FAILED', reason: `${event.type} rejected in ${state}: ${[...reasons].join('; ') || 'guard failed'}` };
}

/**
 * The refusal of an event on which an action or guard given through `machine.provide()` threw
 * (XState failed the actor; the runtime restores it from the committed snapshot). XState wraps a
 * guard's throw: the message is the cause's.
 */
export function actorFailedRefusal(eventType: string, state: StrategyState, error: unknown): Refusal {
  const thrown = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return {
    code: 'ACTOR_FAILED',
    reason: `an action or guard threw on ${eventType} in ${state}: ${message}; the strategy is back on its last committed state`,
  };
}

/** The internal event that audits a refusal of `event` without moving. */
export function rejectionEvent(event: MachineEvent, refusal: Refusal, at: number): MachineEvent {
  const rejected: MachineEvent = {
    type: 'lifecycle.rejected',
    trigger: event.type,
    reason: refusal.reason,
    code: refusal.code,
    data: payloadOf(event),
    at,
  };
  if (event.eventId !== undefined) rejected.eventId = event.eventId;
  return rejected;
}

/** A guard given to `machine.provide()`, as XState calls it. */
type ProvidedGuard = (args: { context: unknown; event: unknown }, params: unknown) => unknown;

/** Why a provided guard refuses `event`, or null when it passes. */
function providedGuardFailure(guard: ProvidedGuard, context: unknown, event: MachineEvent, params: unknown): string | null {
  try {
    return guard({ context, event }, params) ? null : 'the guard given to machine.provide() returned false';
  } catch (error) {
    return `the guard given to machine.provide() threw: ${describeThrown(error)}`;
  }
}
