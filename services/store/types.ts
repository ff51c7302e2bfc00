import type { Snapshot } from 'xstate';
import type { OrderEffect, PortfolioLimits, TradingState } from '../../guards/portfolio.js';
import type { TradingStateChange } from '../../machines/coordinator.js';
import type { StoreCorruptError } from '../../machines/errors.js';
import type { TransitionRecord } from '../../machines/types.js';
import type { Clock } from '../market/clock.js';

/** One strategy as the store keeps it. */
export interface StoredStrategy {
  strategyId: string;
  variant: string;
  params: Record<string, unknown>;
  /** XState's persisted snapshot (context with its absolute deadlines, state, deadline timer). */
  snapshot: Snapshot<unknown>;
  /** Seq of the newest audit record (0 before the first). */
  seq: number;
  /** When the strategy was created (epoch ms): with the trail, all a replay needs. */
  createdAt: number;
  /**
   * The newest audit records, oldest first: the whole trail unless the load asked for a
   * `window` ({@link LoadOptions}); older records are read with {@link StrategyStore.readAuditTrail}.
   */
  auditTrail: TransitionRecord[];
}

/** How much of each strategy's trail {@link StrategyStore.loadAll} and `maintainLeases` read. */
export interface LoadOptions {
  /**
   * Multi-instance stores claim (lease) what they load unless `false`, which reads everything and
   * changes nothing (verification, tooling). With `false` a windowed load also returns rows whose
   * audit trail disagrees with their seq as stored (the SQLite and PostgreSQL stores refuse them
   * otherwise, see `SqliteStore.loadAll` and `PostgresStore.loadAll`), so verification can report them.
   */
  claim?: boolean;
  /**
   * Read only the newest `window` audit records of each strategy (0: none), with one query per
   * load; default: the whole trail.
   */
  window?: number;
}

/**
 * One page of a strategy's stored audit trail ({@link StrategyStore.readAuditTrail}). Records with
 * `after < seq < before` are considered; with `after` the page is the oldest `limit` of them
 * (reading forward, as a replay does), otherwise the newest `limit` (paging back in time).
 * A bound out of its domain (NaN, Infinity, a fraction, a negative, a string) is refused with an
 * `InvalidOptionsError` naming it and its value (`store.readAuditTrail: option limit must be a
 * whole number from 1 to ..., got NaN`), never rounded or replaced by a default.
 */
export interface AuditTrailQuery {
  /** Only records older than this seq (default: up to the newest): a whole number from 1 to `Number.MAX_SAFE_INTEGER`. */
  before?: number;
  /** Only records newer than this seq; the page starts right after it: a whole number from 0 (from the first record). */
  after?: number;
  /** Records in the page, a whole number from 1 to `Number.MAX_SAFE_INTEGER` (default 100). */
  limit?: number;
}

/** A new strategy, before any transition. */
export interface NewStrategy {
  strategyId: string;
  variant: string;
  params: Record<string, unknown>;
  snapshot: Snapshot<unknown>;
  state: string;
  /** When (strategy clock, epoch ms). */
  at: number;
}

/** One write-ahead commit: records and the snapshot they lead to, in one transaction. */
export interface StrategyWrite {
  strategyId: string;
  /** The stored seq this write builds on; the write fails if the store holds another. */
  expectedSeq: number;
  records: TransitionRecord[];
  snapshot: Snapshot<unknown>;
  state: string;
  /** When (strategy clock, epoch ms). */
  at: number;
  /** Fencing token of the lease this write is made under (multi-instance stores). */
  fence?: number;
  /**
   * The orders the accepted trigger leads to (`OrderEffect`, computed by the runtime). When set,
   * the store refuses the write in its own transaction if the stored trading state forbids it
   * ({@link TradingStateRefusal}). Absent for writes that place no order and for the kill
   * switch's own exits, which pass HALTED.
   */
  effect?: OrderEffect;
  /**
   * The portfolio slot after this write: whether the strategy holds one and its correlation
   * group. Absent: unchanged.
   */
  slot?: { group?: string; holds: boolean };
  /**
   * Limits a shared store enforces across instances when this write takes a slot the strategy
   * did not hold. @throws {PortfolioLimitRefusal} from `append` when one would be exceeded.
   */
  limits?: PortfolioLimits;
}

/** A change of trading state as the runtime asks for it; the store fills in `from`. */
export interface TradingStateRequest {
  to: TradingState;
  reason: string;
  /** Who asked (`api`, an operator's name, `kill-switch`). */
  operator: string;
  /** When (system clock, epoch ms). */
  at: number;
}

/** One step of a kill switch, as stored: what is flat, what failed, what is still to flatten. */
export interface KillSwitchProgress {
  reason: string;
  operator: string;
  /** When it started (epoch ms): identifies the run. */
  startedAt: number;
  /** When this step was recorded. */
  at: number;
  /** Strategies that still hold a position and are to be flattened. */
  pending: string[];
  flattened: string[];
  alreadyFlat: string[];
  failed: Array<{ strategyId: string; reason: string }>;
  /**
   * Null while it runs; when it ended: no strategy of any instance is left holding a position
   * except those given up on (failed).
   */
  finishedAt: number | null;
  /**
   * The instance whose part of the run this step records (multi-instance stores: every instance
   * flattens what it holds and records its own steps); absent on a single-instance store.
   */
  instanceId?: string;
  /**
   * How many trading state changes were stored when it started, its own HALTED the last. A later
   * change means an operator took over: an unfinished run is then not resumed.
   */
  tradingStateChanges: number;
}

/** The system-wide safety state a store keeps beside the strategies. */
export interface StoredSystemState {
  /** Every trading state change, oldest first; the last one's `to` is the current state (ACTIVE when none). */
  tradingStateHistory: TradingStateChange[];
  /** The newest kill switch run, every instance's part merged, or null if no kill switch ever ran. */
  killSwitch: KillSwitchProgress | null;
  /** The newest step of each instance's part of that run (one part on a single-instance store). */
  killSwitchParts: KillSwitchProgress[];
}

/** One audit record as the store's feed gives it: with the cursor a reader resumes after. */
export interface AuditFeedRow {
  /** Opaque, ordered by the store; a reader passes the last one it handled to read on. */
  cursor: string;
  strategyId: string;
  record: TransitionRecord;
  damaged?: undefined;
}

/**
 * A row of the audit feed whose record cannot be read (JSON that no longer parses, or not a
 * transition record): it keeps its place in the feed, so a reader tells its own readers which
 * record is missing and reads on after its cursor.
 */
export interface DamagedAuditFeedRow {
  cursor: string;
  strategyId: string;
  /** The row's seq column: the record of `strategyId` that cannot be read. */
  seq: number;
  /** Names the store, the row and what is wrong with its record. */
  damaged: StoreCorruptError;
  record?: undefined;
}

/** One row of the audit feed: its record, or the marker of a damaged one (`damaged` set). */
export type AuditFeedEntry = AuditFeedRow | DamagedAuditFeedRow;

/** One page of the audit feed ({@link StrategyStore.readAuditAfter}). */
export interface AuditFeedPage {
  /** Rows after the cursor asked for, oldest first, at most `limit`; a damaged row is a marker in its place. */
  rows: AuditFeedEntry[];
  /** The cursor of the newest record readable now: resuming after it waits for the next commit. */
  head: string;
  /**
   * False when the cursor asked for is not one of this store's (malformed, or past its head: it
   * came from another database): no rows are given then.
   */
  known: boolean;
  /** With `countUpTo`: how many records follow the cursor asked for, counted up to `countUpTo`. */
  remaining?: number;
}

/**
 * Where strategies live between processes. Every write is one transaction: the audit records
 * and the new snapshot are committed together or not at all.
 */
export interface StrategyStore {
  /** Human name for errors, e.g. `sqlite:./data/strategy-lifecycle.db`. */
  readonly name: string;
  /** Opens the store and migrates its schema. @throws {SchemaVersionError} for a newer schema. */
  open(): Promise<void>;
  /**
   * Every stored strategy with its audit trail (the newest `window` records when given).
   * Multi-instance stores claim (lease) what they load unless `claim: false`, which reads
   * everything and changes nothing (verification, tooling).
   */
  loadAll(options?: LoadOptions): Promise<StoredStrategy[]>;
  /**
   * One page of a strategy's audit trail, oldest first, straight from the store (an unknown
   * strategy has an empty trail). See {@link AuditTrailQuery}.
   * @throws {InvalidOptionsError} for a bound out of its domain (the stores check it with `auditPageBounds`); {@link StoreUnavailableError}
   */
  readAuditTrail(strategyId: string, query?: AuditTrailQuery): Promise<TransitionRecord[]>;
  create(strategy: NewStrategy): Promise<void>;
  /**
   * @throws {StoreUnavailableError} when it cannot commit; {@link StoreConflictError} on a lost race
   * ({@link OwnershipLostError} when another instance owns the strategy); {@link PortfolioLimitRefusal}.
   */
  append(write: StrategyWrite): Promise<void>;
  /** Deletes a strategy and its trail. @throws {OwnershipLostError} (multi-instance) when another instance owns it: nothing is deleted. */
  remove(strategyId: string): Promise<void>;
  /** The trading state history and the newest kill switch step. @throws {StoreUnavailableError} */
  loadSystemState(): Promise<StoredSystemState>;
  /**
   * Commits a trading state change (appended to the kept history) and returns it with `from`, the
   * stored state it replaced. Multi-instance stores tell the other instances at once.
   * @throws {StoreUnavailableError} when it cannot commit: the trading state did not change, except
   * when a connection dropped after the server received the COMMIT (a multi-instance store): then
   * it may have.
   */
  saveTradingState(change: TradingStateRequest): Promise<TradingStateChange>;
  /**
   * Appends one kill switch step (every step is kept). Multi-instance stores tell the other
   * instances at once, as for a trading state change. @throws {StoreUnavailableError}
   */
  saveKillSwitch(progress: KillSwitchProgress): Promise<void>;
  /**
   * Multi-instance stores: ids of the stored strategies whose position is open or whose entry order
   * is still working (PENDING_ENTRY, ENTERING: it may fill yet), whichever instance owns them (a
   * kill switch is complete only when none is left). @throws {StoreUnavailableError}
   */
  holdingPositions?(): Promise<string[]>;
  /**
   * Multi-instance stores: calls `listener` whenever any instance changed the trading state or
   * recorded a kill switch step.
   * Resolves once listening; the returned function stops it.
   */
  watchSystemState?(listener: () => void): Promise<() => Promise<void>>;
  /**
   * Multi-instance stores: gives up this instance's lease of one strategy so another can claim it
   * at once. With `setAside` (this instance refused the strategy: it cannot restore it as stored),
   * this instance's own claims skip it from then on while its row and trail stay as they are, so a
   * refusal is not repeated every lease round; once they change (an operator's repair) or the
   * strategy is removed, it is forgotten and claimed as any other.
   */
  release?(strategyId: string, options?: { setAside?: boolean }): Promise<void>;
  /**
   * Multi-instance stores: which of `strategyIds` are stored now, whichever instance owns them (a
   * read: it takes no lease), in one query. The lease round asks it of the ids this instance was
   * fenced off, to forget the fences of strategies their new owner removed since: those ids then
   * answer UnknownStrategyError, and the fences do not pile up in a long-running service.
   * @throws {StoreUnavailableError}
   */
  storedIds?(strategyIds: readonly string[]): Promise<string[]>;
  /**
   * The audit feed: records committed after `after` (absent: none, only the head), in commit
   * order, every instance's, a page of at most `limit`. The cursor survives restarts (and, on a
   * shared store, is the same on every instance): the live stream resumes `Last-Event-ID` from it.
   * @throws {StoreUnavailableError}
   */
  readAuditAfter?(after: string | undefined, options: { limit: number; countUpTo?: number }): Promise<AuditFeedPage>;
  close(): Promise<void>;
  /**
   * Resolves when the store can commit: after a commit failed as a whole (disk full, an I/O
   * error), it tries a write that changes nothing, and throws while that fails. Readiness asks it.
   * @throws {StoreUnavailableError}
   */
  checkWritable?(): Promise<void>;
  /** The system's clock, for stores that keep time: leases (PostgreSQL), creation times (SQLite). */
  bindClock?(clock: Clock): void;
  /** Multi-instance stores: the lease period; the system renews at a third of it. */
  readonly leaseMs?: number;
  /** Multi-instance stores: this instance's name in leases (the API shows it beside each strategy). */
  readonly instanceId?: string;
  /**
   * Multi-instance stores: renews this instance's leases and takes over strategies whose owner's
   * lease expired. Returns the strategies taken over, the ids lost to another instance, and those
   * claimed but refused (see {@link LeaseRoundResult.refused}).
   */
  maintainLeases?(options?: Pick<LoadOptions, 'window'>): Promise<LeaseRoundResult>;
}

/** What one lease round of a multi-instance store found (see {@link StrategyStore.maintainLeases}). */
export interface LeaseRoundResult {
  /** The strategies taken over, to restore. */
  claimed: StoredStrategy[];
  /** The ids another instance took over. */
  lost: string[];
  /**
   * Strategies claimed whose stored row cannot be restored as it is (it disagrees with its audit
   * trail): each with the error naming it. The caller reports them and lets their leases go,
   * setting them aside (see {@link StrategyStore.release}) so the next rounds do not claim them again.
   */
  refused?: Array<{ strategyId: string; error: Error }>;
}

/** A value, or a promise of it: a synchronous store answers at once, a database later. */
export type MaybeAsync<T> = T | Promise<T>;

/**
 * What one strategy system needs from its store: the write-ahead of every transition, the
 * strategies' creation and removal, the trading state and the kill switch's steps. Every
 * {@link StrategyStore} is one; so is the synchronous `MemoryStore` of the in-memory system, whose
 * answers come at once, so that system's `send` answers at once too.
 */
export interface SystemStore {
  readonly name: string;
  /**
   * True when every method answers at once (never with a promise): the system then runs each
   * write as it is asked for instead of after a turn of the event loop.
   */
  readonly synchronous?: boolean;
  create(strategy: NewStrategy): MaybeAsync<void>;
  /** See {@link StrategyStore.append}. */
  append(write: StrategyWrite): MaybeAsync<void>;
  remove(strategyId: string): MaybeAsync<void>;
  loadSystemState(): MaybeAsync<StoredSystemState>;
  saveTradingState(change: TradingStateRequest): MaybeAsync<TradingStateChange>;
  saveKillSwitch(progress: KillSwitchProgress): MaybeAsync<void>;
  holdingPositions?(): Promise<string[]>;
  readonly instanceId?: string;
  maintainLeases?: StrategyStore['maintainLeases'];
}
