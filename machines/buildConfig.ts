import { and } from 'xstate';
import type { ResolvedDefinition } from './definition.js';
import { BASE_EDGES, type EdgeEventType, type EdgeRow, type GuardRef } from './edges.js';
import { STRATEGY_STATES, STUCK_STATES, type StrategyState } from './states.js';

/** Params of the `recordTransition` action: what the audit record of an edge says. */
export interface RecordParams {
  from: StrategyState;
  to: StrategyState;
  why: string;
  mode: 'transition' | 'hookFailure';
  reentered: boolean;
  /** The record's message, fixed per edge (`READY -> ANALYZING (entry window open: looking for an entry)`, or the substate path). */
  message: string;
}

/** One context update of an edge; an edge's updates are applied together in one `step` assign. */
export type EdgeOp =
  | { op: 'applyEntryFill' | 'applyExitFill' | 'applyAdjustmentFill' | 'countError' | 'countAutoRecovery' | 'clearDeadline' | 'resetErrors' }
  | { op: 'enterError'; from: StrategyState }
  | { op: 'armStuckDeadline'; state: StrategyState }
  | ({ op: 'recordTransition' } & RecordParams);

/** Params of the `rejectUnlessGuarded` action: the guards that all failed. */
export interface RejectParams {
  state: StrategyState;
  guards: GuardRef[];
}

type XAction = string | { type: string; params?: unknown };
interface XTransition {
  target?: string;
  reenter?: boolean;
  guard?: unknown;
  actions: XAction[];
}

/** Guard names a row may use, expanded: `areEntryConditionsMet` is the variant's entry guards. */
function guardNames(ref: GuardRef, def: ResolvedDefinition): string[] {
  if (typeof ref === 'string') return ref === 'areEntryConditionsMet' ? def.entryGuards.map((g) => g.name) : [ref];
  if (Array.isArray(ref)) return ref.flatMap((r) => guardNames(r, def));
  return [(ref as { type: string }).type];
}

/** The XState guard of a row (`and` of several names), or undefined for an unguarded row. */
function toXGuard(ref: GuardRef | undefined, def: ResolvedDefinition): unknown {
  if (ref === undefined) return undefined;
  if (typeof ref === 'object' && !Array.isArray(ref)) return ref;
  const names = guardNames(ref, def);
  if (names.length === 0) return undefined;
  return names.length === 1 ? names[0] : and(names);
}

function hasDeadline(state: StrategyState | null): boolean {
  return state === 'ERROR' || isStuck(state);
}

function isStuck(state: StrategyState | null): boolean {
  return state !== null && (STUCK_STATES as readonly string[]).includes(state);
}

function toTransition(row: EdgeRow, from: StrategyState, def: ResolvedDefinition): XTransition {
  const to = row.to ?? from;
  const moves = row.to !== null && (row.to !== from || row.reenter === true);
  // Leaving a state with a deadline disarms it (and leaving ERROR clears its error count); then
  // the edge's own updates, the new deadline, and the audit record: one assign for all of them.
  const ops: EdgeOp[] = [];
  if (moves && hasDeadline(from)) ops.push({ op: 'clearDeadline' });
  if (moves && from === 'ERROR') ops.push({ op: 'resetErrors' });
  for (const action of row.actions ?? []) ops.push({ op: action });
  if (moves && to === 'ERROR') ops.push({ op: 'enterError', from });
  if (moves && isStuck(to)) ops.push({ op: 'armStuckDeadline', state: to });
  ops.push({ op: 'recordTransition', from, to, why: row.why, mode: row.record ?? 'transition', reentered: moves && to === from, message: `${from} -> ${to} (${row.why})` });
  const actions: XAction[] = [{ type: 'step', params: { ops } }];
  // Tell the strategy's deadline actor whenever the deadline may have changed.
  if (moves && (hasDeadline(from) || hasDeadline(to))) actions.push('syncDeadline');
  actions.push('emitRecord');
  const transition: XTransition = { actions };
  if (moves) {
    transition.target = to;
    if (to === from) transition.reenter = true;
  }
  const guard = toXGuard(row.guard, def);
  if (guard !== undefined) transition.guard = guard;
  return transition;
}

/** Groups the rows that leave `state` by event, variant rows first, then base rows, in order. */
function transitionsOf(state: StrategyState, def: ResolvedDefinition): Record<string, XTransition[]> {
  const on: Record<string, XTransition[]> = {};
  const guardsByEvent: Record<string, GuardRef[]> = {};
  for (const row of [...def.extraEdges, ...BASE_EDGES]) {
    if (!row.from.includes(state)) continue;
    for (const type of row.on) {
      (on[type] ??= []).push(toTransition(row, state, def));
      if (row.guard !== undefined) (guardsByEvent[type] ??= []).push(row.guard);
    }
  }
  for (const [type, candidates] of Object.entries(on)) {
    // When every candidate is guarded and all guards fail, the trigger is rejected with the
    // guards' own reasons instead of bubbling to the catch-all.
    if (candidates[candidates.length - 1].guard !== undefined) {
      const params: RejectParams = { state, guards: guardsByEvent[type] };
      candidates.push({ actions: [{ type: 'rejectGuarded', params }, 'emitRecord'] });
    }
  }
  on['*'] = [{ actions: [{ type: 'rejectNoEdge', params: { state } }, 'emitRecord'] }];
  return on;
}

function substatesOf(state: StrategyState, def: ResolvedDefinition): Record<string, unknown> | undefined {
  const sub = def.substates[state];
  if (!sub) return undefined;
  const states: Record<string, { on: Record<string, XTransition[]> }> = {};
  for (const name of sub.states) states[name] = { on: {} };
  for (const edge of sub.edges) {
    for (const type of edge.on as readonly EdgeEventType[]) {
      const ops: EdgeOp[] = [{ op: 'recordTransition', from: state, to: state, why: edge.why, mode: 'transition', reentered: false, message: `${state}.${edge.from} -> ${state}.${edge.to}` }];
      (states[edge.from].on[type] ??= []).push({ target: edge.to, actions: [{ type: 'step', params: { ops } }, 'emitRecord'] });
    }
  }
  return { initial: sub.initial, states };
}

/**
 * Builds the XState config of a variant from the one edge table ({@link BASE_EDGES}) plus the
 * variant's extra edges and substates. Pure data; `createStrategyMachine` gives it to `setup()`.
 */
export function buildStrategyConfig(def: ResolvedDefinition): Record<string, unknown> {
  const states: Record<string, unknown> = {};
  for (const state of STRATEGY_STATES) {
    const node: Record<string, unknown> = { on: transitionsOf(state, def) };
    if (state === 'TERMINATED') {
      // Terminal by having no way out. Not an XState final state: a final root state stops the
      // actor, and events sent to it afterwards would vanish without an audit record.
      node.tags = ['terminal'];
    }
    Object.assign(node, substatesOf(state, def));
    states[state] = node;
  }
  // One deadline actor for the strategy's whole life, told of every change of the deadline.
  const invoke = { id: 'deadline', src: 'deadlineTimer', input: ({ context }: { context: { deadline: unknown } }) => context.deadline };
  return { id: def.id, initial: 'INITIALIZING', invoke, states };
}
