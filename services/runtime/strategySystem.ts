import type { Actor, InspectionEvent, Observer } from 'xstate';
import { checkSystemOptions } from './systemOptions.js';
import type { PortfolioLimits, TradingState } from '../../guards/portfolio.js';
import type { coordinatorMachine, TradingStateChange } from '../../machines/coordinator.js';
import type { StrategyMachine } from '../../machines/createStrategyMachine.js';
import type { StrategyDefinition, StrategyHooks } from '../../machines/definition.js';
import { mustExist, StrategyLifecycleError } from '../../machines/errors.js';
import type { StrategyEvent } from '../../machines/events.js';
import type { Clock } from '../market/clock.js';
import { MemoryStore } from '../store/memoryStore.js';
import type { KillSwitchOptions, KillSwitchResult } from './killSwitch.js';
import { isThenable, type MaybePromise } from './settle.js';
import type { PersistedStrategy, StrategyActor, TransitionListener, TriggerResult } from './strategyActor.js';
import { createSystemCore } from './systemCore.js';
import type { SystemSummary } from './systemSummary.js';
import type { SystemOperationResult } from './systemOperations.js';

export type { SystemOperationResult } from './systemOperations.js';
export { checkTradingStateName } from './portfolioGate.js';

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
  /**
   * The synchronous store every transition is written to before the strategy moves (the same
   * write-ahead a persistent system makes to its database); a fresh {@link MemoryStore} by default.
   */
  store?: MemoryStore;
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
  /**
   * Tells `listener` the id of each strategy `remove` removed, as it is removed (the trading day's
   * broker routing uses it: a late fill of the removed strategy's order reaches no strategy).
   */
  subscribeRemovals(listener: (strategyId: string) => void): () => void;
  /**
   * Moves every READY, ANALYZING or PENDING_ENTRY strategy to SUSPENDED; reports the others.
   * @throws {InvalidOptionsError} for a `reason` setTradingState refuses.
   */
  suspendAll(reason: string): SystemOperationResult;
  /** Resumes every SUSPENDED strategy (READY when flat, MANAGING with a position). */
  resumeAll(): SystemOperationResult;
  /**
   * Changes the trading state; audited in {@link StrategySystem.tradingStateHistory}.
   * @throws {InvalidOptionsError} (option `state`) for a state other than ACTIVE, REDUCING or
   * HALTED; and when `reason` is not a string of at most 500 characters, or
   * `operator` (when given) one of at most 64, or either holds a NUL character or half of a
   * surrogate pair, or HALTED's `reason` starts with `kill switch: ` (the kill switch's own mark:
   * use {@link StrategySystem.killSwitch}): nothing changes.
   */
  setTradingState(state: TradingState, reason: string, operator?: string): TradingStateChange;
  tradingStateHistory(): readonly TradingStateChange[];
  /**
   * HALTED for new entries, EMERGENCY_EXIT to every strategy holding a position, retried with
   * backoff on the system clock until each is flat or has failed (then in ERROR, reported).
   * Never refused for its reason: text that cannot be stored (not a string, a NUL, past 500
   * characters) is made storable and recorded (see docs/system.md).
   */
  killSwitch(reason: string): Promise<KillSwitchResult>;
  stop(): void;
}

/**
 * Creates a system that runs many strategies at once: one coordinator actor (the XState system's
 * root) whose children are the strategies, registered under their ids as `systemId`, all on one
 * clock. It adds the seed's all-strategies summary, system-wide suspension, a trading state
 * (ACTIVE / REDUCING / HALTED), portfolio limits and a kill switch. It is the persistent system's
 * code over a synchronous {@link MemoryStore}: every answer comes at once.
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
  checkSystemOptions(options, false);
  const store = options.store ?? new MemoryStore();
  const core = createSystemCore({ ...options, store });
  const { coordinator, clock } = core;
  const onError = options.onListenerError ?? ((e: unknown) => console.error('strategy system: broadcast failed', e));
  const system: StrategySystem = {
    clock,
    actorRef: coordinator,
    get tradingState() {
      return coordinator.getSnapshot().context.tradingState;
    },
    add: (source, addOptions) => now(core.add(source, addOptions)),
    get: core.handleOf,
    has: core.has,
    ids: core.ids,
    remove: (id) => now(core.remove(id)),
    send: (id, event) => now(core.send(id, event)),
    // send never throws for bad input; this keeps a broadcast going whatever happens.
    broadcast: (event, filter) =>
      now(
        core.broadcast<never>(event, filter, (_id, error) => {
          onError(error);
          return undefined;
        }),
      ),
    summary: core.summary,
    subscribe: core.subscribe,
    subscribeRemovals: core.subscribeRemovals,
    suspendAll: (reason) => now(core.suspendAll(reason)),
    resumeAll: () => now(core.resumeAll()),
    setTradingState(state, reason, operator) {
      now(core.safety.setTradingState(state, reason, operator));
      return mustExist(coordinator.getSnapshot().context.changes.at(-1), 'the trading state change just made');
    },
    tradingStateHistory: () => coordinator.getSnapshot().context.changes,
    // The persistent system's kill switch over the memory store: HALTED and the exits at once.
    // Never refused for its text: made storable (see killSwitchText).
    killSwitch: (reason) => now(core.safety.startKillSwitch(reason, 'kill-switch')).done,
    stop() {
      void core.safety.close();
      core.stop();
    },
  };
  return system;
}

/** The in-memory system's store answered with a promise: a defect, never an expected outcome. */
class AsynchronousMemoryStoreError extends StrategyLifecycleError {
  override name = 'AsynchronousMemoryStoreError';
  constructor() {
    super("the in-memory system's store answered with a promise; createStrategySystem needs a synchronous store");
  }
}

/** What a synchronous store makes of a maybe-promise: the value itself. */
function now<T>(value: MaybePromise<T>): T {
  if (isThenable(value)) throw new AsynchronousMemoryStoreError();
  return value;
}
