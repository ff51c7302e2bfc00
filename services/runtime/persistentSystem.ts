import type { TradingState } from '../../guards/portfolio.js';
import type { TradingStateChange } from '../../machines/coordinator.js';
import { definitionOf } from '../../machines/createStrategyMachine.js';
import type { StrategyDefinition } from '../../machines/definition.js';
import {
  mustExist,
  OwnershipLostError,
  PortfolioLimitRefusal,
  StoreConflictError,
  type StoreUnavailableError,
  StrategyNotFlatError,
} from '../../machines/errors.js';
import type { StrategyEvent } from '../../machines/events.js';
import { topLevelState } from '../../machines/states.js';
import type { BrokerAdapter } from '../broker/broker.js';
import type { Clock } from '../market/clock.js';
import { readAuditPage, type AuditPageQuery, type AuditTrailPage } from './auditPages.js';
import { pendingDelay } from './durableDelays.js';
import type { AfterEvent } from '../../machines/events.js';
import type { KillSwitchResult } from './killSwitch.js';
import { createLeaseKeeper, restoreAtStart } from './leaseRound.js';
import { createRestorer, DEFAULT_RESTORE_WINDOW, loadForRestore } from './restoreStrategies.js';
import { createPersistentSafety, type KillSwitchRun } from './persistentSafety.js';
import { createStoreWrites } from './storeWrites.js';
import type { StrategyStore } from '../store/types.js';
import type { StrategyActor, StrategyHandle, TransitionListener, TriggerResult } from './strategyActor.js';
import { createSystemCore, type AddStrategyOptions, type StrategySystemOptions } from './strategySystem.js';
import {
  broadcast as runBroadcast,
  isConcernedBy,
  resumeAll as runResumeAll,
  suspendAll as runSuspendAll,
  type SystemOperationResult,
} from './systemOperations.js';
import type { SystemSummary } from './systemSummary.js';

/** What reconciliation with the broker found on restore. */
export interface ReconciliationReport {
  checked: number;
  /** Strategies whose position differs from the broker's: each is now held in ERROR. */
  mismatches: Array<{ strategyId: string; expected: number; broker: number }>;
  /** Broker positions of strategies this system does not hold. */
  unknown: Array<{ strategyId: string; quantity: number }>;
}

/** Options of {@link openStrategySystem}. */
export interface PersistentSystemOptions extends StrategySystemOptions {
  store: StrategyStore;
  /** Every variant the store may hold; a stored strategy of another variant is an error. */
  variants: readonly StrategyDefinition[];
  /** Delay before a deadline whose write failed is tried again (default 1 s of the clock). */
  retryMs?: number;
  /**
   * Checked on restore: each strategy's position is compared with the broker's, and a mismatch
   * holds the strategy in ERROR ("position mismatch: expected X, broker has Y") for an operator.
   */
  broker?: BrokerAdapter;
  /** Told about writes that failed in the background (deadlines); default console.error. */
  onStoreError?: (error: unknown, strategyId: string) => void;
  /**
   * Audit records each strategy keeps in memory (default {@link DEFAULT_AUDIT_WINDOW}, 100): the
   * newest, loaded at restore with one query; older pages are read from the store
   * ({@link PersistentStrategySystem.readAuditTrail}). Used instead of `auditLimit`.
   */
  auditWindow?: number;
  /**
   * Audit records of each strategy loaded at restore (default {@link DEFAULT_RESTORE_WINDOW}, 32,
   * at most `auditWindow`): restore time does not grow with history. Until new records fill it,
   * a restored strategy's `getAuditTrail()` holds these; `readAuditTrail` pages are whole either way.
   */
  restoreWindow?: number;
}

/** Audit records a persistent system's strategy keeps in memory by default (see `auditWindow`). */
export const DEFAULT_AUDIT_WINDOW = 100;

/**
 * A strategy system whose every transition is written ahead: the audit record and the new
 * snapshot are committed in one transaction before the strategy moves, and `send` resolves
 * after the commit. A failing store rejects with {@link StoreUnavailableError} and leaves the
 * strategy where it was.
 */
export interface PersistentStrategySystem {
  readonly store: StrategyStore;
  /** The one clock of every strategy in the system. */
  readonly clock: Clock;
  /** What the restore's broker reconciliation found (empty without a broker). */
  readonly reconciliation: ReconciliationReport;
  readonly tradingState: TradingState;
  /** @throws {StoreUnavailableError} */
  add(definition: StrategyDefinition, options: Omit<AddStrategyOptions, 'snapshot'>): Promise<StrategyActor>;
  /** @throws {OwnershipLostError} for a strategy another instance took over from this one. */
  get(id: string): StrategyActor;
  has(id: string): boolean;
  ids(): string[];
  /**
   * @throws {StoreUnavailableError} when the write fails: the strategy did not move.
   * {@link OwnershipLostError} when another instance owns the strategy (this one lets go of it).
   */
  send(id: string, event: StrategyEvent): Promise<TriggerResult>;
  broadcast(
    event: StrategyEvent,
    filter?: (strategy: StrategyActor) => boolean,
  ): Promise<Record<string, TriggerResult | StoreUnavailableError>>;
  /**
   * Removes a flat strategy from the store and the system.
   * @throws {StrategyNotFlatError}; {@link OwnershipLostError} when another instance owns it (nothing is deleted).
   */
  remove(id: string): Promise<void>;
  summary(): SystemSummary;
  subscribe(listener: TransitionListener): () => void;
  suspendAll(reason: string): Promise<SystemOperationResult>;
  resumeAll(): Promise<SystemOperationResult>;
  /**
   * Writes the change (kept in the store's history, with who made it) before it answers; then the
   * trading state is that one, also after a restart. Default operator `system`.
   * @throws {StoreUnavailableError} when the write fails: the trading state did not change.
   */
  setTradingState(state: TradingState, reason: string, operator?: string): Promise<TradingStateChange>;
  /** Every trading state change, oldest first, as stored. */
  tradingStateHistory(): readonly TradingStateChange[];
  /**
   * Calls `listener` with every trading state change from now on: this instance's, and another
   * instance's as soon as this one learns it (NOTIFY, a lease round, a refused write).
   * @returns a function that stops it.
   */
  subscribeTradingState(listener: (change: TradingStateChange) => void): () => void;
  /** {@link PersistentStrategySystem.startKillSwitch} and its outcome. */
  killSwitch(reason: string, operator?: string): Promise<KillSwitchResult>;
  /**
   * Stores HALTED and the kill switch's first step, then resolves; `done` follows the flattening,
   * each outcome stored as it comes. A restart before it ends carries on where it was. On a shared
   * store every instance flattens what it holds (and what it claims while the run is active) and
   * records its own steps; `done` resolves once no instance has a strategy left holding a position.
   * @throws {StoreUnavailableError} when HALTED cannot be written.
   */
  startKillSwitch(reason: string, operator?: string): Promise<KillSwitchRun>;
  /** The kill switch this open carried on from the store, if one had not finished. */
  readonly resumedKillSwitch: KillSwitchRun | undefined;
  /**
   * One page of a strategy's audit trail, oldest first: the newest records from memory, older
   * ones from the store; pass `next` as `before` for the page before it.
   * @throws {UnknownStrategyError}; {@link OwnershipLostError}; {@link StoreUnavailableError}
   */
  readAuditTrail(id: string, query?: AuditPageQuery): Promise<AuditTrailPage>;
  /** Resolves when every queued write (deadline firings included) has been made. */
  flush(): Promise<void>;
  /** Waits for pending writes, stops every strategy and closes the store. */
  close(): Promise<void>;
}

/**
 * Opens a strategy system over a store: every stored strategy comes back (snapshot, the newest
 * `restoreWindow` audit records, statistics) with its deadlines re-armed at their original absolute times; a deadline that
 * passed while the process was down fires at once, in deadline order, and is written like any
 * transition.
 *
 * @example
 * ```ts
 * const system = await openStrategySystem({ store: new SqliteStore('./data/strategy-lifecycle.db'), variants: [zeroDte, lt112, strangle] });
 * await system.add(lt112, { id: 'lt112-spx', params: { underlying: 'SPX' } });
 * const result = await system.send('lt112-spx', { type: 'MARKET_OPEN' }); // resolved after the commit
 * ```
 * @throws {SchemaVersionError} when the store was written by a newer version.
 */
export async function openStrategySystem(options: PersistentSystemOptions): Promise<PersistentStrategySystem> {
  const { store } = options;
  const variants = new Map(options.variants.map((def) => [def.id, def]));
  const queues = new Map<string, Promise<unknown>>();
  const retryMs = options.retryMs ?? 1000;
  const reportStoreError = options.onStoreError ?? ((error, id) => console.error(`strategy ${id}: background write failed`, error));

  /** Runs `task` after every earlier task of the same strategy: one write at a time, in order. */
  const enqueue = <T>(id: string, task: () => Promise<T>): Promise<T> => {
    const run = (queues.get(id) ?? Promise.resolve()).then(task, task);
    const settled = run.catch(() => undefined);
    queues.set(id, settled);
    void settled.then(() => {
      if (queues.get(id) === settled) queues.delete(id);
    });
    return run;
  };

  const auditWindow = options.auditWindow ?? DEFAULT_AUDIT_WINDOW;
  const core = createSystemCore({
    ...options,
    auditLimit: auditWindow,
    directTrigger: false,
    // Delayed transitions fire into the write queue instead of straight into the strategy.
    routeDelay: (id, event) => void onDeadline(id, event),
    // An invoked actor's request is written first, like any send.
    routeRequest: (id, event) =>
      void Promise.resolve()
        .then(() => send(id, event))
        .catch((error: unknown) => reportStoreError(error, id)),
  });
  const { system } = core;

  const writes = createStoreWrites({
    store,
    core,
    limits: options.limits,
    enqueue,
    // Another instance changed the trading state: learn it (the trigger is audited as refused).
    onTradingStateRefusal: () => void safety.refresh(),
    onBackgroundError: (id, error) => fenceOrReport(id, error),
  });
  const { persistedSeq, writeAhead } = writes;

  const onDeadline = (id: string, event: AfterEvent & { at: number; dueAt: number }): Promise<void> =>
    enqueue(id, async () => {
      if (!system.has(id)) return;
      const handle = core.handleOf(id);
      const pending = pendingDelay(handle.machine, handle.getSnapshot());
      if (pending?.type !== event.type || pending.dueAt !== event.dueAt) return; // superseded while queued
      const seqBefore = handle.getSnapshot().context.lastRecord?.seq ?? 0;
      try {
        await writeAhead(handle, { kind: 'event', event, seqBefore, hooksAfter: true });
      } catch (error) {
        if (lostOwnership(id, error)) return reportStoreError(error, id);
        // The deadline stays due in memory and in the store: try again until the store is back.
        reportStoreError(error, id);
        handle.clock.setTimeout(() => void onDeadline(id, event), retryMs);
      }
    });

  /**
   * Fenced: another instance owns this strategy now (or its stored copy moved on without this
   * one); this instance lets go of its copy whatever the position, and answers ownership errors.
   */
  const lostOwnership = (id: string, error: unknown): boolean => {
    if (!(error instanceof StoreConflictError) || !store.maintainLeases) return false;
    leases.fence(id, error instanceof OwnershipLostError ? error : new OwnershipLostError(id, store.instanceId ?? '?', error.message));
    persistedSeq.delete(id);
    return true;
  };

  /** A background write failed: fenced when another instance owns the strategy now, reported either way. */
  const fenceOrReport = (id: string, error: unknown) => {
    lostOwnership(id, error);
    reportStoreError(error, id);
  };

  /**
   * Writes a trigger ahead of its commit. Refused by the store's portfolio count across
   * instances, it is answered and audited like the in-memory limit: the strategy stays put.
   */
  const writeGated = async (handle: StrategyHandle, event: StrategyEvent): Promise<TriggerResult> => {
    try {
      return await writeAhead(handle, handle.prepare(event, core.gateFor(handle)));
    } catch (error) {
      if (!(error instanceof PortfolioLimitRefusal)) throw error;
      return await writeAhead(
        handle,
        handle.prepare(event, () => ({ code: error.code, reason: error.reason })),
      );
    }
  };

  const send = (id: string, event: StrategyEvent): Promise<TriggerResult> => {
    const fenced = leases.fencedError(id);
    if (fenced) return Promise.reject(fenced);
    const handle = core.handleOf(id);
    return enqueue(id, async () => {
      leases.check(id);
      try {
        return await writeGated(handle, event);
      } catch (error) {
        lostOwnership(id, error);
        throw error;
      } finally {
        // Returns the slot the gate reserved when the trigger did not take it (write failed, refused).
        core.settleSlot(handle);
      }
    });
  };

  const restore = createRestorer({
    variants,
    system,
    persisted: (strategyId, seq) => persistedSeq.set(strategyId, seq),
  });

  const safety = createPersistentSafety({
    store,
    coordinator: system.actorRef,
    clock: system.clock,
    handles: () => system.ids().map((id) => core.handleOf(id)),
    // Fenced like `send`: a strategy another instance owns now is let go, and its exits stop.
    deliver: (handle, event) =>
      enqueue(handle.id, async () => {
        leases.check(handle.id);
        return writeAhead(handle, handle.prepare(event, undefined), true).catch((error: unknown) => {
          throw lostOwnership(handle.id, error) ? mustExist(leases.fencedError(handle.id), 'the fenced error') : error;
        });
      }),
    killSwitch: options.killSwitch,
    report: (error, where) => reportStoreError(error, where),
  });

  store.bindClock?.(system.clock);
  await store.open();
  // Listen first, then load: a change between the two is not missed.
  const unwatch = await store.watchSystemState?.(() => void safety.refresh());
  // The trading state is back before any strategy starts (restored deadlines fire as they start).
  const storedSafety = await safety.restore();
  const restoreWindow = Math.min(auditWindow, options.restoreWindow ?? DEFAULT_RESTORE_WINDOW);
  const stored = await loadForRestore(store, restoreWindow);
  try {
    restoreAtStart(stored, restore, store, reportStoreError);
  } catch (error) {
    system.stop();
    await unwatch?.().catch(() => undefined);
    await safety.close();
    await store.close();
    throw error;
  }

  const leases = createLeaseKeeper({
    store,
    clock: system.clock,
    instanceId: store.instanceId ?? '?',
    has: (id) => system.has(id),
    detach: (id) => {
      core.detach(id);
      persistedSeq.delete(id);
    },
    restore,
    window: restoreWindow,
    enqueue,
    report: reportStoreError,
    // Every lease round also reloads the shared trading state (a NOTIFY may have been missed).
    beforeRound: () => safety.refresh(),
    // A strategy claimed while a kill switch is active is flattened by its new owner.
    afterRound: () => safety.adopt(),
  });
  leases.start();

  /** Compares every restored position with the broker's; a mismatch never silently continues. */
  const reconcile = async (broker: BrokerAdapter): Promise<ReconciliationReport> => {
    const report: ReconciliationReport = { checked: 0, mismatches: [], unknown: [] };
    const held = new Map((await broker.positions()).map((p) => [p.strategyId, p.quantity]));
    for (const id of system.ids()) {
      report.checked++;
      const strategy = system.get(id);
      const expected = strategy.getSnapshot().context.position?.quantity ?? 0;
      const actual = held.get(id) ?? 0;
      held.delete(id);
      if (expected === actual) continue;
      report.mismatches.push({ strategyId: id, expected, broker: actual });
      const reason = `position mismatch: expected ${expected}, broker has ${actual}`;
      await send(
        id,
        strategy.state === 'ERROR' || strategy.state === 'TERMINATED'
          ? { type: 'MANUAL_OVERRIDE', target: 'ERROR', reason, operator: 'reconciliation', hold: true }
          : { type: 'SYSTEM_ERROR', reason, hold: true },
      );
    }
    for (const [strategyId, quantity] of held) report.unknown.push({ strategyId, quantity });
    return report;
  };
  const reconciliation = options.broker ? await reconcile(options.broker) : { checked: 0, mismatches: [], unknown: [] };
  const resumedKillSwitch = safety.resume(storedSafety);

  const persistent: PersistentStrategySystem = {
    store,
    clock: system.clock,
    reconciliation,
    resumedKillSwitch,
    get tradingState() {
      return system.tradingState;
    },
    async add(definition, addOptions) {
      const handle = system.add(definition, addOptions) as StrategyHandle;
      const snapshot = handle.getSnapshot();
      try {
        await store.create({
          strategyId: handle.id,
          variant: definitionOf(handle.machine)?.id ?? handle.machine.id,
          params: snapshot.context.params ?? {},
          snapshot: handle.actorRef.getPersistedSnapshot(),
          state: topLevelState(snapshot.value),
          at: snapshot.context.createdAt,
        });
      } catch (error) {
        system.remove(handle.id);
        throw error;
      }
      persistedSeq.set(handle.id, 0);
      return handle;
    },
    get: (id) => {
      leases.check(id);
      return system.get(id);
    },
    has: (id) => system.has(id),
    ids: () => system.ids(),
    send,
    async broadcast(event, filter) {
      const targets = system
        .ids()
        .map((id) => core.handleOf(id))
        .filter((h) => isConcernedBy(event, h) && (!filter || filter(h)));
      // Each part of the broadcast lands in one group commit, then the event loop gets a turn.
      return runBroadcast(targets, send, event, { has: (id) => system.has(id), onError: (_id, error) => error as StoreUnavailableError });
    },
    remove: (id) =>
      enqueue(id, async () => {
        leases.check(id);
        const handle = core.handleOf(id);
        const quantity = handle.getSnapshot().context.position?.quantity ?? 0;
        if (quantity > 0) throw new StrategyNotFlatError(id, handle.state, quantity);
        try {
          await store.remove(id);
        } catch (error) {
          lostOwnership(id, error);
          throw error;
        }
        system.remove(id);
        persistedSeq.delete(id);
      }),
    readAuditTrail: async (id, query) => readAuditPage(store, id, persistent.get(id).getAuditTrail(), query),
    summary: () => system.summary(),
    subscribe: (listener) => system.subscribe(listener),
    suspendAll: async (reason) =>
      runSuspendAll(
        system.ids().map((id) => core.handleOf(id)),
        send,
        reason,
      ),
    resumeAll: async () =>
      runResumeAll(
        system.ids().map((id) => core.handleOf(id)),
        send,
      ),
    setTradingState: (state, reason, operator = 'system') => safety.setTradingState(state, reason, operator),
    tradingStateHistory: () => system.tradingStateHistory(),
    subscribeTradingState: (listener) => safety.subscribeTradingState(listener),
    startKillSwitch: (reason, operator = 'kill-switch') => safety.startKillSwitch(reason, operator),
    killSwitch: async (reason, operator) => (await persistent.startKillSwitch(reason, operator)).done,
    async flush() {
      while (queues.size > 0) await Promise.all([...queues.values()]);
    },
    async close() {
      leases.stop();
      await unwatch?.().catch(() => undefined);
      await safety.close();
      await persistent.flush();
      system.stop();
      await store.close();
    },
  };
  return persistent;
}
