/**
 * The one implementation of a strategy system, over a store that answers at once (the in-memory
 * `MemoryStore`) or later (SQLite, PostgreSQL): add, send, remove, broadcast, suspendAll and
 * resumeAll are written once over maybe-promises. `createStrategySystem` runs it over a memory
 * store and answers synchronously; `openStrategySystem` runs it over a database and adds restore,
 * leases and reconciliation around it.
 */
import { strategyIdProblem } from '../../machines/strategyId.js';
import { InvalidOptionsError } from '../../machines/errors.js';
import { createActor, type Actor } from 'xstate';
import type { ChunkCodec } from './auditWindow.js';
import { coordinatorMachine } from '../../machines/coordinator.js';
import { definitionOf, type StrategyMachine } from '../../machines/createStrategyMachine.js';
import { hooksProblem, type StrategyDefinition } from '../../machines/definition.js';
import {
  OwnershipLostError,
  PortfolioLimitRefusal,
  StoreConflictError,
  StrategyInTransitionError,
  StrategyNotFlatError,
} from '../../machines/errors.js';
import type { AfterEvent, HookFailedEvent, StrategyEvent } from '../../machines/events.js';
import { topLevelState } from '../../machines/states.js';
import { hasStateTag } from '../../machines/tags.js';
import { realClock, type Clock } from '../market/clock.js';
import type { NewStrategy, SystemStore } from '../store/types.js';
import { parkedClock } from './durableDelays.js';
import { createPersistentSafety, type KillSwitchEnd, type PersistentSafety } from './persistentSafety.js';
import { createPortfolioGate, type PortfolioGate } from './portfolioGate.js';
import type { MaybePromise } from './settle.js';
import { createStoreWrites, type StoreWrites } from './storeWrites.js';
import type { RequestAsked } from './handleTypes.js';
import type { StrategyActor, StrategyHandle, TransitionListener, TriggerResult } from './strategyActor.js';
import { createStrategyRegistry } from './strategyRegistry.js';
import type { AddStrategyOptions, StrategySystemOptions } from './strategySystem.js';
import { summarize, type SystemSummary } from './systemSummary.js';
import { checkReason } from './operatorText.js';
import { broadcast, isConcernedBy, resumeAll, suspendAll, type SendToAll, type SystemOperationResult } from './systemOperations.js';
import { attempt, createWriteQueues, then, type WriteQueues } from './writeQueue.js';
import { createInspectionGate } from './inspectionGate.js';

/** Who owns which strategy, on a multi-instance store (the persistent system's lease keeper). */
export interface Ownership {
  fence(id: string, error: OwnershipLostError): void;
  /** Lets go of a copy the store is ahead of (its owner still this instance), to be restored from the store. */
  reload(id: string, error: StoreConflictError): void;
  /** @throws {OwnershipLostError} for an id this instance was fenced off. */
  check(id: string): void;
  fencedError(id: string): OwnershipLostError | undefined;
  /** A new strategy this instance stored under `id` (the one it was fenced off is gone): its fence is lifted. */
  created(id: string): void;
}

/** Options of {@link createSystemCore}. */
export interface SystemCoreOptions extends Omit<StrategySystemOptions, 'store'> {
  store: SystemStore;
  /** Adapts each variant's machine once. */
  provideMachine?: (machine: StrategyMachine) => StrategyMachine;
  /** Where a strategy's delayed transition goes when it falls due (the persistent system writes it first). */
  routeDelay?: (strategyId: string, event: AfterEvent & { at: number; dueAt: number }) => void;
  /** Where a hook failure after a committed transition goes (the persistent system writes it first). */
  routeHookFailure?: (strategyId: string, event: HookFailedEvent & { at: number }) => void;
  /** `false`: strategies refuse direct `trigger()` calls (their events must be written first). */
  directTrigger?: boolean;
  /** Set by the core itself: a direct `trigger()` of one of its strategies is its `send`. */
  systemTrigger?: (strategyId: string, event: StrategyEvent) => MaybePromise<TriggerResult>;
  /**
   * Each strategy keeps its in-memory records compactly, packed with this codec (see AuditWindow):
   * a persistent system, whose store holds every record, so reads of the whole window are rare.
   * Default: the records are the objects written, read without decoding.
   */
  compactTrail?: ChunkCodec;
  /** Seq of the newest record the store holds of a strategy: its trail keeps every record after it (see AuditWindow). */
  storedThrough?: (strategyId: string) => number;
  /** Where an event a strategy's invoked actor asks for goes (to {@link SystemCore.request}); default: that, at once. */
  routeRequest?: (strategyId: string, event: StrategyEvent, asked: RequestAsked) => void;
  /** The store refused a write for its trading state (another instance changed it). */
  onTradingStateRefusal?: () => void;
  /** A write made in the background (records that followed a commit) failed. */
  onBackgroundError?: (id: string, error: unknown) => void;
  /** A kill switch step or trading state reload failed in the background; default console.error. */
  onSafetyError?: (error: unknown, where: string) => void;
  /** Told once when each kill switch run ends (see KillSwitchEnd). */
  onKillSwitchEnd?: (end: KillSwitchEnd) => void;
}

/** One strategy system over its store; see the file comment. Not exported from the package. */
export interface SystemCore extends PortfolioGate {
  readonly clock: Clock;
  readonly store: SystemStore;
  readonly coordinator: Actor<typeof coordinatorMachine>;
  readonly queues: WriteQueues;
  readonly writes: StoreWrites;
  /** The trading state and the kill switch, written to the store first (see persistentSafety.ts). */
  readonly safety: PersistentSafety;
  /** Starts a strategy in memory only (a new one, or one restored from its stored form). */
  attach: (source: StrategyDefinition | StrategyMachine, options: AddStrategyOptions) => StrategyHandle;
  /** Starts a strategy and stores it; answers it once stored (else it is gone again and this throws). */
  add: (source: StrategyDefinition | StrategyMachine, options: AddStrategyOptions) => MaybePromise<StrategyHandle>;
  handleOf: (id: string) => StrategyHandle;
  has: (id: string) => boolean;
  ids: () => string[];
  handles: () => StrategyHandle[];
  /** Removes a flat strategy from the store, then from memory. @throws {StrategyNotFlatError} */
  remove: (id: string) => MaybePromise<void>;
  /** The event pipeline with the system's gate and the store's write. @throws {UnknownStrategyError} */
  send: (id: string, event: StrategyEvent) => MaybePromise<TriggerResult>;
  /** An invoked actor's request: `send`, or nothing (undefined) when its stay ended before its turn (see {@link RequestAsked}). */
  request: (id: string, event: StrategyEvent, asked: RequestAsked) => MaybePromise<TriggerResult | undefined>;
  /** A delivery past the trading state (the kill switch's exits), written and fenced like `send`. */
  deliver: (handle: StrategyHandle, event: StrategyEvent) => MaybePromise<TriggerResult>;
  /** `onError` says what a failed send answers (undefined: left out). */
  broadcast: <E>(
    event: StrategyEvent,
    filter: ((strategy: StrategyActor) => boolean) | undefined,
    onError: (id: string, error: unknown) => E | undefined,
  ) => MaybePromise<Record<string, TriggerResult | E>>;
  suspendAll: (reason: string) => MaybePromise<SystemOperationResult>;
  resumeAll: () => MaybePromise<SystemOperationResult>;
  summary: () => SystemSummary;
  subscribe: (listener: TransitionListener) => () => void;
  /** Told each strategy id `remove` removed, once it is gone from the store and from memory. */
  subscribeRemovals: (listener: (strategyId: string) => void) => () => void;
  /** Returns a slot the gate reserved for a trigger whose write failed or that was refused. */
  settleSlot: (handle: StrategyHandle) => void;
  /** Stops and forgets a strategy whatever its position (no flat check, no store write). */
  detach: (id: string) => void;
  /** Fences `id` when `error` says another instance owns it now; true if so. */
  lostOwnership: (id: string, error: unknown) => boolean;
  /** The persistent system's lease keeper, once it exists. */
  useOwnership: (ownership: Ownership) => void;
  stop: () => void;
}

/**
 * Builds a strategy system over `options.store`: one coordinator actor (the XState system's
 * root) whose children are the strategies, all on one clock, every transition written ahead.
 *
 * @example
 * ```ts
 * const core = createSystemCore({ store: new MemoryStore(), clock });
 * core.add(lt112, { id: 'lt' });
 * core.send('lt', { type: 'MARKET_OPEN' }); // a TriggerResult: the memory store answers at once
 * ```
 */
export function createSystemCore(options: SystemCoreOptions): SystemCore {
  const { store } = options;
  const clock = options.clock ?? realClock;
  // Strategies are the coordinator's children and share its system's clock: their delays are armed
  // by the runtime, durably (see durableDelays.ts), so XState's copies are parked.
  // The strategies' transitions are shown once committed (see inspectionGate.ts).
  const inspection = options.inspect ? createInspectionGate(options.inspect) : undefined;
  const coordinator = createActor(coordinatorMachine, {
    clock: parkedClock(clock),
    ...(inspection ? { inspect: inspection.inspect } : {}),
  });
  coordinator.start();
  const gate = createPortfolioGate(() => coordinator.getSnapshot().context.tradingState, options.limits);
  const queues = createWriteQueues(store.synchronous === true);
  let ownership: Ownership | undefined;
  const registry = createStrategyRegistry({
    ...options,
    clock,
    coordinator,
    gate,
    inspection,
    onRequest: (id, event, asked) => (options.routeRequest ? options.routeRequest(id, event, asked) : void sendAsked(id, event, asked)),
    // In memory, a strategy's own trigger() takes the system's path (its gate); persisted, it refuses.
    systemTrigger: options.directTrigger === false ? undefined : (id, event) => send(id, event),
    // Deferred: a strategy being restored learns its stored seq right after it is attached.
    onUnwrittenRecord: (id) =>
      queueMicrotask(() => {
        const handle = strategies.get(id);
        if (handle) writes.flushLater(handle);
      }),
  });
  const { attach, detach, handles, handleOf, strategies } = registry;
  const removalListeners = new Set<(strategyId: string) => void>();
  const settleSlot = (handle: StrategyHandle) => {
    if (strategies.get(handle.id) === handle) gate.settleReservation(handle, handle.state);
  };

  const writes = createStoreWrites({
    store,
    core: gate,
    limits: options.limits,
    enqueue: (id, task) => queues.run(id, task),
    onTradingStateRefusal: () => options.onTradingStateRefusal?.(),
    onBackgroundError: (id, error) => {
      lostOwnership(id, error);
      options.onBackgroundError?.(id, error);
    },
  });

  /**
   * Fenced: another instance owns the strategy now; this one lets go of its copy, whatever the
   * position. A conflict on seq alone (this instance still owns it) means the store is ahead of
   * the copy: it is let go of and reloaded from the store, not abandoned.
   */
  const lostOwnership = (id: string, error: unknown): boolean => {
    if (!(error instanceof StoreConflictError) || !store.maintainLeases || !ownership) return false;
    if (error instanceof OwnershipLostError) ownership.fence(id, error);
    else ownership.reload(id, error);
    writes.persistedSeq.delete(id);
    return true;
  };

  /**
   * A write refused by the store's portfolio count across instances is answered like the in-memory
   * limit. Only a write carrying limits can be refused so: without them, no wrapper (a promise less a send).
   */
  const writeGated = (handle: StrategyHandle, event: StrategyEvent) =>
    !options.limits
      ? writes.writeAhead(handle, handle.prepare(event, gate.gateFor(handle)))
      : attempt(
          () => writes.writeAhead(handle, handle.prepare(event, gate.gateFor(handle))),
          (error) => {
            if (!(error instanceof PortfolioLimitRefusal)) throw error;
            return writes.writeAhead(
              handle,
              handle.prepare(event, () => ({ code: error.code, reason: error.reason })),
            );
          },
        );

  /**
   * `send`, or for an invoked actor's request (`asked`), nothing when its turn in the strategy's
   * queue comes after the stay it was asked in ended: the writes queued before it moved the
   * strategy on (or a rollback replaced the actor that asked), so nobody vouches for it any more.
   * An emergency exit still stands then while a position is held (see {@link RequestAsked}).
   */
  const sendAsked = (id: string, event: StrategyEvent, asked: RequestAsked | undefined): MaybePromise<TriggerResult | undefined> => {
    const fenced = ownership?.fencedError(id);
    if (fenced) return Promise.reject(fenced);
    const handle = handleOf(id);
    return queues.run(id, () => {
      ownership?.check(id);
      if (asked && !asked()) return undefined;
      return attempt(
        () => writeGated(handle, event),
        (error) => {
          throw (lostOwnership(id, error) ? ownership?.fencedError(id) : undefined) ?? error;
        },
        // Returns the slot the gate reserved when the trigger did not take it (write failed, refused).
        () => settleSlot(handle),
      );
    });
  };
  // Without `asked`, always a result.
  const send = (id: string, event: StrategyEvent) => sendAsked(id, event, undefined) as MaybePromise<TriggerResult>;

  /** A system-wide operation's sends (suspendAll, resumeAll): a broadcast to `targets`, each failed write's entry its error. */
  const sendToAll: SendToAll = (targets, event) =>
    broadcast(targets, send, event, {
      has: (id) => strategies.has(id),
      onError: (_id, error) => (error instanceof Error ? error : new Error(String(error))),
    });

  // Fenced like `send`: a strategy another instance owns now is let go, and its exits stop.
  const deliver: SystemCore['deliver'] = (handle, event) =>
    queues.run(handle.id, () => {
      ownership?.check(handle.id);
      return attempt(
        () => writes.writeAhead(handle, handle.prepare(event, undefined), true),
        (error) => {
          const fenced = lostOwnership(handle.id, error) ? ownership?.fencedError(handle.id) : undefined;
          throw fenced ?? error;
        },
      );
    });
  const safety = createPersistentSafety({
    store,
    coordinator,
    clock,
    handles,
    deliver,
    killSwitch: options.killSwitch,
    settled: () => queues.barrier(),
    ...(options.onKillSwitchEnd ? { onKillSwitchEnd: options.onKillSwitchEnd } : {}),
    report: options.onSafetyError ?? ((error, where) => console.error(`strategy system ${where}: background write failed`, error)),
  });

  return {
    ...gate,
    clock,
    store,
    coordinator,
    queues,
    writes,
    safety,
    attach,
    add(source, addOptions) {
      // New ids follow the one rule (restores from the store go through `attach` and keep theirs).
      const idProblem = strategyIdProblem((addOptions as { id?: unknown } | undefined)?.id);
      if (idProblem !== null) throw new InvalidOptionsError('add', 'id', idProblem);
      const hooks = hooksProblem((addOptions as { hooks?: unknown }).hooks);
      if (hooks !== null) throw new InvalidOptionsError('add', hooks.field, hooks.problem);
      const handle = attach(source, addOptions);
      const snapshot = handle.getSnapshot();
      const created: NewStrategy = {
        strategyId: handle.id,
        variant: definitionOf(handle.machine)?.id ?? handle.machine.id,
        params: snapshot.context.params ?? {},
        // Made when the store reads it: a memory store keeps it unread until asked.
        get snapshot() {
          return handle.actorRef.getPersistedSnapshot();
        },
        state: topLevelState(snapshot.value),
        at: snapshot.context.createdAt,
      };
      return then(
        attempt(
          () => store.create(created),
          (error) => {
            detach(handle.id);
            throw error;
          },
        ),
        () => {
          // A restored strategy's records beyond 0 are written with its first transition.
          writes.persistedSeq.set(handle.id, 0);
          // Stored with this instance's lease: a fence of an earlier strategy of the id (taken
          // over, then removed by its new owner) is not this one's. Before, it answered
          // OwnershipLostError to every get, send and remove of the new strategy.
          ownership?.created(handle.id);
          return handle;
        },
      );
    },
    handleOf,
    has: (id) => strategies.has(id),
    ids: () => [...strategies.keys()],
    handles,
    remove: (id) =>
      queues.run(id, () => {
        ownership?.check(id);
        const handle = handleOf(id);
        // From inside its own hook (a synchronous store runs this at once): removing it now would
        // stop the actor under the transition being computed, whose write then finds no strategy.
        if (handle.inTransaction) throw new StrategyInTransitionError(id, 'remove');
        // The committed position, read without waking a dormant strategy: removing one makes no actor.
        const committed = handle.committedView();
        const quantity = committed.snapshot.context.position?.quantity ?? 0;
        // An entry order still working would fill into a strategy that is gone: an untracked position.
        if (quantity > 0 || hasStateTag(committed.state, 'entering')) throw new StrategyNotFlatError(id, committed.state, quantity);
        return then(
          attempt(
            () => store.remove(id),
            (error) => {
              lostOwnership(id, error);
              throw error;
            },
          ),
          () => {
            detach(id);
            writes.persistedSeq.delete(id);
            // The broker routing learns here, before any strategy can be added again under the id,
            // that the orders it placed for this one belong to no strategy now.
            for (const listener of [...removalListeners]) {
              try {
                listener(id);
              } catch (error) {
                // A listener's failure is its own: the strategy is removed, as `remove` answers.
                console.error(`strategy-lifecycle: a removal listener threw for ${id}`, error);
              }
            }
          },
        );
      }),
    send,
    request: sendAsked,
    deliver,
    broadcast: (event, filter, onError) =>
      // Each part of the broadcast lands in one group commit, then the event loop gets a turn.
      broadcast(
        handles().filter((h) => isConcernedBy(event, h) && (!filter || filter(h))),
        send,
        event,
        { has: (id) => strategies.has(id), onError },
      ),
    // Each decides from committed states: the writes already on their way are committed (or failed)
    // first, so a strategy moving into READY as the operator suspends is suspended, not skipped.
    suspendAll: (reason) => {
      checkReason('suspendAll', reason);
      return then(queues.barrier(), () => suspendAll(handles(), sendToAll, reason));
    },
    resumeAll: () => then(queues.barrier(), () => resumeAll(handles(), sendToAll)),
    summary: () => summarize(strategies.values(), clock.now(), coordinator.getSnapshot().context.tradingState, gate.slots),
    subscribe: registry.subscribe,
    subscribeRemovals: (listener) => {
      removalListeners.add(listener);
      return () => void removalListeners.delete(listener);
    },
    settleSlot,
    detach,
    lostOwnership,
    useOwnership: (keeper) => void (ownership = keeper),
    stop() {
      for (const handle of strategies.values()) handle.stop();
      coordinator.stop();
    },
  };
}
