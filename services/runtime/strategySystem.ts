import { createActor, type Actor, type InspectionEvent, type Observer } from 'xstate';
import {
  checkPortfolioLimits,
  checkTradingState,
  holdsPortfolioSlot,
  orderEffectOf,
  type OrderEffect,
  type PortfolioLimits,
  type TradingState,
} from '../../guards/portfolio.js';
import { coordinatorMachine, type TradingStateChange } from '../../machines/coordinator.js';
import { createStrategyMachine, definitionOf, type StrategyMachine } from '../../machines/createStrategyMachine.js';
import { checkParams } from '../../machines/params.js';
import { withInvokedChildren } from '../../machines/restoreChildren.js';
import type { StrategyDefinition, StrategyHooks } from '../../machines/definition.js';
import { DuplicateStrategyError, mustExist, StrategyNotFlatError, UnknownStrategyError } from '../../machines/errors.js';
import type { StrategyEvent } from '../../machines/events.js';
import type { StrategyState } from '../../machines/states.js';
import type { StrategyContext } from '../../machines/types.js';
import { realClock, type Clock } from '../market/clock.js';
import { parkedClock } from './durableDelays.js';
import type { AfterEvent } from '../../machines/events.js';
import { killSwitch, type KillSwitchOptions, type KillSwitchResult } from './killSwitch.js';
import { attachStrategy } from './strategyHandle.js';
import { runPipeline } from './pipeline.js';
import {
  checkPersistedStrategy,
  type PersistedStrategy,
  type StrategyActor,
  type StrategyHandle,
  type TransitionListener,
  type TriggerGate,
  type TriggerResult,
} from './strategyActor.js';
import { summarize, type SystemSummary } from './systemSummary.js';
import {
  broadcast as runBroadcast,
  isConcernedBy,
  resumeAll as runResumeAll,
  suspendAll as runSuspendAll,
  type SystemOperationResult,
} from './systemOperations.js';

export type { SystemOperationResult } from './systemOperations.js';

/** Options of {@link createStrategySystem}. */
export interface StrategySystemOptions {
  /** One clock for every strategy of the system; real time by default. */
  clock?: Clock;
  /** Sees the coordinator and every strategy actor (XState inspection), e.g. `@statelyai/inspect`. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Portfolio limits across strategies. */
  limits?: PortfolioLimits;
  /** Retries of the kill switch. */
  killSwitch?: KillSwitchOptions;
  /** Called when a transition listener throws (default: console.error). */
  onListenerError?: (error: unknown) => void;
  /**
   * Most audit records each strategy keeps in memory, the oldest dropped first (default 10,000,
   * `DEFAULT_AUDIT_LIMIT`). A persistent system sets it to its `auditWindow`.
   */
  auditLimit?: number;
}

/** Options of {@link StrategySystem.add}. */
export interface AddStrategyOptions {
  id: string;
  /**
   * Kept in the strategy's context; `underlying` routes EARNINGS_APPROACHING. Checked against the
   * variant's `params` schema: an unknown key or a wrong value throws `InvalidParamsError`.
   */
  params?: Record<string, unknown>;
  hooks?: StrategyHooks;
  /** Restore this persisted strategy instead of starting fresh. */
  snapshot?: PersistedStrategy;
}

/** Many strategies as child actors of one coordinator, sharing one clock. */
export interface StrategySystem {
  readonly clock: Clock;
  /** The coordinator actor (root of the XState system). */
  readonly actorRef: Actor<typeof coordinatorMachine>;
  readonly tradingState: TradingState;
  /** Adds a strategy from a definition or a machine; returns its handle. */
  add(definitionOrMachine: StrategyDefinition | StrategyMachine, options: AddStrategyOptions): StrategyActor;
  /** @throws {UnknownStrategyError} */
  get(id: string): StrategyActor;
  has(id: string): boolean;
  ids(): string[];
  /** Stops and removes a flat strategy. @throws {StrategyNotFlatError} when it holds a position. */
  remove(id: string): void;
  /** Sends one event through the system's trading state and portfolio limits. @throws {UnknownStrategyError} */
  send(id: string, event: StrategyEvent): TriggerResult;
  /**
   * Sends one event to every strategy (or those `filter` keeps); one strategy's failure never
   * stops the broadcast. EARNINGS_APPROACHING with a `symbol` goes only to strategies whose
   * `params.underlying` is that symbol.
   */
  broadcast(event: StrategyEvent, filter?: (strategy: StrategyActor) => boolean): Record<string, TriggerResult>;
  summary(): SystemSummary;
  /** Every transition record of every strategy, with its strategy id and triggering event. */
  subscribe(listener: TransitionListener): () => void;
  /** Moves every READY, ANALYZING or PENDING_ENTRY strategy to SUSPENDED; reports the others. */
  suspendAll(reason: string): SystemOperationResult;
  /** Resumes every SUSPENDED strategy (READY when flat, MANAGING with a position). */
  resumeAll(): SystemOperationResult;
  /** Changes the trading state; audited in {@link StrategySystem.tradingStateHistory}. @throws {RangeError} for another state. */
  setTradingState(state: TradingState, reason: string, operator?: string): TradingStateChange;
  tradingStateHistory(): readonly TradingStateChange[];
  /**
   * HALTED for new entries, EMERGENCY_EXIT to every strategy holding a position, retried with
   * backoff on the system clock until each is flat or has failed (then in ERROR, reported).
   */
  killSwitch(reason: string): Promise<KillSwitchResult>;
  stop(): void;
}

/**
 * Creates a system that runs many strategies at once: one coordinator actor (the XState system's
 * root) whose children are the strategies, registered under their ids as `systemId`, all on one
 * clock. It adds the seed's all-strategies summary, system-wide suspension, a trading state
 * (ACTIVE / REDUCING / HALTED), portfolio limits and a kill switch.
 *
 * @example
 * ```ts
 * const system = createStrategySystem({ clock, limits: { maxPerGroup: { 'us-equity-index': 2 } } });
 * system.add(lt112, { id: 'lt112-spx', params: { underlying: 'SPX' } });
 * system.broadcast({ type: 'MARKET_OPEN' });
 * system.suspendAll('FOMC at 14:00');
 * console.log(system.summary().countByState);
 * ```
 */
export function createStrategySystem(options: StrategySystemOptions = {}): StrategySystem {
  return createSystemCore(options).system;
}

/** What the persistent system needs beside the public API; not exported from the package. */
export interface SystemCore {
  system: StrategySystem;
  handleOf(id: string): StrategyHandle;
  gateFor(handle: StrategyHandle): TriggerGate;
  /** What orders `event` would lead `handle` to place from `state` (what the gate checks). */
  effectOf(handle: StrategyHandle, state: StrategyState, event: { type: string }, context: StrategyContext): OrderEffect | null;
  /** The strategy's correlation group (its definition's). */
  groupOf(handle: StrategyHandle): string | undefined;
  /**
   * Brings the strategy's portfolio slot back in line with its state: returns a slot the gate
   * reserved for a trigger whose write failed or that was refused. Call after every send.
   */
  settleSlot(handle: StrategyHandle): void;
  /**
   * Stops a strategy and forgets it whatever its position, without the flat check of `remove`:
   * for an instance that lost the strategy to another one (the position lives on with the owner).
   */
  detach(id: string): void;
}

/** Internal options of the system core. */
export interface SystemCoreOptions extends StrategySystemOptions {
  /** Adapts each variant's machine once. */
  provideMachine?: (machine: StrategyMachine) => StrategyMachine;
  /** Where a strategy's delayed transition goes when it falls due (the persistent system writes it first). */
  routeDelay?: (strategyId: string, event: AfterEvent & { at: number; dueAt: number }) => void;
  /** `false`: strategies refuse direct `trigger()` calls (their events must be written first). */
  directTrigger?: boolean;
  /** Where an event a strategy's invoked actor asks for goes; default: `system.send`. */
  routeRequest?: (strategyId: string, event: StrategyEvent) => void;
}

/** Builds a strategy system and the internals other layers build on. */
export function createSystemCore(options: SystemCoreOptions = {}): SystemCore {
  const clock = options.clock ?? realClock;
  const limits = options.limits ?? {};
  // Strategies are the coordinator's children and share its system's clock: their delays are armed
  // by the runtime, durably (see durableDelays.ts), so XState's copies are parked.
  const coordinator = createActor(coordinatorMachine, {
    clock: parkedClock(clock),
    ...(options.inspect ? { inspect: options.inspect } : {}),
  });
  coordinator.start();
  const strategies = new Map<string, StrategyHandle>();
  const machines = new Map<StrategyDefinition, StrategyMachine>();
  const listeners = new Set<TransitionListener>();
  /** Strategy id -> correlation group, for every strategy holding a portfolio slot. */
  const slots = new Map<string, string | undefined>();

  const handleOf = (id: string): StrategyHandle => {
    const handle = strategies.get(id);
    if (!handle) throw new UnknownStrategyError(id);
    return handle;
  };
  const groupOf = (handle: StrategyHandle) => definitionOf(handle.machine)?.correlationGroup;
  const syncSlot = (handle: StrategyHandle, state: StrategyState) => {
    const holds = holdsPortfolioSlot(state, handle.getSnapshot().context.position?.quantity ?? 0);
    if (holds === false) slots.delete(handle.id);
    else if (holds) slots.set(handle.id, groupOf(handle));
  };
  const settleSlot = (handle: StrategyHandle) => {
    if (strategies.get(handle.id) === handle) syncSlot(handle, handle.state);
  };

  /** The system's checks between validation and the strategy's own edges. */
  const effectOf: SystemCore['effectOf'] = (handle, state, event, context) =>
    orderEffectOf(state, event as StrategyEvent, context, definitionOf(handle.machine)?.canAdjust ?? false);
  const gateFor =
    (handle: StrategyHandle): TriggerGate =>
    (state, event, context) => {
      const effect = effectOf(handle, state, event, context);
      const refusal = checkTradingState(coordinator.getSnapshot().context.tradingState, effect);
      if (refusal) return refusal;
      if (effect !== 'entry' || event.type !== 'ENTRY_CONDITIONS_MET') return null;
      const limited = checkPortfolioLimits(slots, limits, handle.id, groupOf(handle));
      // The slot is reserved now, synchronously: a concurrent entry whose write is still in flight
      // counts, so limits hold under Promise.all. settleSlot returns it if the trigger goes nowhere.
      if (!limited) slots.set(handle.id, groupOf(handle));
      return limited;
    };

  const notifyAll: TransitionListener = (notice) => {
    for (const listener of listeners) {
      try {
        listener(notice);
      } catch (error) {
        (options.onListenerError ?? ((e) => console.error('strategy system: listener threw', e)))(error);
      }
    }
  };

  const provided = new Map<StrategyMachine, StrategyMachine>();
  const machineOf = (source: StrategyDefinition | StrategyMachine): StrategyMachine => {
    let machine: StrategyMachine;
    if (definitionOf(source) || typeof (source as StrategyMachine).transition === 'function') {
      machine = source as StrategyMachine;
    } else {
      const def = source as StrategyDefinition;
      const known = machines.get(def);
      if (!known) machines.set(def, (machine = createStrategyMachine(def)));
      else machine = known;
    }
    if (!options.provideMachine) return machine;
    let adapted = provided.get(machine);
    if (!adapted) provided.set(machine, (adapted = options.provideMachine(machine)));
    return adapted;
  };

  const system: StrategySystem = {
    clock,
    actorRef: coordinator,
    get tradingState() {
      return coordinator.getSnapshot().context.tradingState;
    },
    add(source, addOptions) {
      const { id } = addOptions;
      if (typeof id !== 'string' || id.length === 0) throw new UnknownStrategyError(typeof id === 'string' ? id : String(id));
      if (strategies.has(id)) throw new DuplicateStrategyError(id);
      const machine = machineOf(source);
      const { routeDelay } = options;
      if (addOptions.snapshot) checkPersistedStrategy(machine, addOptions.snapshot);
      // A new strategy's params must fit its variant; a restored one keeps what its store holds.
      const def = definitionOf(machine);
      const params = addOptions.snapshot || !def ? addOptions.params : checkParams(id, def.id, def.params, addOptions.params);
      // A child of the coordinator: same system, clock and inspector; addressable by systemId.
      // A rollback stops it through the coordinator and makes it again from the committed snapshot.
      const handle: StrategyHandle = attachStrategy(machine, {
        id,
        clock,
        spawn: (snapshot) =>
          createActor(machine, {
            parent: coordinator,
            systemId: id,
            id,
            input: { strategyId: id, params, createdAt: clock.now() },
            ...(snapshot
              ? { snapshot }
              : addOptions.snapshot
                ? { snapshot: withInvokedChildren(machine, addOptions.snapshot.snapshot) }
                : {}),
          }),
        stopRef: () => coordinator.send({ type: 'system.stopStrategy', strategyId: id }),
        hooks: addOptions.hooks,
        auditTrail: addOptions.snapshot?.auditTrail ?? [],
        ...(options.auditLimit !== undefined ? { auditLimit: options.auditLimit } : {}),
        listeners: [
          (notice) => {
            syncSlot(handle, notice.record.currentState);
            notifyAll(notice);
          },
        ],
        onListenerError: options.onListenerError,
        directTrigger: options.directTrigger,
        ...(routeDelay ? { onDelay: (event: AfterEvent & { at: number; dueAt: number }) => routeDelay(id, event) } : {}),
        onRequest: (event) => (options.routeRequest ? options.routeRequest(id, event) : system.send(id, event)),
      });
      strategies.set(id, handle);
      syncSlot(handle, handle.state);
      return handle;
    },
    get: handleOf,
    has: (id) => strategies.has(id),
    ids: () => [...strategies.keys()],
    remove(id) {
      const handle = handleOf(id);
      const quantity = handle.getSnapshot().context.position?.quantity ?? 0;
      if (quantity > 0) throw new StrategyNotFlatError(id, handle.state, quantity);
      detach(id);
    },
    send(id, event) {
      const handle = handleOf(id);
      try {
        return runPipeline(handle, handle.prepare(event, gateFor(handle))) as TriggerResult;
      } finally {
        settleSlot(handle);
      }
    },
    broadcast(event, filter) {
      const targets = [...strategies.values()].filter((h) => isConcernedBy(event, h) && (!filter || filter(h)));
      return runBroadcast(targets, (id, e) => system.send(id, e), event, {
        has: (id) => strategies.has(id),
        // send never throws for bad input; this keeps a broadcast going whatever happens.
        onError: (id, error) => (options.onListenerError ?? ((e) => console.error(`broadcast to ${id} failed`, e)))(error),
      }) as Record<string, TriggerResult>;
    },
    summary: () => summarize(strategies.values(), clock.now(), coordinator.getSnapshot().context.tradingState, slots),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    suspendAll: (reason) => runSuspendAll([...strategies.values()], (id, e) => system.send(id, e), reason) as SystemOperationResult,
    resumeAll: () => runResumeAll([...strategies.values()], (id, e) => system.send(id, e)) as SystemOperationResult,
    setTradingState(state, reason, operator) {
      checkTradingStateName(state);
      coordinator.send({
        type: 'system.setTradingState',
        tradingState: state,
        reason,
        at: clock.now(),
        ...(operator !== undefined ? { operator } : {}),
      });
      return mustExist(coordinator.getSnapshot().context.changes.at(-1), 'the trading state change just made');
    },
    tradingStateHistory: () => coordinator.getSnapshot().context.changes,
    killSwitch(reason) {
      system.setTradingState('HALTED', `kill switch: ${reason}`);
      return killSwitch([...strategies.values()], reason, clock, options.killSwitch);
    },
    stop() {
      for (const handle of strategies.values()) handle.stop();
      coordinator.stop();
    },
  };
  function detach(id: string) {
    handleOf(id).stop();
    strategies.delete(id);
    slots.delete(id);
  }
  return { system, handleOf, gateFor, effectOf, groupOf, settleSlot, detach };
}

/** @throws {RangeError} unless `state` is ACTIVE, REDUCING or HALTED (callers may be untyped JavaScript). */
export function checkTradingStateName(state: unknown): asserts state is TradingState {
  if (state !== 'ACTIVE' && state !== 'REDUCING' && state !== 'HALTED')
    throw new RangeError(`trading state must be ACTIVE, REDUCING or HALTED, got ${String(state)}`);
}
