import {
  and,
  assign,
  emit,
  setup,
  type AnyActorLogic,
  type AnyActorRef,
  type MachineSnapshot,
  type MetaObject,
  type ParameterizedObject,
  type StateMachine,
  type StateSchema,
  type StateValue,
} from 'xstate';
import { appendRecord, noEdgeRecord } from '../actions/audit.js';
import { armStuckDeadline, countAutoRecovery, countError, enterError, errorMessage } from '../actions/errors.js';
import { applyAdjustmentFill, applyEntryFill, applyExitFill } from '../actions/position.js';
import { isDteAtOrBelowDefensive } from '../guards/dte.js';
import { isErrorLimitReached, isRecoveryArmed } from '../guards/errors.js';
import { hasOpenPosition, isExitFillComplete, isExitFillPartial, isFlat, isOverrideTargetLegal } from '../guards/position.js';
import type { GuardCheck } from '../guards/types.js';
import { realClock } from '../services/market/clock.js';
import { resolveDefinition, type ResolvedDefinition, type StrategyDefinition } from './definition.js';
import { defaultActors, emitRequest, reportActorFailure, type RequestEmitted, type StrategyActorName } from './actors.js';
import { afterDelayOf, DELAY_NAMES, delayMsOf, dueInstant, STUCK_DELAY_OF, type DelayName } from './delays.js';
import type { GuardRef } from './edges.js';
import { describeThrown, InvalidOptionsError } from './errors.js';
import type { MachineEvent } from './events.js';
import { lifecycleConfig, record, type RecordParams } from './lifecycle.js';
import { stateOf, type StrategyState, type StuckState } from './states.js';
import type { StrategyContext, StrategyInput, TransitionRecord } from './types.js';

/**
 * What a strategy machine emits: one `transition` per audit record (accepted or rejected), and a
 * `request` for each event an invoked actor asks for (the runtime triggers it). A `transition`'s
 * `record` is undefined only when an audit action replaced through `machine.provide()` wrote none.
 */
export type StrategyEmitted = { type: 'transition'; record: TransitionRecord | undefined } | RequestEmitted;

/** The names of a strategy machine's actions, as `setup()` declares them and `machine.provide({ actions })` takes them. */
export type StrategyActionName =
  | 'applyEntryFill'
  | 'applyExitFill'
  | 'applyAdjustmentFill'
  | 'countError'
  | 'countAutoRecovery'
  | 'clearDeadline'
  | 'resetErrors'
  | 'enterError'
  | 'armStuckDeadline'
  | 'recordTransition'
  | 'recordHookFailure'
  | 'recordRejection'
  | 'recordAnnouncement'
  | 'emitRequest'
  | 'reportActorFailure';

type Named<Name extends string> = { [K in Name]: { type: K; params: ParameterizedObject['params'] } }[Name];

/** The XState machine of a strategy, as `createStrategyMachine` returns it. */
export type StrategyMachine = StateMachine<
  StrategyContext,
  MachineEvent,
  Record<string, AnyActorRef | undefined>,
  { [K in StrategyActorName]: { src: K; logic: AnyActorLogic; id: string | undefined } }[StrategyActorName],
  Named<StrategyActionName>,
  ParameterizedObject, // guards: a variant names its entry guards as it likes
  DelayName,
  StateValue,
  string,
  StrategyInput | undefined, // optional: `createActor(machine)` needs no options
  unknown,
  StrategyEmitted,
  MetaObject,
  StateSchema
>;

/** A snapshot of a strategy machine. */
export type StrategySnapshot = MachineSnapshot<
  StrategyContext,
  MachineEvent,
  Record<string, AnyActorRef | undefined>,
  StateValue,
  string,
  unknown,
  MetaObject,
  StateSchema
>;

const DEFINITION = Symbol.for('strategy-lifecycle.definition');

/**
 * The resolved definition a machine was made from (hooks, limits), or undefined for foreign
 * machines. It is kept on the machine's config, which `machine.provide()` carries over.
 */
export function definitionOf(machine: unknown): ResolvedDefinition | undefined {
  return (machine as { config?: { [DEFINITION]?: ResolvedDefinition } } | undefined)?.config?.[DEFINITION];
}

export { stateOf } from './states.js';

/** Every named guard of a variant, as checks that explain their failure. */
export function guardChecks(def: ResolvedDefinition): Record<string, GuardCheck<never>> {
  const checks: Record<string, GuardCheck<never>> = {
    hasOpenPosition,
    isFlat,
    isExitFillComplete,
    isExitFillPartial,
    isRecoveryArmed,
    isOverrideTargetLegal,
    canAdjust: () => (def.canAdjust ? null : `${def.id} does not adjust positions`),
    isDteAtOrBelowDefensive: isDteAtOrBelowDefensive(def.defensiveDte),
    isErrorLimitReached: isErrorLimitReached(def.maxErrors),
  };
  for (const guard of def.entryGuards) {
    // A user guard that throws must not kill the actor: it fails, and says why.
    checks[guard.name] = (context, event) => {
      try {
        return guard.check(context, event, undefined);
      } catch (error) {
        return `guard ${guard.name} threw: ${describeThrown(error)}`;
      }
    };
  }
  return checks;
}

/**
 * Now, on the clock of the actor running the machine (`Actor.clock`, public in XState) when it tells
 * the time (ours do; so does XState's `SimulatedClock`), else the real time.
 */
function clockNow(self: unknown): number {
  const clock = (self as { clock?: { now?: unknown } } | undefined)?.clock;
  return typeof clock?.now === 'function' ? (clock.now as () => number)() : realClock.now();
}

/** The guard implementations `createStrategyMachine` made: any other under a guard's name was given to `machine.provide()`. */
const BUILT_IN_GUARDS = new WeakSet();

/** Whether `guard` is one `createStrategyMachine` made (its failure is explained by the variant's check). */
export function isBuiltInGuard(guard: unknown): boolean {
  return typeof guard === 'function' && BUILT_IN_GUARDS.has(guard);
}

/** Per edge (its params object, the same on every run of the edge) and state left: the record's message. */
const edgeMessages = new WeakMap<RecordParams, Map<StrategyState, string>>();

/** `FROM -> TO (why)`, built once per edge and state left instead of once per record. */
function edgeMessage(params: RecordParams, from: StrategyState): string {
  let byFrom = edgeMessages.get(params);
  if (!byFrom) edgeMessages.set(params, (byFrom = new Map<StrategyState, string>()));
  let message = byFrom.get(from);
  if (message === undefined) byFrom.set(from, (message = `${from} -> ${params.to} (${params.why})`));
  return message;
}

/**
 * The XState guard of a variant edge (`and` of several names), or undefined for an unguarded one.
 * `areEntryConditionsMet` stands for all of the variant's entry guards: a variant that has some
 * implements them by their own names (as ANALYZING's entry edge names them), not that one.
 */
function toXGuard(ref: GuardRef | undefined, entryNames: readonly string[]): unknown {
  if (ref === undefined) return undefined;
  const expand = (name: string): string[] => (name === 'areEntryConditionsMet' && entryNames.length > 0 ? [...entryNames] : [name]);
  const names = typeof ref === 'string' ? expand(ref) : Array.isArray(ref) ? (ref as readonly string[]).flatMap(expand) : undefined;
  if (names === undefined) {
    const type = (ref as { type: string }).type;
    return type === 'areEntryConditionsMet' && entryNames.length > 0 ? toXGuard(type, entryNames) : ref;
  }
  return names.length === 1 ? names[0] : and(names);
}

/** A transition config as a list: none, its array's items, or the single one. */
function listOf(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as unknown[]) : [value];
}

/** The base config with the variant's extra edges (tried first) and substates. */
function configFor(def: ResolvedDefinition): Record<string, unknown> {
  const states: Record<string, Record<string, unknown>> = {};
  for (const [name, node] of Object.entries(lifecycleConfig.states)) states[name] = { ...node, on: { ...(node as { on?: object }).on } };
  // The variant's entry guards by name, so the inspector and the diagrams show them. Set on the
  // base edge before the variant's extra edges are put in front of it (they make the entry a list).
  const entryNames = def.entryGuards.map((g) => g.name);
  if (entryNames.length > 0) {
    const analyzing = states.ANALYZING.on as Record<string, { guard?: unknown }>;
    analyzing.ENTRY_CONDITIONS_MET = {
      ...analyzing.ENTRY_CONDITIONS_MET,
      guard: entryNames.length === 1 ? entryNames[0] : and(entryNames),
    };
  }
  for (const row of def.extraEdges) {
    for (const from of row.from) {
      const on = states[from].on as Record<string, unknown>;
      for (const type of row.on) {
        const to = row.to ?? from;
        const transition: Record<string, unknown> = {
          // An edge into ERROR arms its recovery deadline as SYSTEM_ERROR does (the reason: the event, in the state).
          actions: [
            ...(row.to === 'ERROR' ? ['enterError'] : []),
            ...(row.actions ?? []),
            record(to, row.why, row.to === null ? { stays: true } : {}),
          ],
        };
        if (row.to !== null) transition.target = row.to;
        if (row.reenter) transition.reenter = true;
        const guard = toXGuard(row.guard, entryNames);
        if (guard !== undefined) transition.guard = guard;
        const base = on[type];
        on[type] = [transition, ...listOf(base)];
      }
    }
  }
  for (const [state, sub] of Object.entries(def.substates)) {
    if (!sub) continue;
    const top = state as StrategyState;
    const subStates: Record<string, { on: Record<string, unknown[]> }> = {};
    for (const name of sub.states) subStates[name] = { on: {} };
    for (const edge of sub.edges) {
      for (const type of edge.on) {
        (subStates[edge.from].on[type] ??= []).push({
          target: edge.to,
          actions: record(top, edge.why, { message: `${top}.${edge.from} -> ${top}.${edge.to}`, stays: true }),
        });
      }
    }
    Object.assign(states[top], { initial: sub.initial, states: subStates });
  }
  return withAnnouncements({ ...lifecycleConfig, id: def.id, states });
}

/** The audit actions: each writes one record, which `recordAnnouncement` then emits. */
const RECORD_ACTIONS: ReadonlySet<string> = new Set(['recordTransition', 'recordHookFailure', 'recordRejection']);

/** A transition's actions with `recordAnnouncement` after each audit action. */
function announceActions(actions: unknown): unknown {
  if (actions === undefined) return actions;
  const list = Array.isArray(actions) ? actions : [actions];
  const out: unknown[] = [];
  for (const action of list) {
    out.push(action);
    const type = typeof action === 'string' ? action : (action as { type?: unknown } | null)?.type;
    if (typeof type === 'string' && RECORD_ACTIONS.has(type)) out.push('recordAnnouncement');
  }
  return out.length === list.length ? actions : out;
}

function announceTransitions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(announceTransitions);
  if (!value || typeof value !== 'object' || !('actions' in value)) return value;
  return { ...value, actions: announceActions(value.actions) };
}

/** A state node config (and its substates) whose audit actions are each followed by `recordAnnouncement`. */
function withAnnouncements(node: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...node };
  for (const key of ['on', 'after'] as const) {
    const table = node[key] as Record<string, unknown> | undefined;
    if (table) out[key] = Object.fromEntries(Object.entries(table).map(([name, t]) => [name, announceTransitions(t)]));
  }
  const states = node.states as Record<string, Record<string, unknown>> | undefined;
  if (states) out.states = Object.fromEntries(Object.entries(states).map(([name, child]) => [name, withAnnouncements(child)]));
  return out;
}

/**
 * Creates the XState v5 machine of a strategy variant: the shared lifecycle written out in
 * `machines/lifecycle.ts`, plus the variant's extra edges and substates. Every guard, action and
 * delay is named in `setup()`, so `machine.provide()` replaces any of them.
 *
 * The result is a plain XState machine: give it to `createActor` (delays then run on XState's own
 * timers, in memory), the inspector or `@xstate/graph`, or to {@link createStrategyActor} for
 * validated triggers, hooks, durable delays and the audit trail.
 *
 * @example
 * ```ts
 * const machine = createStrategyMachine(lt112);
 * const strategy = createStrategyActor(machine, { id: 'lt112-spx-1' });
 * strategy.trigger({ type: 'MARKET_OPEN' }); // { accepted: true, from: 'INITIALIZING', to: 'READY', ... }
 * ```
 * @throws {InvalidDefinitionError} when a setting of the definition is invalid.
 */
export function createStrategyMachine(definition: StrategyDefinition): StrategyMachine {
  const def = resolveDefinition(definition);
  const delayMs = (name: DelayName): number => (name === 'errorRecovery' ? def.errorRecoveryMs : def.stuckDeadlinesMs[DELAY_NAMES[name]]);
  /**
   * The delay as the running machine has it: `machine.provide({ delays })` may have replaced the
   * definition's (read from the actor's machine, `self.logic`, a public field of XState's Actor).
   */
  const runningDelayMs = (self: unknown, name: DelayName, context: StrategyContext, event: MachineEvent): number => {
    const delays = (self as { logic?: { implementations?: { delays?: Record<string, unknown> } } } | undefined)?.logic?.implementations
      ?.delays;
    const ms = delayMsOf(delays?.[name], { context, event });
    return ms !== undefined && ms >= 0 ? ms : delayMs(name);
  };
  /** XState's delayed events (one object per firing, shared by its guards and actions) with their due instant. */
  const stampedAfter = new WeakMap<MachineEvent, { enteredAt: number; stamped: MachineEvent }>();
  /**
   * The event with its time: stamped by the runtime, or, for XState's own delayed event, the
   * instant it fell due (the deadline armed on entry). Anything else unstamped (a bare XState
   * user's event, an invoked actor's bare sendBack) takes the time of the actor's clock when it
   * tells one (guards, which XState gives no actor, and clocks without `now`: the real time).
   */
  const timed = (event: MachineEvent, context: StrategyContext, self?: unknown): MachineEvent => {
    if (typeof event.at === 'number') return event;
    const delay = afterDelayOf(event.type);
    if (delay) {
      // Stamped by the firing's guards, before ERROR's exit clears the deadline its actions would
      // read. XState raises one event object per state node for every firing: the stamp is kept
      // only for the stay it was made in (the same entry, the same deadline or none left).
      const kept = stampedAfter.get(event);
      const deadline = context.deadline;
      if (kept && kept.enteredAt === context.enteredAt && (deadline === null || deadline.at === kept.stamped.at)) return kept.stamped;
      // The deadline armed on entry, resolved with the event that entered the state (as XState's own timer was).
      const due = dueInstant(context, DELAY_NAMES[delay], () => runningDelayMs(self, delay, context, event)) as number;
      const stamped = { ...event, at: due, dueAt: due } as MachineEvent;
      stampedAfter.set(event, { enteredAt: context.enteredAt, stamped });
      return stamped;
    }
    return { ...event, at: clockNow(self) };
  };
  // Guards see the event at the same time as the actions do: an unstamped event from a bare XState
  // user is judged at the real time (the entry window, DTE), not at time 0.
  const checks = guardChecks(def);
  const guards: Record<string, unknown> = {};
  for (const [name, check] of Object.entries(checks)) {
    const guard = ({ context, event }: { context: StrategyContext; event: MachineEvent }, params: unknown) =>
      // Each check declares its own params type; XState hands the edge's params through unchecked.
      check(context, timed(event, context), params as never) === null;
    BUILT_IN_GUARDS.add(guard);
    guards[name] = guard;
  }
  const entryNames = def.entryGuards.map((g) => g.name);
  // Only a variant without entry guards keeps this name in its chart (configFor names them instead).
  if (entryNames.length === 0) guards.areEntryConditionsMet = () => true;

  type Args = { context: StrategyContext; event: MachineEvent; self: unknown };
  const update = <P = undefined>(fn: (context: StrategyContext, event: MachineEvent, params: P) => Partial<StrategyContext>) =>
    assign(({ context, event, self }: Args, params: P) => fn(context, timed(event, context, self), params));
  /** The same, for the actions whose result depends on a delay of the running machine. */
  const updateTimed = <P = undefined>(
    fn: (context: StrategyContext, event: MachineEvent, params: P, delay: (name: DelayName) => number) => Partial<StrategyContext>,
  ) =>
    assign(({ context, event, self }: Args, params: P) => {
      const stamped = timed(event, context, self);
      return fn(context, stamped, params, (name) => runningDelayMs(self, name, context, stamped));
    });
  /**
   * An audit action: one `assign` that writes the record. `configFor` puts `recordAnnouncement`
   * right after it on every edge, which emits the record to the actor's listeners. (Two plain
   * actions, not `enqueueActions`: that builds an enqueue object and a nested resolution per event.)
   */
  const audited = <P>(fn: (context: StrategyContext, event: MachineEvent, params: P) => Partial<StrategyContext>) =>
    assign(({ context, event, self }: Args, params: P) => fn(context, timed(event, context, self), params));

  const actions = {
    applyEntryFill: update(applyEntryFill),
    applyExitFill: update(applyExitFill),
    applyAdjustmentFill: update(applyAdjustmentFill),
    countError: update((context, event) => countError(context, event, def.maxErrors)),
    countAutoRecovery: update(countAutoRecovery),
    clearDeadline: assign({ deadline: null }),
    resetErrors: assign({ errorCount: 0 }),
    enterError: updateTimed((context, event, _params, delay) => enterError(context, event, stateOf(context), def, delay('errorRecovery'))),
    armStuckDeadline: updateTimed((_context, event, params: { state: StuckState }, delay) =>
      armStuckDeadline(event, params.state, delay(STUCK_DELAY_OF[params.state])),
    ),
    recordTransition: audited((context, event, params: RecordParams) => {
      const from = stateOf(context);
      // Entering ERROR, or an operator putting it there again (a new reason, a new recovery time).
      const intoError = params.to === 'ERROR' && (from !== 'ERROR' || event.type === 'MANUAL_OVERRIDE');
      const message = intoError ? errorMessage(context, event, from, def) : (params.message ?? edgeMessage(params, from));
      // A transition to the state it leaves re-enters it (XState exits and enters it again).
      return appendRecord(
        context,
        event,
        { from, to: params.to, accepted: true, message, reentered: from === params.to && params.stays !== true },
        def.eventIdWindow,
      );
    }),
    recordHookFailure: audited((context, event, params: { forced?: true } | undefined) => {
      const hook = event.type === 'lifecycle.hookFailed' ? event : undefined;
      const from = stateOf(context);
      const forced = params?.forced === true;
      const to: StrategyState = forced ? 'ERROR' : from;
      const count = `error ${context.errorCount} of ${def.maxErrors}`;
      return appendRecord(
        context,
        event,
        {
          from,
          to,
          accepted: false,
          code: 'HOOK_FAILED',
          reason: hook?.after
            ? `hook ${hook.hook} threw after ${hook.trigger} (the transition stands): ${hook.message}; ${count}${forced ? ': forced into ERROR' : ''}`
            : `${hook?.trigger ?? event.type} aborted: hook ${hook?.hook} threw: ${hook?.message}; ${count}${forced ? ': forced into ERROR' : ''}`,
          message: forced
            ? errorMessage(context, event, from, def)
            : hook?.after
              ? `hook failed after ${hook.trigger} in ${from}`
              : `aborted ${hook?.trigger} in ${from}`,
          reentered: false,
        },
        def.eventIdWindow,
      );
    }),
    recordRejection: audited((context, event) => appendRecord(context, event, noEdgeRecord(stateOf(context), event), def.eventIdWindow)),
    recordAnnouncement: emit(({ context }: { context: StrategyContext }) => ({ type: 'transition' as const, record: context.lastRecord })),
  };

  const delays = Object.fromEntries((Object.keys(DELAY_NAMES) as DelayName[]).map((name) => [name, () => delayMs(name)]));

  const types = {
    context: {} as StrategyContext,
    events: {} as MachineEvent,
    input: {} as StrategyInput | undefined, // optional: `createActor(machine)` with no options is a working strategy
    emitted: {} as StrategyEmitted,
  };
  // Implementations are built per variant; setup()'s per-name typing cannot follow them.
  const implementations = {
    guards: guards as never,
    actions: { ...actions, emitRequest, reportActorFailure } as never,
    delays: delays as never,
    actors: { ...defaultActors, ...def.actors } as typeof defaultActors,
  };
  const machine = setup({ types, ...implementations }).createMachine({
    ...(configFor(def) as object),
    context: ({ input }: { input: StrategyInput | undefined }) => {
      const createdAt = input?.createdAt ?? realClock.now();
      return {
        strategyId: input?.strategyId ?? def.id,
        variant: def.id,
        params: input?.params ?? {},
        position: null,
        errorCount: 0,
        lastError: null,
        deadline: null,
        autoRecoveries: { day: '', count: 0 },
        createdAt,
        enteredAt: createdAt,
        stats: { transitions: 0, rejected: 0, timeInState: {} },
        lastRecord: null,
        recentEventIds: [],
        ...(input?.incarnation !== undefined ? { incarnation: input.incarnation } : {}),
      };
    },
    // setup() cannot type guards, actions and actors named per variant: StrategyMachine names them generically.
  } as never) as unknown as StrategyMachine;
  Object.defineProperty(machine.config, DEFINITION, { value: def, enumerable: false });
  return checkedProvide(machine, def.id);
}

const IMPLEMENTATION_KINDS = { actions: 'action', guards: 'guard', delays: 'delay', actors: 'actor' } as const;
type ImplementationKind = keyof typeof IMPLEMENTATION_KINDS;

/**
 * Whether `value` can stand in for an implementation of `kind` (a delay may be a finite number of
 * ms, at least 0: XState would never fire Infinity on a simulated clock, Node's timers would fire
 * it at once; an actor is actor logic).
 */
function usableAs(kind: ImplementationKind, value: unknown): boolean {
  if (kind === 'actors') return typeof (value as { transition?: unknown } | null)?.transition === 'function';
  if (kind === 'delays') return typeof value === 'function' || (typeof value === 'number' && Number.isFinite(value) && value >= 0);
  return typeof value === 'function';
}

/**
 * Makes `machine.provide()` refuse what XState would silently keep unused: a name the machine's
 * `setup()` does not declare (a typo would leave the default in place, e.g. no position monitor at
 * all), a group other than actions, guards, delays and actors, or a value that cannot run. The
 * machine `provide()` returns is checked the same way. Only public members are used:
 * `machine.implementations` lists the declared names, and `provide` is XState's own.
 */
function checkedProvide(machine: StrategyMachine, variant: string): StrategyMachine {
  const provide = machine.provide.bind(machine);
  const checked: StrategyMachine['provide'] = (implementations) => {
    if (typeof implementations !== 'object' || implementations === null) {
      throw new InvalidOptionsError('machine.provide', 'implementations', `must be an object, got ${typeof implementations}`);
    }
    for (const [group, given] of Object.entries(implementations as Record<string, unknown>)) {
      if (!(group in IMPLEMENTATION_KINDS)) {
        throw new InvalidOptionsError('machine.provide', group, 'is not a group of implementations: use actions, guards, delays or actors');
      }
      if (given === undefined) continue;
      const kind = group as ImplementationKind;
      if (typeof given !== 'object' || given === null) {
        throw new InvalidOptionsError('machine.provide', group, `must be an object of named ${kind}, got ${typeof given}`);
      }
      const declared = machine.implementations[kind] as Record<string, unknown>;
      for (const [name, value] of Object.entries(given)) {
        if (!Object.prototype.hasOwnProperty.call(declared, name)) {
          const known = Object.keys(declared).sort().join(', ');
          throw new InvalidOptionsError(
            'machine.provide',
            `${group}.${name}`,
            `is not ${kind === 'actions' ? 'an' : 'a'} ${IMPLEMENTATION_KINDS[kind]} of the ${variant} machine (XState would ignore it); its ${group}: ${known}`,
          );
        }
        if (!usableAs(kind, value)) {
          const wanted =
            kind === 'actors'
              ? 'actor logic (fromCallback, fromPromise, ...)'
              : kind === 'delays'
                ? 'a function or a finite number of ms, at least 0'
                : 'a function';
          throw new InvalidOptionsError(
            'machine.provide',
            `${group}.${name}`,
            `must be ${wanted}, got ${value === null ? 'null' : typeof value === 'number' ? String(value) : typeof value}`,
          );
        }
      }
    }
    return checkedProvide(provide(implementations), variant);
  };
  Object.defineProperty(machine, 'provide', { value: checked, enumerable: false, configurable: true, writable: true });
  return machine;
}
