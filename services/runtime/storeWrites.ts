import { holdsPortfolioSlot, type PortfolioLimits } from '../../guards/portfolio.js';
import type { StrategySnapshot } from '../../machines/createStrategyMachine.js';
import { payloadOf } from '../../actions/audit.js';
import { InvariantError, mustExist, TradingStateRefusal } from '../../machines/errors.js';
import { topLevelState } from '../../machines/states.js';
import type { StrategyWrite, SystemStore } from '../store/types.js';
import { runPipeline } from './pipeline.js';
import type { PreparedTrigger, StrategyHandle, Transaction, TriggerResult } from './strategyActor.js';
import type { SystemCore } from './systemCore.js';
import { isThenable, type MaybePromise } from './settle.js';
import { then } from './writeQueue.js';

/**
 * The trigger the store refused, turned into the rejection the in-memory gate would have written:
 * audited in the strategy's trail with TRADING_HALTED or TRADING_REDUCING; the strategy stays put.
 */
function refusedAs(prepared: Extract<PreparedTrigger, { kind: 'event' }>, refusal: TradingStateRefusal): PreparedTrigger {
  const { event } = prepared;
  return {
    kind: 'event',
    seqBefore: prepared.seqBefore,
    hooksAfter: false,
    event: {
      type: 'lifecycle.rejected',
      trigger: event.type,
      reason: refusal.reason,
      code: refusal.code,
      data: payloadOf(event),
      at: event.at,
      ...(event.eventId !== undefined ? { eventId: event.eventId } : {}),
    },
  };
}

/** What the persisted system's writes need from the system around them. */
export interface StoreWritesDeps {
  store: SystemStore;
  core: Pick<SystemCore, 'effectOf' | 'groupOf'>;
  limits: PortfolioLimits | undefined;
  /** Runs `task` after every earlier task of the same strategy. */
  enqueue<T>(id: string, task: () => MaybePromise<T>): MaybePromise<T>;
  /** The store refused a write for its trading state: reload it. */
  onTradingStateRefusal(): void;
  /** A background write (records that followed a commit) failed. */
  onBackgroundError(id: string, error: unknown): void;
}

/** The persisted system's store step of the event pipeline. */
export interface StoreWrites {
  /** Seq of the newest record the store holds, per strategy. */
  persistedSeq: Map<string, number>;
  /**
   * Runs a prepared trigger through the pipeline with the store write: answers after the commit
   * (at once over a synchronous store, else a promise).
   * @throws {StoreUnavailableError} (and the store's other refusals) after the strategy rolled back.
   */
  writeAhead: (handle: StrategyHandle, prepared: PreparedTrigger, privileged?: boolean) => MaybePromise<TriggerResult>;
  /**
   * Writes in the background the records a strategy committed outside a transaction (a hook that
   * failed after a safety transition, an actor's report as the strategy was restored).
   */
  flushLater(handle: StrategyHandle): void;
}

/**
 * The store step of the pipeline: what a transaction writes (records, snapshot, order effect,
 * portfolio slot), and the records a strategy holds beyond the store written first.
 */
export function createStoreWrites(deps: StoreWritesDeps): StoreWrites {
  const persistedSeq = new Map<string, number>();

  /** True when the strategy holds records the store does not (records that followed a commit). */
  const hasUnstoredRecords = (handle: StrategyHandle) =>
    (handle.getSnapshot().context.lastRecord?.seq ?? 0) > (persistedSeq.get(handle.id) ?? 0);

  /** The portfolio slot a strategy holds in `snapshot`, for the store to keep (absent: unchanged). */
  const slotOf = (handle: StrategyHandle, snapshot: StrategySnapshot): Pick<StrategyWrite, 'slot'> => {
    const holds = holdsPortfolioSlot(topLevelState(snapshot.value), snapshot.context.position?.quantity ?? 0);
    return holds === undefined ? {} : { slot: { holds, group: deps.core.groupOf(handle) } };
  };

  /** Writes what is in memory but not yet in the store. */
  const flushStrategy = (handle: StrategyHandle): MaybePromise<void> => {
    if (!hasUnstoredRecords(handle)) return;
    const trail = handle.getAuditTrail();
    const stored = persistedSeq.get(handle.id) ?? 0;
    const snapshot = handle.getSnapshot();
    const last = mustExist(snapshot.context.lastRecord, 'the newest unstored record').seq;
    const records = trail.filter((r) => r.seq > stored);
    // The trail keeps every record the store lacks (AuditWindow's storedThrough): never write a gap
    // after stored records. (A strategy added with a snapshot has none stored: its trail, maybe the
    // newest part of a longer history, is its first write.)
    if (stored > 0 && records[0]?.seq !== stored + 1)
      throw new InvariantError(`record ${stored + 1} of strategy ${handle.id}, to be written after ${stored}`);
    const written = deps.store.append({
      strategyId: handle.id,
      expectedSeq: stored,
      records,
      snapshot: handle.machine.getPersistedSnapshot(snapshot),
      state: topLevelState(snapshot.value),
      at: snapshot.context.lastRecord?.at ?? handle.clock.now(),
      ...slotOf(handle, snapshot),
    });
    return then(written, () => void persistedSeq.set(handle.id, last));
  };

  /** Writes what a strategy holds beyond the store, after its queued writes; a failure goes to `onBackgroundError`. */
  const flushLater = (handle: StrategyHandle): void => {
    if (!hasUnstoredRecords(handle)) return;
    try {
      const flushed = deps.enqueue(handle.id, () => flushStrategy(handle));
      if (flushed instanceof Promise) flushed.catch((e: unknown) => deps.onBackgroundError(handle.id, e));
    } catch (e) {
      deps.onBackgroundError(handle.id, e);
    }
  };

  /**
   * Write-ahead: the record and snapshot the prepared trigger leads to, then the commit. Unless
   * `privileged` (the kill switch's exits), the write carries its order effect and the store
   * refuses it when the stored trading state forbids it.
   */
  const writeAhead = (handle: StrategyHandle, prepared: PreparedTrigger, privileged = false): MaybePromise<TriggerResult> => {
    if (prepared.kind === 'undelivered') return prepared.result;
    // Only a strategy with records beyond the store (after a failed background write) waits here.
    if (hasUnstoredRecords(handle)) return then(flushStrategy(handle), () => writeAhead(handle, prepared, privileged));
    let written = 0;
    /** The store refused the write for the trading state another instance set: learn it, audit the trigger as refused. */
    const refused = (error: unknown): MaybePromise<TriggerResult> => {
      if (!(error instanceof TradingStateRefusal)) throw error;
      deps.onTradingStateRefusal();
      written = 0;
      return writeAhead(handle, refusedAs(prepared, error));
    };
    const committed = (result: TriggerResult): TriggerResult => {
      if (written > 0) persistedSeq.set(handle.id, written);
      // A hook that failed after a safety transition wrote one more record: store it too.
      flushLater(handle);
      return result;
    };
    // The transition is computed once, on the actor; the store writes what it led to, and a
    // refused or failed write rolls the strategy back before anyone saw it.
    let outcome: MaybePromise<TriggerResult>;
    try {
      outcome = runPipeline(handle, prepared, (tx) => {
        written = mustExist(tx.records.at(-1), "the transaction's last record").seq;
        return deps.store.append(writeOf(handle, tx, privileged));
      });
    } catch (error) {
      return then(refused(error), committed);
    }
    // One reaction for both outcomes (this runs on every persisted send).
    return isThenable(outcome) ? outcome.then(committed, (error: unknown) => then(refused(error), committed)) : committed(outcome);
  };

  /**
   * What the store writes for a transaction: its records and snapshot, and unless `privileged`
   * (the kill switch's exits) its order effect, refused by the store when the stored trading
   * state forbids it.
   */
  const writeOf = (handle: StrategyHandle, tx: Transaction, privileged: boolean): StrategyWrite => {
    const { before, after, records } = tx;
    const record = records[0];
    const effect = record.accepted && !privileged ? deps.core.effectOf(handle, record.previousState, tx.event, before.context) : null;
    const write: StrategyWrite = {
      strategyId: handle.id,
      expectedSeq: before.context.lastRecord?.seq ?? 0,
      records,
      // Made when the store reads it: a database serialises it, the memory store keeps it unread.
      get snapshot() {
        return handle.machine.getPersistedSnapshot(after);
      },
      state: topLevelState(after.value),
      at: mustExist(records.at(-1), "the transaction's last record").at,
    };
    // Set one by one (no spreads): this runs on every event of the in-memory system too.
    if (effect) write.effect = effect;
    const { slot } = slotOf(handle, after);
    if (slot) write.slot = slot;
    // Only an entry into a slot is counted by the store (and pays for the count).
    if (deps.limits && slotOf(handle, before).slot?.holds !== true) write.limits = deps.limits;
    return write;
  };

  return { persistedSeq, writeAhead, flushLater };
}
