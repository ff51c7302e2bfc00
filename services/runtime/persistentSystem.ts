import type { TradingState } from '../../guards/portfolio.js';
import { slotHeldPerRecords } from './portfolioGate.js';
import { checkSystemOptions } from './systemOptions.js';
import type { TradingStateChange } from '../../machines/coordinator.js';
import type { StrategyDefinition } from '../../machines/definition.js';
import { InvalidDefinitionError, InvalidOptionsError, ReconciliationError, type StoreUnavailableError } from '../../machines/errors.js';
import type { StrategyEvent } from '../../machines/events.js';
import type { BrokerAdapter } from '../broker/broker.js';
import type { Clock } from '../market/clock.js';
import { storeBackedTrail } from './auditChunks.js';
import { readAuditPage, type AuditPageQuery, type AuditTrailPage } from './auditPages.js';
import { pendingDelay } from './durableDelays.js';
import type { AfterEvent, HookFailedEvent } from '../../machines/events.js';
import type { KillSwitchResult } from './killSwitch.js';
import { createLeaseKeeper, restoreAtStart, type LeaseChange } from './leaseRound.js';
export type { LeaseChange } from './leaseRound.js';
import { createRestorer, DEFAULT_RESTORE_WINDOW, loadForRestore } from './restoreStrategies.js';
import { wakeInBackground } from './dormantRestore.js';
import type { KillSwitchEnd, KillSwitchRun } from './persistentSafety.js';
import { reconcile, type ReconciliationReport } from './reconciliation.js';
import type { StrategyStore } from '../store/types.js';
import type { CommittedStrategy } from './handleTypes.js';
import type { StrategyActor, TransitionListener, TriggerResult } from './strategyActor.js';
import type { AddStrategyOptions, StrategySystemOptions } from './strategySystem.js';
import { createSystemCore, type SystemCore } from './systemCore.js';
import type { SystemOperationResult } from './systemOperations.js';
import type { SystemSummary } from './systemSummary.js';

export type { ReconciliationReport } from './reconciliation.js';
export type { CommittedStrategy } from './handleTypes.js';

/** Options of {@link openStrategySystem}. */
export interface PersistentSystemOptions extends Omit<StrategySystemOptions, 'store'> {
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
   * Told each change of this instance's leases (a store shared by several instances): a strategy
   * taken over here, lost to another instance, or reloaded after a lost answer. For the operator's log.
   */
  onLeaseChange?: (change: LeaseChange) => void;
  /**
   * Told once when each kill switch run this instance takes part in ends, whatever started it
   * (`startKillSwitch`, `killSwitch`, a run resumed at this open or joined from another instance):
   * `flat`, `failed` (some strategy could not be flattened) or `interrupted` (closed first). For
   * the operator's metrics; a throw is reported to `onStoreError`.
   */
  onKillSwitchEnd?: (end: KillSwitchEnd) => void;
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
  /**
   * Transition listeners subscribed before the restore: they hear every record committed while the
   * system opens (a deadline overdue at the open fires then), which {@link PersistentStrategySystem.subscribe}
   * called after the open cannot. The same function subscribed again later is not told twice.
   */
  listeners?: readonly TransitionListener[];
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
  /**
   * The strategy, woken first if it is dormant (its actor made and started): for anything that acts
   * on it or reads its trail. Read-only views of its committed state use {@link peek}.
   * @throws {UnknownStrategyError}; {@link OwnershipLostError} for a strategy another instance took over from this one.
   */
  get(id: string): StrategyActor;
  /**
   * The strategy's committed state (state, value, context, status) without waking it: a dormant
   * strategy answers from its stored snapshot, exactly as it would once live. For listings, counts
   * and metrics; `ids().map(peek)` makes no actor.
   * @throws {UnknownStrategyError}; {@link OwnershipLostError} as `get`.
   */
  peek(id: string): CommittedStrategy;
  has(id: string): boolean;
  ids(): string[];
  /**
   * Never throws: every failure rejects the promise.
   * @throws {StoreUnavailableError} when the write fails: the strategy did not move.
   * {@link OwnershipLostError} when another instance owns the strategy (this one lets go of it).
   * {@link UnknownStrategyError} for an id the system does not hold.
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
  /**
   * Tells `listener` the id of each strategy this instance's `remove` removed, as it is removed
   * (the trading day's broker routing uses it: a late fill of the removed strategy's order reaches
   * no strategy).
   */
  subscribeRemovals(listener: (strategyId: string) => void): () => void;
  /** @throws {InvalidOptionsError} (rejects) for a `reason` that is not storable text (see setTradingState). */
  suspendAll(reason: string): Promise<SystemOperationResult>;
  resumeAll(): Promise<SystemOperationResult>;
  /**
   * Writes the change (kept in the store's history, with who made it) before it answers; then the
   * trading state is that one, also after a restart. Default operator `system`.
   * @throws {InvalidOptionsError} (rejects, nothing written) when `state` is not ACTIVE, REDUCING
   * or HALTED (option `state`), when `reason` is not a string of at
   * most 500 characters, or `operator` one of at most 64, or either holds a NUL character or half
   * of a surrogate pair, or HALTED's `reason` starts with `kill switch: ` (the kill switch's own
   * mark, which a restart carries on as an interrupted kill switch: use `startKillSwitch`).
   * @throws {StoreUnavailableError} when the write fails: the trading state did not change, except when
   * a PostgreSQL connection dropped after the server received the COMMIT (then it may have, and
   * `tradingState()` shows it after the next refresh; setting the same state again is safe: one
   * more change is kept in the history).
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
   * Never refused for its text: a `reason` or `operator` that cannot be stored (not a string, a NUL,
   * too long) is made storable and recorded so (see docs/system.md).
   * A first step the store refuses once HALTED is stored (the disk filling between the two
   * writes) is reported to `onStoreError` and stored with the next step; the exits start anyway.
   * @throws {StoreUnavailableError} when HALTED cannot be written.
   */
  startKillSwitch(reason: string, operator?: string): Promise<KillSwitchRun>;
  /** The kill switch this open carried on from the store, if one had not finished. */
  readonly resumedKillSwitch: KillSwitchRun | undefined;
  /**
   * One page of a strategy's audit trail, oldest first: the newest records from memory, older
   * ones from the store; pass `next` as `before` for the page before it. `before` is a whole seq
   * from 1, `limit` a whole number from 1 to 1,000 (`MAX_AUDIT_PAGE`; see {@link AuditPageQuery}).
   * @throws {UnknownStrategyError}; {@link InvalidOptionsError} for a bound out of its domain
   *   (NaN, Infinity, a fraction, a negative, a string, a `limit` above 1,000, an `after`), naming it
   *   and its value; {@link OwnershipLostError}; {@link StoreUnavailableError}
   */
  readAuditTrail(id: string, query?: AuditPageQuery): Promise<AuditTrailPage>;
  /** Resolves when every queued write (deadline firings included) has been made. */
  flush(): Promise<void>;
  /**
   * Resolves when every strategy restored at the open is live (its actor started). The open
   * resolves first: strategies with nothing to run at once wake after it, a batch per turn of the
   * event loop, or earlier when something needs them (a send, `get`, a broadcast).
   */
  whenLive(): Promise<void>;
  /** Waits for pending writes, stops every strategy and closes the store. */
  close(): Promise<void>;
}

/** Pages read back through a stored trail for the record that decides a restored slot, at most (100k records). */
const SLOT_PAGES = 1000;

/**
 * Settles the restored slots the trail in memory could not decide (a flat ERROR or SUSPENDED
 * strategy whose move into it is older than the restore window): the newest state change in the
 * store's trail says whether the state it came from held a slot.
 */
async function decideSlotsFromStore(
  store: StrategyStore,
  core: SystemCore,
  closed: () => boolean,
  report: (error: unknown, strategyId: string) => void,
): Promise<void> {
  for (const id of core.undecidedSlots()) {
    try {
      let before: number | undefined;
      let holds: boolean | undefined;
      for (let page = 0; page < SLOT_PAGES && holds === undefined && !closed(); page++) {
        const records = await store.readAuditTrail(id, before === undefined ? { limit: 100 } : { before, limit: 100 });
        holds = slotHeldPerRecords(records);
        if (records.length === 0 || records[0].seq <= 1) break;
        before = records[0].seq;
      }
      if (closed()) return;
      // Still undecided (no record says): the slot stays held, the safe side.
      if (holds !== undefined) core.decideSlot(id, holds);
    } catch (error) {
      // This one stays held (the safe side); the others are still decided.
      if (!closed()) report(error, id);
    }
  }
}

/**
 * Opens a strategy system over a store: every stored strategy comes back (snapshot, the newest
 * `restoreWindow` audit records, statistics) with its deadlines re-armed at their original absolute times; a deadline that
 * passed while the process was down fires at once, in deadline order, and is written like any
 * transition. Strategies with nothing to run at once (no pending deadline, no invoked actor of the
 * user's) are registered dormant and get their actors after the open resolves, in the background
 * ({@link PersistentStrategySystem.whenLive}), or at once when something needs them.
 *
 * @example
 * ```ts
 * const system = await openStrategySystem({ store: new SqliteStore('./data/strategy-lifecycle.db'), variants: [zeroDte, lt112, strangle] });
 * await system.add(lt112, { id: 'lt112-spx', params: { underlying: 'SPX' } });
 * const result = await system.send('lt112-spx', { type: 'MARKET_OPEN' }); // resolved after the commit
 * ```
 * @throws {SchemaVersionError} when the store was written by a newer version.
 * @throws {ReconciliationError} when the `broker`'s positions could not be read or a mismatch not held (the store is closed again).
 */
export async function openStrategySystem(options: PersistentSystemOptions): Promise<PersistentStrategySystem> {
  checkSystemOptions(options, true);
  const { store } = options;
  const variants = new Map(options.variants.map((def) => [def.id, def]));
  const retryMs = options.retryMs ?? 1000;
  const reportStoreError = options.onStoreError ?? ((error, id) => console.error(`strategy ${id}: background write failed`, error));

  const auditWindow = options.auditWindow ?? DEFAULT_AUDIT_WINDOW;
  // The one system implementation over this store (see systemCore.ts); what follows adds restore,
  // leases, durable deadlines and reconciliation around it.
  const core = createSystemCore({
    ...options,
    store,
    // The store holds every record: the window in memory is kept compactly.
    ...storeBackedTrail(auditWindow),
    // Records beyond the store (written later from the trail: an actor's report at a restore) stay in it until written.
    storedThrough: (id) => core.writes.persistedSeq.get(id) ?? 0,
    directTrigger: false,
    // Delayed transitions fire into the write queue instead of straight into the strategy.
    routeDelay: (id, event) => void onDeadline(id, event),
    // So does a hook failure after a committed transition: a forced ERROR is written before it shows.
    routeHookFailure: (id, event) => onHookFailure(id, event),
    // An invoked actor's request is written first, like any send.
    routeRequest: (id, event, asked) =>
      void Promise.resolve()
        .then(() => core.request(id, event, asked))
        .catch((error: unknown) => reportStoreError(error, id)),
    // Another instance changed the trading state: learn it (the trigger is audited as refused).
    onTradingStateRefusal: () => void safety.refresh(),
    onBackgroundError: (id, error) => reportStoreError(error, id),
    onSafetyError: (error, where) => reportStoreError(error, where),
  });
  // Before anything is restored: a deadline overdue at the open commits before the open resolves.
  for (const listener of options.listeners ?? []) core.subscribe(listener);
  const { persistedSeq, writeAhead } = core.writes;
  const enqueue = <T>(id: string, task: () => Promise<T>): Promise<T> => core.queues.run(id, task) as Promise<T>;
  /** What the restore section starts strategies through (memory only: they are stored already). */
  const system = { add: core.attach, stop: core.stop };

  const onDeadline = (id: string, event: AfterEvent & { at: number; dueAt: number }): Promise<void> =>
    enqueue(id, async () => {
      if (!core.has(id)) return;
      const handle = core.handleOf(id);
      const pending = pendingDelay(handle.machine, handle.getSnapshot());
      if (pending?.type !== event.type || pending.dueAt !== event.dueAt) return; // superseded while queued
      const last = handle.getSnapshot().context.lastRecord;
      const seqBefore = last?.seq ?? 0;
      // Never stamped before the record it follows: the trail's time runs forward along its seqs.
      const stamped = last && last.at > event.at ? { ...event, at: last.at } : event;
      try {
        await writeAhead(handle, { kind: 'event', event: stamped, seqBefore, hooksAfter: true });
      } catch (error) {
        if (core.lostOwnership(id, error)) return reportStoreError(error, id);
        // The deadline stays due in memory and in the store: try again until the store is back,
        // stamped with the time the retry happens (the strategy stayed where it was until then).
        reportStoreError(error, id);
        if (closed) return;
        const retry = { clock: handle.clock, timer: undefined as unknown };
        retry.timer = handle.clock.setTimeout(() => {
          deadlineRetries.delete(retry);
          void onDeadline(id, { ...event, at: handle.clock.now() });
        }, retryMs);
        deadlineRetries.add(retry);
      }
    });
  /** Deadline writes waiting for their retry: `close()` cancels them, so none fires after it. */
  const deadlineRetries = new Set<{ clock: Clock; timer: unknown }>();

  // Async: an unknown id (or any throw before the pipeline) rejects the promise instead of throwing at the caller.
  const send = async (id: string, event: StrategyEvent): Promise<TriggerResult> => core.send(id, event);

  /**
   * A hook that threw after a committed transition: its record (and, at `maxErrors`, the forced
   * ERROR) is written like any transition, after the strategy's current write. A failed write
   * leaves the strategy as stored and reports the error; the hook's failure is in that report.
   */
  const onHookFailure = (id: string, event: HookFailedEvent & { at: number }): void => {
    const write = () =>
      enqueue(id, async () => {
        if (!core.has(id)) return;
        const handle = core.handleOf(id);
        const seqBefore = handle.getSnapshot().context.lastRecord?.seq ?? 0;
        try {
          await writeAhead(handle, { kind: 'event', event, seqBefore, hooksAfter: false });
        } catch (error) {
          core.lostOwnership(id, error); // fenced: this instance lets the strategy go
          reportStoreError(error, id);
        }
      });
    // A synchronous store runs an idle strategy's task at once: not inside the commit that called us.
    if (core.store.synchronous === true) queueMicrotask(() => void write());
    else void write();
  };

  const restore = createRestorer({ variants, system, persisted: (id, seq) => persistedSeq.set(id, seq) });

  const { safety } = core;

  store.bindClock?.(core.clock);
  await store.open();
  // Deadlines that passed while down fire as each strategy starts: loaded in deadline order.
  const restoreWindow = Math.min(auditWindow, options.restoreWindow ?? DEFAULT_RESTORE_WINDOW);
  let unwatch: (() => Promise<void>) | undefined;
  /** Set by close(): the background slot decisions stop and report nothing after it. */
  let closed = false;
  let storedSafety: Awaited<ReturnType<typeof safety.restore>>;
  try {
    // Listen first, then load: a change between the two is not missed.
    unwatch = await store.watchSystemState?.(() => void safety.refresh());
    // The trading state is back before any strategy starts (restored deadlines fire as they start).
    storedSafety = await safety.restore();
    // A damaged page the open did not check (an audit window) fails the load: closed on the way out
    // (the store, its LISTEN connection and its lock: nothing of a failed open is left running).
    // Checked and registered now; only what must run at once is started (the rest wakes below).
    restoreAtStart(await loadForRestore(store, restoreWindow), (stored) => restore(stored, true), store, reportStoreError);
    // Slots the restored trails could not decide are held meanwhile; the store's older records decide them.
    void decideSlotsFromStore(store, core, () => closed, reportStoreError);
  } catch (error) {
    system.stop();
    await unwatch?.().catch(() => undefined);
    await safety.close();
    await store.close();
    throw error;
  }

  const leases = createLeaseKeeper({
    store,
    clock: core.clock,
    instanceId: store.instanceId ?? '?',
    has: core.has,
    detach: (id) => {
      core.detach(id);
      persistedSeq.delete(id);
    },
    restore,
    window: restoreWindow,
    enqueue,
    report: reportStoreError,
    ...(options.onLeaseChange ? { onChange: options.onLeaseChange } : {}),
    // Every lease round also reloads the shared trading state (a NOTIFY may have been missed).
    beforeRound: () => safety.refresh(),
    // A strategy claimed while a kill switch is active is flattened by its new owner.
    afterRound: async () => {
      // Strategies taken over: their slots the trails could not decide, from the store (in the background).
      void decideSlotsFromStore(store, core, () => closed, reportStoreError);
      await safety.adopt();
    },
  });
  core.useOwnership(leases);
  leases.start();

  /** Set once the reconciliation passed: the dormant strategies waking in the background. */
  let wake: ReturnType<typeof wakeInBackground> | undefined = undefined;
  /** Stops all the open started and closes the store: `close()`, and a reconciliation that failed. */
  const shutdown = async (): Promise<void> => {
    closed = true;
    wake?.stop();
    for (const { clock, timer } of deadlineRetries) clock.clearTimeout(timer);
    deadlineRetries.clear();
    leases.stop();
    await unwatch?.().catch(() => undefined);
    await safety.close();
    await core.queues.flush();
    core.stop();
    await store.close();
  };

  let reconciliation: ReconciliationReport = { checked: 0, mismatches: [], unknown: [] };
  try {
    if (options.broker) reconciliation = await reconcile(options.broker, core, send);
  } catch (error) {
    // Closed as close() does: before, a broker down at the open left the store open and locked
    // (a second open in the same process was refused as "open in another process") and timers
    // running, among them the retry of a deadline whose write the store refused meanwhile.
    await shutdown();
    throw new ReconciliationError(error);
  }
  const resumedKillSwitch = safety.resume(storedSafety);
  // The dormant strategies start after the open, a batch per turn of the event loop.
  const woken = wakeInBackground(core.handles, reportStoreError);
  wake = woken;

  const persistent: PersistentStrategySystem = {
    store,
    clock: core.clock,
    reconciliation,
    resumedKillSwitch,
    get tradingState() {
      return core.coordinator.getSnapshot().context.tradingState;
    },
    add: async (definition, addOptions) => {
      // Not in its type, but JavaScript callers can pass it: a snapshot's trail is not in this
      // store, so its next write would conflict and a restart would find no trail.
      if ((addOptions as { snapshot?: unknown } | undefined)?.snapshot !== undefined)
        throw new InvalidOptionsError(
          'add',
          'snapshot',
          'is not taken by a persistent system: it restores its strategies from its store, and add creates new ones (add the snapshot to an in-memory system)',
        );
      return core.add(registeredVariant(variants, definition), addOptions);
    },
    get: (id) => {
      leases.check(id);
      const handle = core.handleOf(id);
      handle.wake();
      return handle;
    },
    peek: (id) => {
      leases.check(id);
      return core.handleOf(id).committedView();
    },
    has: core.has,
    ids: core.ids,
    send,
    broadcast: async (event, filter) => core.broadcast(event, filter, (_id, error) => error as StoreUnavailableError),
    remove: async (id) => core.remove(id),
    readAuditTrail: async (id, query) => readAuditPage(store, id, persistent.get(id).getAuditTrail(), query),
    summary: core.summary,
    subscribe: core.subscribe,
    subscribeRemovals: core.subscribeRemovals,
    suspendAll: async (reason) => core.suspendAll(reason),
    resumeAll: async () => core.resumeAll(),
    setTradingState: async (state, reason, operator = 'system') => safety.setTradingState(state, reason, operator),
    tradingStateHistory: () => core.coordinator.getSnapshot().context.changes,
    subscribeTradingState: (listener) => safety.subscribeTradingState(listener),
    startKillSwitch: async (reason, operator = 'kill-switch') => safety.startKillSwitch(reason, operator),
    // Never refused for its text: made storable (see killSwitchText).
    killSwitch: async (reason, operator) => (await persistent.startKillSwitch(reason, operator)).done,
    flush: () => core.queues.flush(),
    whenLive: () => woken.done,
    close: shutdown,
  };
  return persistent;
}

/**
 * The definition `add` may use: the very one the system was opened with under that id. Another
 * would run until the next restart, which restores the strategy with the registered one (other
 * hooks, actors, deadlines) or, for an unknown id, refuses to open the store at all.
 */
function registeredVariant(variants: ReadonlyMap<string, StrategyDefinition>, definition: StrategyDefinition): StrategyDefinition {
  // JavaScript callers: a variant's name (`add('lt112')`) is named as such, not as a definition "undefined".
  if (typeof definition !== 'object' || definition === null) {
    const got =
      typeof definition === 'string' ? `the string "${String(definition).slice(0, 64)}"` : definition === null ? 'null' : typeof definition;
    throw new InvalidDefinitionError(
      '(none)',
      'definition',
      `must be one of the definitions this system was opened with (${[...variants.keys()].join(', ')}), got ${got}`,
    );
  }
  const id = typeof definition?.id === 'string' ? definition.id : String(definition?.id);
  const registered = variants.get(id);
  if (!registered) {
    throw new InvalidDefinitionError(
      id,
      'id',
      `is not among the variants this system was opened with (${[...variants.keys()].join(', ')}): add it to openStrategySystem's \`variants\`, or a restart could not restore its strategies`,
    );
  }
  if (registered !== definition) {
    throw new InvalidDefinitionError(
      id,
      'id',
      "names a variant this system was opened with, but this is another definition object: add strategies with the one given in openStrategySystem's `variants`, so a restart runs the same hooks, actors and settings",
    );
  }
  return registered;
}
