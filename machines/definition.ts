import type { AnyActorLogic } from 'xstate';
import type { EntryGuard } from '../guards/types.js';
import { ACTOR_NAMES, type StrategyActorName } from './actors.js';
import type { EdgeEventType, EdgeRow } from './edges.js';
import { InvalidDefinitionError, describeThrown } from './errors.js';
import { DEFAULT_PARAMS, type ParamsSchema } from './params.js';
import { STRATEGY_EVENT_TYPES } from './events.js';
import { STUCK_STATES, isStrategyState, type StrategyState, type StuckState } from './states.js';
import { shownValue } from './shown.js';
import { hasStateTag } from './tags.js';
import type { StrategyContext, TransitionRecord } from './types.js';

/** What a hook is told: the transition about to happen and the context it starts from. */
export interface HookArgs {
  strategyId: string;
  /** The audit record the transition will write if every hook succeeds. */
  record: TransitionRecord;
  context: StrategyContext;
}

/**
 * A user hook. It runs before the transition commits; if it throws, the transition is aborted,
 * the failure is audited and counts one error (at `maxErrors` the strategy is forced into ERROR).
 * Hooks are synchronous: one that returns a promise fails the same way (it could never abort the
 * transition, and could hang it).
 */
export type StrategyHook = (args: HookArgs) => void;

/** User hooks, as in the seed's callback pattern. Order: onExit(from), onTransition, onEnter(to). */
export interface StrategyHooks {
  onEnter?: Partial<Record<StrategyState, StrategyHook>>;
  onExit?: Partial<Record<StrategyState, StrategyHook>>;
  onTransition?: StrategyHook;
}

/**
 * Why `hooks` cannot run as {@link StrategyHooks}, or null: `field` is the key path at fault
 * (`hooks.onEnter.READY`). A hook that is no function would fail every transition it belongs to
 * (counted as a failed hook, until the strategy is forced into ERROR); a state name that is no
 * lifecycle state (`onEnter.MANGING`) would never run. A getter or Proxy that throws is refused
 * as unreadable.
 *
 * @example
 * ```ts
 * hooksProblem({ onEnter: { READY: 5 } }); // { field: 'hooks.onEnter.READY', problem: 'must be a function, got 5' }
 * ```
 */
export function hooksProblem(hooks: unknown): { field: string; problem: string } | null {
  if (hooks === undefined) return null;
  try {
    if (typeof hooks !== 'object' || hooks === null || Array.isArray(hooks))
      return { field: 'hooks', problem: `must be an object of onEnter, onExit and onTransition, got ${shownValue(hooks)}` };
    const h = hooks as Record<string, unknown>;
    for (const key of Object.keys(h)) {
      if (key !== 'onEnter' && key !== 'onExit' && key !== 'onTransition')
        return { field: `hooks.${key.slice(0, 64)}`, problem: 'is not a hook (onEnter, onExit, onTransition)' };
    }
    if (h.onTransition !== undefined && typeof h.onTransition !== 'function')
      return { field: 'hooks.onTransition', problem: `must be a function, got ${shownValue(h.onTransition)}` };
    for (const kind of ['onEnter', 'onExit'] as const) {
      const byState = h[kind];
      if (byState === undefined) continue;
      if (typeof byState !== 'object' || byState === null || Array.isArray(byState))
        return { field: `hooks.${kind}`, problem: `must be an object of hooks by lifecycle state, got ${shownValue(byState)}` };
      for (const [state, hook] of Object.entries(byState as Record<string, unknown>)) {
        if (!isStrategyState(state)) return { field: `hooks.${kind}.${state.slice(0, 64)}`, problem: 'is not a lifecycle state' };
        if (hook !== undefined && typeof hook !== 'function')
          return { field: `hooks.${kind}.${state}`, problem: `must be a function, got ${shownValue(hook)}` };
      }
    }
    return null;
  } catch (error) {
    const why: unknown = describeThrown(error);
    return { field: 'hooks', problem: `could not be read: ${typeof why === 'string' ? why.slice(0, 120) : 'unreadable'}` };
  }
}

/** An edge inside a substate region, e.g. `ROLLING --ORDER_SUBMITTED--> AWAITING_FILL`. */
export interface SubstateEdge {
  from: string;
  on: readonly EdgeEventType[];
  to: string;
  why: string;
}

/** Substates a variant nests inside one top-level state. */
export interface SubstateDefinition {
  initial: string;
  states: readonly string[];
  edges: readonly SubstateEdge[];
}

/** Durable stuck-state deadlines, ms per state. */
export type StuckDeadlines = Record<StuckState, number>;

/**
 * A strategy variant: its name and its overrides of the shared lifecycle.
 *
 * @example
 * ```ts
 * const weekly: StrategyDefinition = { ...strangle, id: 'weeklyStrangle', name: 'Weekly strangle',
 *   entryGuards: [isDteInBand({ min: 5, max: 9 })] };
 * ```
 */
export interface StrategyDefinition {
  /** Machine id and variant name, e.g. `lt112`. */
  id: string;
  /** Human name, e.g. `LT112 long-dated put structure`. */
  name: string;
  description?: string;
  /** Entry rules checked on ANALYZING --ENTRY_CONDITIONS_MET--> PENDING_ENTRY. All must pass. */
  entryGuards?: readonly EntryGuard[];
  /** The DTE of the defensive exit (default 21); `null` turns the rule off. */
  defensiveDte?: number | null;
  /** Errors (failed hooks) that force ERROR; default 3. */
  maxErrors?: number;
  /** Delay before ERROR recovers by itself; default 30 minutes. */
  errorRecoveryMs?: number;
  /** Auto-recoveries per New York trading day before the circuit breaker holds ERROR; default 3. */
  maxAutoRecoveries?: number;
  /** Stuck-state deadlines; defaults 5 min (PENDING_ENTRY, ENTERING) and 10 min (exits). */
  stuckDeadlinesMs?: Partial<StuckDeadlines>;
  /** Whether risk events lead to ADJUSTING (true) or straight to PENDING_EXIT (false, default). */
  canAdjust?: boolean;
  /** Edges this variant adds; they are tried before the base edges of the same state and event. */
  extraEdges?: readonly EdgeRow[];
  /** Substates nested inside top-level states. */
  substates?: Partial<Record<StrategyState, SubstateDefinition>>;
  hooks?: StrategyHooks;
  /**
   * Implementations of the invoked actors (`positionMonitor`, `entryAnalyzer`, `errorAlert`; see
   * machines/actors.ts), as `machine.provide({ actors })` would give them: the way to give them to
   * a persistent system, which builds its machines from definitions.
   */
  actors?: Partial<Record<StrategyActorName, AnyActorLogic>>;
  /** How many applied event ids are remembered for duplicate detection; default 1000. */
  eventIdWindow?: number;
  /** Portfolio correlation group, e.g. `us-equity-index`. */
  correlationGroup?: string;
  /**
   * The parameters a strategy of this variant accepts (`system.add` refuses others with an
   * `InvalidParamsError`); default `DEFAULT_PARAMS` (`underlying`, `quantity`).
   */
  params?: ParamsSchema;
}

/** A definition with every default filled in and every setting checked. */
export interface ResolvedDefinition extends Required<Omit<StrategyDefinition, 'description' | 'correlationGroup' | 'stuckDeadlinesMs'>> {
  description: string;
  correlationGroup: string | undefined;
  stuckDeadlinesMs: StuckDeadlines;
}

const MINUTE = 60_000;

/** Default stuck-state deadlines from the spec. */
export const DEFAULT_STUCK_DEADLINES_MS: StuckDeadlines = {
  PENDING_ENTRY: 5 * MINUTE,
  ENTERING: 5 * MINUTE,
  PENDING_EXIT: 10 * MINUTE,
  EXITING: 10 * MINUTE,
  PARTIAL_EXIT: 10 * MINUTE,
};

/** Guard names the lifecycle itself defines; an entry guard may not reuse one. */
export const BASE_GUARD_NAMES: readonly string[] = [
  'hasOpenPosition',
  'isFlat',
  'isExitFillComplete',
  'isExitFillPartial',
  'isRecoveryArmed',
  'isOverrideTargetLegal',
  'canAdjust',
  'isDteAtOrBelowDefensive',
  'isErrorLimitReached',
  'areEntryConditionsMet',
];

/** Events whose edges the lifecycle fixes: a variant's edge for one would take it over. */
const RESERVED_EVENTS: Readonly<Record<string, string>> = {
  MANUAL_OVERRIDE: 'an operator may move any state to any legal one',
  SYSTEM_ERROR: 'every state goes to ERROR',
  EMERGENCY_EXIT: 'every state that holds a position can be flattened',
  'lifecycle.hookFailed': 'a failed hook is recorded by the lifecycle',
  'lifecycle.rejected': 'rejections are recorded by the lifecycle',
};

/** Fill events: they change the position, so an edge taking one must apply it. */
const FILL_EVENTS: readonly string[] = ['ORDER_FILLED', 'ORDER_PARTIALLY_FILLED'];

/** Why an edge may not take `type` (unknown or reserved), or null. */
function eventProblem(type: string): string | null {
  if (!(STRATEGY_EVENT_TYPES as readonly string[]).includes(type)) return `"${type}" is not an event type`;
  const why = RESERVED_EVENTS[type];
  return why ? `${type} edges are fixed by the lifecycle (${why}) and cannot be extended` : null;
}

/**
 * Why an extra edge from `from` would break the position rules, or null: leaving a terminal
 * state, a fill that is not applied, reaching a state that cannot hold a position from one
 * that may, unguarded by `isFlat` or `isExitFillComplete`, or reaching a state that needs a
 * position (POSITION_OPEN, MANAGING, ..., PARTIAL_EXIT) from one that may be flat, unguarded by
 * `hasOpenPosition` (or `isExitFillPartial`) and not applying an entry fill.
 */
function positionProblem(from: StrategyState, row: EdgeRow, guards: readonly string[]): string | null {
  if (hasStateTag(from, 'terminal')) return `${from} is terminal: no edge leaves it`;
  if (row.on.some((e) => FILL_EVENTS.includes(e)) && !(row.actions ?? []).length)
    return `a fill changes the position: the edge must apply it (actions: applyEntryFill, applyExitFill or applyAdjustmentFill)`;
  const to = row.to;
  if (
    to !== null &&
    hasStateTag(from, 'holdsPosition') &&
    !hasStateTag(to, 'holdsPosition') &&
    !guards.some((g) => g === 'isFlat' || g === 'isExitFillComplete')
  )
    return `${to} cannot hold a position but ${from} may: guard the edge with isFlat (or isExitFillComplete after applyExitFill)`;
  if (
    to !== null &&
    hasStateTag(from, 'flat') &&
    !hasStateTag(to, 'flat') &&
    !guards.some((g) => g === 'hasOpenPosition' || g === 'isExitFillPartial') &&
    !(row.on.every((e) => FILL_EVENTS.includes(e)) && (row.actions ?? []).includes('applyEntryFill'))
  )
    return `${to} needs a position but ${from} may be flat: guard the edge with hasOpenPosition (or take a fill with applyEntryFill)`;
  return null;
}

/** A substate's name: a plain identifier (XState reads `.` as a path and `#` as an id). */
const SUBSTATE_NAME = /^[A-Za-z][\w-]*$/;

function guardRefNames(ref: EdgeRow['guard']): string[] {
  if (ref === undefined) return [];
  if (typeof ref === 'string') return [ref];
  if (Array.isArray(ref)) return (ref as readonly string[]).slice();
  return [(ref as { type: string }).type];
}

/** The definition's actor implementations, each under a name the lifecycle invokes. */
function checkActors(id: string, actors: StrategyDefinition['actors']): Partial<Record<StrategyActorName, AnyActorLogic>> {
  for (const name of Object.keys(actors ?? {})) {
    if (!(ACTOR_NAMES as readonly string[]).includes(name))
      throw new InvalidDefinitionError(id, `actors.${name}`, `is not an invoked actor of the lifecycle (${ACTOR_NAMES.join(', ')})`);
  }
  return actors ?? {};
}

/** Fills defaults and checks a definition; throws {@link InvalidDefinitionError} naming the setting. */
export function resolveDefinition(def: StrategyDefinition): ResolvedDefinition {
  const id = typeof def?.id === 'string' ? def.id : '';
  const fail = (field: string, problem: string): never => {
    throw new InvalidDefinitionError(id || '(no id)', field, problem);
  };
  if (!/^[A-Za-z][\w-]*$/.test(id)) fail('id', 'must start with a letter and hold only letters, digits, _ or -');
  if (typeof def.name !== 'string' || def.name.trim() === '') fail('name', 'must be a non-empty string');
  const positiveInt = (field: string, value: number | undefined, fallback: number) => {
    const v = value ?? fallback;
    if (!Number.isInteger(v) || v < 1) fail(field, `must be a positive integer, got ${String(v)}`);
    return v;
  };
  const defensiveDte = def.defensiveDte === undefined ? 21 : def.defensiveDte;
  if (defensiveDte !== null && (!Number.isInteger(defensiveDte) || defensiveDte < 0)) {
    fail('defensiveDte', `must be a whole number of days >= 0 or null, got ${String(defensiveDte)}`);
  }
  const stuckDeadlinesMs = { ...DEFAULT_STUCK_DEADLINES_MS, ...def.stuckDeadlinesMs };
  for (const state of Object.keys(stuckDeadlinesMs)) {
    if (!(STUCK_STATES as readonly string[]).includes(state)) fail(`stuckDeadlinesMs.${state}`, 'is not a state that waits on a broker');
    positiveInt(`stuckDeadlinesMs.${state}`, stuckDeadlinesMs[state as StuckState], 1);
  }
  const entryGuards = def.entryGuards ?? [];
  const names = new Set<string>();
  for (const guard of entryGuards) {
    if (!guard || typeof guard.name !== 'string' || typeof guard.check !== 'function')
      fail('entryGuards', 'must be EntryGuard objects with a name and a check');
    if (names.has(guard.name)) fail('entryGuards', `name "${guard.name}" is used twice`);
    if (BASE_GUARD_NAMES.includes(guard.name)) fail('entryGuards', `name "${guard.name}" is a lifecycle guard: choose another name`);
    names.add(guard.name);
  }
  for (const [i, row] of (def.extraEdges ?? []).entries()) {
    for (const s of row.from) if (!isStrategyState(s)) fail(`extraEdges[${i}].from`, `"${String(s)}" is not a lifecycle state`);
    if (row.to !== null && !isStrategyState(row.to)) fail(`extraEdges[${i}].to`, `"${String(row.to)}" is not a lifecycle state`);
    const guards = guardRefNames(row.guard);
    for (const name of guards) {
      if (!BASE_GUARD_NAMES.includes(name) && !names.has(name))
        fail(`extraEdges[${i}].guard`, `"${name}" is neither a lifecycle guard nor one of this definition's entry guards`);
    }
    for (const e of row.on) {
      const problem = eventProblem(e);
      if (problem) fail(`extraEdges[${i}].on`, problem);
    }
    for (const from of row.from) {
      const problem = positionProblem(from, row, guards);
      if (problem) fail(`extraEdges[${i}]`, problem);
    }
  }
  for (const [state, sub] of Object.entries(def.substates ?? {})) {
    if (!isStrategyState(state)) fail(`substates.${state}`, 'is not a lifecycle state');
    if (!sub || !Array.isArray(sub.states) || !sub.states.includes(sub.initial))
      fail(`substates.${state}.initial`, 'must be one of its states');
    // Read as unknown: a definition may come from untyped JavaScript or JSON.
    for (const name of sub.states as readonly unknown[]) {
      if (typeof name !== 'string' || !SUBSTATE_NAME.test(name))
        fail(`substates.${state}.states`, `${JSON.stringify(name)} must start with a letter and hold only letters, digits, _ or -`);
    }
    if (new Set(sub.states).size !== sub.states.length) fail(`substates.${state}.states`, 'names a substate twice');
    for (const edge of sub.edges) {
      if (!sub.states.includes(edge.from) || !sub.states.includes(edge.to))
        fail(`substates.${state}.edges`, `${edge.from} -> ${edge.to} names a substate that does not exist`);
      for (const e of edge.on) {
        const problem =
          eventProblem(e) ??
          (FILL_EVENTS.includes(e)
            ? `a fill changes the position, which a substate edge cannot apply: leave ${e} to the state's own edges`
            : null);
        if (problem) fail(`substates.${state}.edges`, `${edge.from} -> ${edge.to}: ${problem}`);
      }
    }
  }
  const hooks = hooksProblem(def.hooks);
  if (hooks) fail(hooks.field, hooks.problem);
  for (const [key, rule] of Object.entries(def.params ?? {})) {
    if (!rule || typeof rule.check !== 'function')
      fail(`params.${key}`, 'must be a ParamRule (symbolParam(), contractsParam(), or { describe, check })');
  }
  return {
    id,
    name: def.name,
    description: def.description ?? '',
    entryGuards,
    defensiveDte,
    maxErrors: positiveInt('maxErrors', def.maxErrors, 3),
    errorRecoveryMs: positiveInt('errorRecoveryMs', def.errorRecoveryMs, 30 * MINUTE),
    maxAutoRecoveries: positiveInt('maxAutoRecoveries', def.maxAutoRecoveries, 3),
    stuckDeadlinesMs,
    canAdjust: def.canAdjust ?? false,
    extraEdges: def.extraEdges ?? [],
    substates: def.substates ?? {},
    hooks: def.hooks ?? {},
    actors: checkActors(id, def.actors),
    eventIdWindow: positiveInt('eventIdWindow', def.eventIdWindow, 1000),
    correlationGroup: def.correlationGroup,
    params: def.params ?? DEFAULT_PARAMS,
  };
}
