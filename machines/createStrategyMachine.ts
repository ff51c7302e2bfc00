import { assign, emit, sendTo, setup, type AnyActorRef, type MachineSnapshot, type MetaObject, type StateMachine, type StateValue } from 'xstate';
import { applyAdjustmentFill, applyEntryFill, applyExitFill } from '../actions/position.js';
import { appendRecord, noEdgeRecord } from '../actions/audit.js';
import { armStuckDeadline, countAutoRecovery, countError, enterError, errorMessage } from '../actions/errors.js';
import { isDteAtOrBelowDefensive } from '../guards/dte.js';
import { isErrorLimitReached, isRecoveryDeadline, isStuckDeadline } from '../guards/errors.js';
import { explainOverride, hasOpenPosition, isExitFillComplete, isExitFillPartial, isFlat, isOverrideTargetLegal } from '../guards/position.js';
import type { GuardCheck } from '../guards/types.js';
import { clockOf } from '../services/clock.js';
import { deadlineTimer } from '../services/deadlineTimer.js';
import { buildStrategyConfig, type EdgeOp, type RecordParams, type RejectParams } from './buildConfig.js';
import { BASE_GUARD_NAMES, resolveDefinition, type ResolvedDefinition, type StrategyDefinition } from './definition.js';
import type { GuardRef } from './edges.js';
import type { MachineEvent } from './events.js';
import type { StrategyState, StuckState } from './states.js';
import type { StrategyContext, StrategyInput, TransitionRecord } from './types.js';

/** What a strategy machine emits: one `transition` per audit record (accepted or rejected). */
export type StrategyEmitted = { type: 'transition'; record: TransitionRecord };

/** The XState machine of a strategy, as `createStrategyMachine` returns it. */
export type StrategyMachine = StateMachine<
  StrategyContext,
  MachineEvent,
  Record<string, AnyActorRef | undefined>,
  any, // eslint-disable-line @typescript-eslint/no-explicit-any -- actors are named in setup()
  any, // eslint-disable-line @typescript-eslint/no-explicit-any -- actions are generated per edge
  any, // eslint-disable-line @typescript-eslint/no-explicit-any -- guards are generated per variant
  string,
  StateValue,
  string,
  StrategyInput,
  unknown,
  StrategyEmitted,
  MetaObject,
  any // eslint-disable-line @typescript-eslint/no-explicit-any
>;

/** A snapshot of a strategy machine. */
export type StrategySnapshot = MachineSnapshot<StrategyContext, MachineEvent, Record<string, AnyActorRef | undefined>, StateValue, string, unknown, MetaObject, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const DEFINITION = Symbol.for('strategy-lifecycle.definition');

/**
 * The resolved definition a machine was made from (hooks, limits), or undefined for foreign
 * machines. It is kept on the machine's config, which `machine.provide()` carries over.
 */
export function definitionOf(machine: unknown): ResolvedDefinition | undefined {
  return (machine as { config?: { [DEFINITION]?: ResolvedDefinition } } | undefined)?.config?.[DEFINITION];
}

type ActionArgs = { context: StrategyContext; event: MachineEvent; system: unknown };

/** Events sent by bare XState users may lack `at`; the actor system's clock supplies it. */
function timed(event: MachineEvent, system: unknown): MachineEvent {
  return typeof event.at === 'number' ? event : { ...event, at: clockOf(system).now() };
}

/** Every named guard of a variant, as checks that explain their failure. */
function guardChecks(def: ResolvedDefinition): Record<string, GuardCheck<any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const checks: Record<string, GuardCheck<any>> = { // eslint-disable-line @typescript-eslint/no-explicit-any
    hasOpenPosition,
    isFlat,
    isExitFillComplete,
    isExitFillPartial,
    isRecoveryDeadline,
    isStuckDeadline,
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
        return `guard ${guard.name} threw: ${(error as Error)?.message ?? String(error)}`;
      }
    };
  }
  return checks;
}

function explainRejection(checks: Record<string, GuardCheck<any>>, params: RejectParams, context: StrategyContext, event: MachineEvent): string { // eslint-disable-line @typescript-eslint/no-explicit-any
  if (event.type === 'MANUAL_OVERRIDE') return explainOverride(context, event.target) ?? 'override refused';
  const reasons = new Set<string>();
  const visit = (ref: GuardRef | string): void => {
    if (Array.isArray(ref)) return ref.forEach(visit);
    if (typeof ref === 'object') return visit((ref as { type: string }).type);
    const names = ref === 'areEntryConditionsMet' ? Object.keys(checks).filter((n) => !BASE_GUARD_NAMES.includes(n)) : [ref];
    for (const name of names) {
      const why = checks[name]?.(context, event, undefined);
      if (why) reasons.add(`${name}: ${why}`);
    }
  };
  params.guards.forEach(visit);
  return `${event.type} rejected in ${params.state}: ${[...reasons].join('; ') || 'guard failed'}`;
}


/**
 * Creates the XState v5 machine of a strategy variant from its definition. Every edge comes from
 * the shared edge table (`machines/edges.ts`) plus the variant's extra edges; guards, actions and
 * the deadline actor are named in `setup()`, so `machine.provide()` can replace them.
 *
 * The result is a plain XState machine: give it to `createActor`, the inspector or `@xstate/graph`,
 * or to {@link createStrategyActor} for validated triggers, hooks and the audit trail.
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
  const checks = guardChecks(def);
  const guards: Record<string, (args: { context: StrategyContext; event: MachineEvent }, params: unknown) => boolean> = {};
  for (const [name, check] of Object.entries(checks)) {
    guards[name] = ({ context, event }, params) => check(context, event, params) === null;
  }
  const update = (fn: (context: StrategyContext, event: MachineEvent, params: any) => Partial<StrategyContext>) => // eslint-disable-line @typescript-eslint/no-explicit-any
    assign(({ context, event, system }: ActionArgs, params: unknown) => fn(context, timed(event, system), params));

  const recordTransition = (context: StrategyContext, event: MachineEvent, params: RecordParams): Partial<StrategyContext> => {
    if (params.mode === 'hookFailure') {
      const hook = event.type === 'lifecycle.hookFailed' ? event : undefined;
      const forced = params.to === 'ERROR' && params.from !== 'ERROR';
      const count = `error ${context.errorCount} of ${def.maxErrors}`;
      return appendRecord(context, event, {
        from: params.from,
        to: params.to,
        accepted: false,
        code: 'HOOK_FAILED',
        reason: hook?.after
          ? `hook ${hook.hook} threw after ${hook.trigger} (the transition stands): ${hook.message}; ${count}${forced ? ': forced into ERROR' : ''}`
          : `${hook?.trigger ?? event.type} aborted: hook ${hook?.hook} threw: ${hook?.message}; ${count}${forced ? ': forced into ERROR' : ''}`,
        message: forced ? errorMessage(context, event, params.from, def) : hook?.after ? `hook failed after ${hook.trigger} in ${params.from}` : `aborted ${hook?.trigger} in ${params.from}`,
        reentered: false,
      }, def.eventIdWindow);
    }
    const message = params.to === 'ERROR' && params.from !== 'ERROR' ? errorMessage(context, event, params.from, def) : params.message;
    return appendRecord(context, event, { from: params.from, to: params.to, accepted: true, message, reentered: params.reentered }, def.eventIdWindow);
  };
  /** The context updates an edge can make, by name (see `EdgeOp`). */
  const ops: { [K in EdgeOp['op']]: (context: StrategyContext, event: MachineEvent, op: Extract<EdgeOp, { op: K }>) => Partial<StrategyContext> } = {
    applyEntryFill,
    applyExitFill,
    applyAdjustmentFill,
    countError: (context, event) => countError(context, event, def.maxErrors),
    countAutoRecovery,
    clearDeadline: () => ({ deadline: null }),
    resetErrors: () => ({ errorCount: 0 }),
    enterError: (context, event, op) => enterError(context, event, op.from, def),
    armStuckDeadline: (_context, event, op) => armStuckDeadline(event, op.state as StuckState, def),
    recordTransition: (context, event, op) => recordTransition(context, event, op),
  };

  const runOp = (context: StrategyContext, event: MachineEvent, op: EdgeOp): Partial<StrategyContext> => (ops[op.op] as (c: StrategyContext, e: MachineEvent, o: EdgeOp) => Partial<StrategyContext>)(context, event, op);

  const actions = {
    // All of an edge's context updates in one assign: XState copies the snapshot per assign.
    step: assign(({ context, event, system }: ActionArgs, params: { ops: EdgeOp[] }) => {
      const timedEvent = timed(event, system);
      const list = params.ops;
      // Most edges only record: their update goes to XState as it is, without a copy here.
      if (list.length === 1) return runOp(context, timedEvent, list[0]);
      const next = { ...context };
      for (const op of list) Object.assign(next, runOp(next, timedEvent, op));
      return next;
    }),
    syncDeadline: sendTo('deadline', ({ context }: { context: StrategyContext }) => ({ type: 'lifecycle.arm' as const, deadline: context.deadline })),
    rejectNoEdge: update((context, event, params: { state: StrategyState }) => appendRecord(context, event, noEdgeRecord(params.state, event), def.eventIdWindow)),
    rejectGuarded: update((context, event, params: RejectParams) => appendRecord(context, event, {
      from: params.state,
      to: params.state,
      accepted: false,
      code: 'GUARD_FAILED',
      reason: explainRejection(checks, params, context, event),
      message: `rejected ${event.type} in ${params.state}`,
    }, def.eventIdWindow)),
  emitRecord: emit(({ context }: { context: StrategyContext }) => ({ type: 'transition' as const, record: context.lastRecord! })),
  };

  const machine = setup({
    types: {
      context: {} as StrategyContext,
      events: {} as MachineEvent,
      input: {} as StrategyInput,
      emitted: {} as StrategyEmitted,
    },
    actors: { deadlineTimer },
    guards,
    // Implementations are generated per variant; setup()'s per-name typing cannot follow them.
    actions: actions as never,
  }).createMachine({
    ...(buildStrategyConfig(def) as object),
    context: ({ input, self }: { input: StrategyInput; self: AnyActorRef }) => {
      const createdAt = input?.createdAt ?? clockOf(self.system).now();
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
      };
    },
  } as never) as unknown as StrategyMachine;
  Object.defineProperty(machine.config, DEFINITION, { value: def, enumerable: false });
  return machine;
}
