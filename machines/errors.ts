/**
 * Every {@link RejectionCode}, as a list code can walk (the metrics start a series for each).
 *
 * @example
 * ```ts
 * REJECTION_CODES.includes(result.code); // true for any refused trigger's code
 * ```
 */
export const REJECTION_CODES = [
  'NO_EDGE',
  'GUARD_FAILED',
  'INVALID_EVENT',
  'DUPLICATE_EVENT',
  'HOOK_FAILED',
  'ACTOR_STOPPED',
  'ACTOR_FAILED',
  'REENTRANT_TRIGGER',
  'STORE_REQUIRED',
  'TRADING_HALTED',
  'TRADING_REDUCING',
  'CORRELATION_LIMIT',
] as const;

/** Why a trigger was rejected; stable codes for callers and the HTTP service. */
export type RejectionCode = (typeof REJECTION_CODES)[number];

/** Base class of every error this package throws or returns. */
export class StrategyLifecycleError extends Error {
  override name = 'StrategyLifecycleError';
}

/**
 * An event that is not one of the {@link StrategyEvent} union or whose payload is malformed.
 * `field` names the offending field (`type` for an unknown event type).
 */
export class InvalidEventError extends StrategyLifecycleError {
  override name = 'InvalidEventError';
  constructor(
    /** The event type as sent (may itself be the problem). */
    readonly eventType: string,
    /** The field at fault, e.g. `quantity`. */
    readonly field: string,
    /** What is wrong with it, e.g. `must be a positive integer, got -3`. */
    readonly problem: string,
  ) {
    super(`${eventType}: ${field} ${problem}`);
  }
}

/** A strategy definition that cannot make a machine; `field` names the setting at fault. */
export class InvalidDefinitionError extends StrategyLifecycleError {
  override name = 'InvalidDefinitionError';
  constructor(
    readonly definitionId: string,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`strategy definition "${definitionId}": ${field} ${problem}`);
  }
}

/** Strategy parameters its variant does not accept; `field` names the key, e.g. `params.underlying`. */
export class InvalidParamsError extends StrategyLifecycleError {
  override name = 'InvalidParamsError';
  constructor(
    readonly strategyId: string,
    readonly variant: string,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`strategy "${strategyId}" (${variant}): ${field} ${problem}`);
  }
}

/**
 * Stored data nested deeper than {@link MAX_DEPTH}: written by an older version that did not
 * bound its input. Reported instead of overflowing the stack of whatever would read it.
 */
export class StoredDataTooDeepError extends StrategyLifecycleError {
  override name = 'StoredDataTooDeepError';
  constructor(
    readonly strategyId: string,
    /** Which stored item, e.g. `record 12`, `params` or `snapshot`. */
    readonly where: string,
    /** The path inside it where the limit is crossed. */
    readonly path: string,
    readonly limit: number,
  ) {
    super(
      `strategy "${strategyId}": stored ${where} nests deeper than ${limit} levels (at ${path.slice(0, 120)}); it was written by an older version and cannot be replayed`,
    );
  }
}

/** A persisted snapshot that does not belong to this machine or this format. */
export class SnapshotRestoreError extends StrategyLifecycleError {
  override name = 'SnapshotRestoreError';
}

/** A strategy id that the system does not know. */
export class UnknownStrategyError extends StrategyLifecycleError {
  override name = 'UnknownStrategyError';
  constructor(readonly strategyId: string) {
    super(`unknown strategy "${strategyId}"`);
  }
}

/** A strategy id that the system already holds. */
export class DuplicateStrategyError extends StrategyLifecycleError {
  override name = 'DuplicateStrategyError';
  constructor(readonly strategyId: string) {
    super(`strategy "${strategyId}" already exists in this system`);
  }
}

/**
 * An operation that needs a flat strategy was asked of one holding a position, or of one whose
 * entry order may still be working (PENDING_ENTRY, ENTERING: a fill could still open a position).
 */
export class StrategyNotFlatError extends StrategyLifecycleError {
  override name = 'StrategyNotFlatError';
  constructor(
    readonly strategyId: string,
    readonly state: string,
    readonly quantity: number,
  ) {
    super(
      quantity > 0
        ? `strategy "${strategyId}" holds ${quantity} contracts in ${state}: exit before removing it`
        : `strategy "${strategyId}" may have an entry order working in ${state}: wait for the broker's answer (or its stuck deadline) before removing it`,
    );
  }
}

/**
 * An operation on a strategy was asked from inside that strategy's own hook, while the
 * transition the hook belongs to is being computed (an in-memory system answers at once, so it
 * cannot wait for it). Nothing changed: call it once the transition is over (from a transition
 * listener, `queueMicrotask`, `setImmediate` or the clock).
 */
export class StrategyInTransitionError extends StrategyLifecycleError {
  override name = 'StrategyInTransitionError';
  constructor(
    readonly strategyId: string,
    readonly operation: string,
  ) {
    super(
      `${operation}("${strategyId}") from inside its own hook: the strategy is in the middle of a transition; call it once the transition is over (a transition listener, queueMicrotask, setImmediate or the clock)`,
    );
  }
}

/**
 * The store could not commit (disk full, read-only file, database down, lost lease). The
 * transition was not applied: the strategy is where it was, and the same call can be retried.
 */
export class StoreUnavailableError extends StrategyLifecycleError {
  override name = 'StoreUnavailableError';
  constructor(
    /** Which store failed, e.g. `sqlite:./data/strategy-lifecycle.db`. */
    readonly store: string,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(`store ${store} unavailable: ${message}`);
  }
}

/**
 * A store, system or actor constructed with an option it cannot run with (a batch size or window
 * that is not a positive whole number, a timer beyond what Node can arm, an unknown `synchronous`
 * mode, a connection string that is not a URL). Thrown by the constructor or `open`, before
 * anything is opened or created; and by a call given an argument it cannot take (an `add` id, an
 * operator's reason, a `readAuditTrail` page's `before`, `after` or `limit` that is not a whole
 * number in its range), before anything is read or changed.
 */
export class InvalidOptionsError extends StrategyLifecycleError {
  override name = 'InvalidOptionsError';
  constructor(
    /** What was given the option, e.g. `SqliteStore`, `PostgresStore`, `openStrategySystem`, `readAuditTrail`. */
    readonly component: string,
    /** The option at fault, e.g. `groupCommit.maxBatch`. */
    readonly option: string,
    /** What is wrong with it, e.g. `must be a whole number from 1, got NaN`. */
    readonly problem: string,
  ) {
    super(`${component}: option ${option} ${problem}`);
  }
}

/** A database whose schema this version does not know (written by a newer version). */
export class SchemaVersionError extends StrategyLifecycleError {
  override name = 'SchemaVersionError';
  constructor(
    readonly store: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      `store ${store} has schema version ${found}, written by a newer strategy-lifecycle; this version supports up to ${supported}. Nothing was written.`,
    );
  }
}

/**
 * A database whose tables do not have the layout of its schema version (written by a build that
 * shipped another layout under the same number, or edited by hand), and that the migration could
 * not bring to it. Refused before the migration commits: the file is as it was.
 */
export class SchemaLayoutError extends StrategyLifecycleError {
  override name = 'SchemaLayoutError';
  constructor(
    readonly store: string,
    readonly version: number,
    /** What the store could not work with, e.g. `no such column: created_at`. */
    readonly problem: string,
  ) {
    super(
      `store ${store}: its tables do not have the layout of schema version ${version} (${problem}). Nothing was written: ` +
        'open it with the build that wrote it and export the strategies (replay), or repair the named table by hand.',
    );
  }
}

/** A write lost a race: the stored strategy moved on, or another instance owns it. */
export class StoreConflictError extends StrategyLifecycleError {
  override name = 'StoreConflictError';
  constructor(
    readonly strategyId: string,
    message: string,
  ) {
    super(`strategy "${strategyId}": ${message}`);
  }
}

/**
 * A strategy this instance no longer owns: another instance took it over (its lease expired, or
 * its fencing token is stale). Nothing was written or deleted; the strategy lives on with its
 * owner. A {@link StoreConflictError}, so callers that handle lost races handle this too.
 */
export class OwnershipLostError extends StoreConflictError {
  override name = 'OwnershipLostError';
  constructor(
    strategyId: string,
    /** The instance that lost it. */
    readonly instanceId: string,
    /** What was refused and why, e.g. `write refused: fencing token 3 is stale (now 4, owner b)`. */
    readonly detail: string,
  ) {
    super(strategyId, `instance ${instanceId} does not own it: ${detail}`);
  }
}

/**
 * A portfolio limit enforced by a shared store: the entry would exceed it across every instance.
 * Nothing was written; the runtime answers the trigger as rejected with {@link code}.
 */
export class PortfolioLimitRefusal extends StrategyLifecycleError {
  override name = 'PortfolioLimitRefusal';
  readonly code = 'CORRELATION_LIMIT' satisfies RejectionCode;
  constructor(
    readonly strategyId: string,
    /** The rejection reason, e.g. `CORRELATION_LIMIT: group g holds 1 of 1 open positions (all instances)`. */
    readonly reason: string,
  ) {
    super(`strategy "${strategyId}": ${reason}`);
  }
}

/**
 * An order-producing write the store refused because the stored trading state forbids it (another
 * instance halted, or this one's view was stale). Not a store fault: the runtime answers and audits
 * the trigger as rejected with {@link TradingStateRefusal.code}, and the strategy does not move.
 */
export class TradingStateRefusal extends StrategyLifecycleError {
  override name = 'TradingStateRefusal';
  constructor(
    readonly strategyId: string,
    /** `TRADING_HALTED` or `TRADING_REDUCING`, as the in-memory gate would answer. */
    readonly code: 'TRADING_HALTED' | 'TRADING_REDUCING',
    /** The rejection's reason, naming the trading state and the refused effect. */
    readonly reason: string,
  ) {
    super(`strategy "${strategyId}": ${reason}`);
  }
}

/**
 * A kill switch that stopped before every strategy was flat because its system closed. Its
 * progress is in the store: the next `openStrategySystem` on that store carries on flattening
 * (an in-memory system's is lost with it: {@link resumes} is false).
 */
export class KillSwitchInterruptedError extends StrategyLifecycleError {
  override name = 'KillSwitchInterruptedError';
  constructor(
    readonly reason: string,
    /** Strategies still holding a position when it stopped. */
    readonly pending: readonly string[],
    /** False for an in-memory system: nothing was stored, so no later open carries on. */
    readonly resumes = true,
  ) {
    super(
      `kill switch "${reason}" interrupted by close with ${pending.length} strateg${pending.length === 1 ? 'y' : 'ies'} still to flatten (${pending.join(', ')}); ${
        resumes
          ? 'it resumes when the system is opened again'
          : 'an in-memory system keeps no progress: flatten them at the broker, or run the kill switch again in a new system'
      }`,
    );
  }
}

/**
 * A database file that is not the store it should be: deleted (its marker file is still there)
 * or replaced by another store's database. Nothing was created or written; `--init`
 * (`new SqliteStore(path, { create: true })`) makes an empty store where the database is missing.
 */
export class StoreIdentityError extends StrategyLifecycleError {
  override name = 'StoreIdentityError';
  constructor(
    /** Which store, e.g. `sqlite:./data/strategy-lifecycle.db`. */
    readonly store: string,
    /**
     * `deleted`: the marker names a store whose database is gone; `replaced`: the database is
     * another store's; `foreign`: a PostgreSQL database holds tables of our names but no store.
     */
    readonly problem: 'deleted' | 'replaced' | 'foreign',
    message: string,
  ) {
    super(`store ${store}: ${message}`);
  }
}

/**
 * A database file that fails SQLite's integrity check, is not a database at all, or whose write-ahead
 * log is damaged (cut short): it is not opened, and nothing is written to it or its log. Also stored
 * data a store did not write so (a row that disagrees with its audit trail, JSON that does not
 * parse), on SQLite or PostgreSQL (`kind: 'database'`): the restore is refused.
 */
export class StoreCorruptError extends StrategyLifecycleError {
  override name = 'StoreCorruptError';
  constructor(
    /** The database file (SQLite), or the store's name (PostgreSQL, `postgres:host:port/db`). */
    readonly path: string,
    /** What is wrong, e.g. `file is not a database`, the first `quick_check` finding, or `strategy "z": ...`. */
    readonly detail: string,
    override readonly cause?: unknown,
    /** `database`: a PostgreSQL store (no file to move aside; the rows named are to repair). */
    kind: 'file' | 'database' = 'file',
    /**
     * What to do, when the default (restore from a backup, or move the file aside and start with
     * --init) would lose what is still there (a damaged write-ahead log beside an intact file).
     */
    readonly advice = kind === 'file'
      ? 'Restore it from a backup, or move it aside and start with --init for an empty store.'
      : 'Repair the rows named, or restore the database from a backup.',
  ) {
    super(
      kind === 'file'
        ? `database file ${path} is corrupt (${detail}): nothing was written to it. ${advice}`
        : `store ${path} holds data it did not write so (${detail}): nothing was written to it. ${advice}`,
    );
  }
}

/**
 * An optional database driver that is not installed: `pg` is an optional peer dependency, so
 * `strategy-lifecycle/postgres` (or `serve --store postgres://...`) names the package to add
 * instead of failing deep inside Node's resolver.
 */
export class DriverMissingError extends StrategyLifecycleError {
  override name = 'DriverMissingError';
  constructor(
    /** The npm package to install, e.g. `pg`. */
    readonly packageName: string,
    /** What needs it, e.g. `strategy-lifecycle/postgres`. */
    readonly neededBy: string,
    override readonly cause?: unknown,
  ) {
    super(`${neededBy} needs the "${packageName}" package, which is not installed: run \`npm install ${packageName}\``);
  }
}

/**
 * An execution report from a broker that the routing cannot read: not an object, no `orderId` or
 * `strategyId`, a `kind` other than fill / partial / reject, a `quantity` that is not a
 * non-negative number. `field` names the field at fault and `problem` says what is wrong with it,
 * quoting the value. The report is dropped (the strategy is not touched) and told to the
 * routing's `onError`; the broker's listener never throws.
 */
export class InvalidExecutionReportError extends StrategyLifecycleError {
  override name = 'InvalidExecutionReportError';
  constructor(
    /** The field at fault, e.g. `kind`; `report` for a report that is not an object. */
    readonly field: string,
    /** What is wrong with it, e.g. `must be one of fill, partial, reject, got "bogus"`. */
    readonly problem: string,
  ) {
    super(`execution report: ${field} ${problem}`);
  }
}

/**
 * An event the broker routing sent on the broker's behalf (ORDER_SUBMITTED, a fill, a hold) that
 * did not reach the strategy: `code` says why (ACTOR_STOPPED: the strategy was stopped;
 * REENTRANT_TRIGGER: still refused after every deferred try). The strategy and the broker may now
 * disagree: an operator should reconcile them.
 */
export class UndeliveredEventError extends StrategyLifecycleError {
  override name = 'UndeliveredEventError';
  constructor(
    readonly strategyId: string,
    /** The event's type, e.g. `ORDER_SUBMITTED`. */
    readonly eventType: string,
    readonly code: RejectionCode | undefined,
    /** The strategy's reason for not taking it. */
    readonly reason: string,
  ) {
    super(`strategy ${strategyId}: ${eventType} from the broker was not delivered (${code ?? 'no code'}): ${reason}`);
  }
}

/**
 * A fill the broker reported that the strategy refused (`code`: GUARD_FAILED for an exit fill of
 * more contracts than are open, INVALID_EVENT for a quantity that is not a whole number of
 * contracts, NO_EDGE for a state that takes no fill), or that the broker routing did not apply
 * because it is of an order the strategy no longer waits on (`code` undefined: cancelled,
 * superseded, already over, or of the other side). The fill happened at the broker, so the
 * strategy's position no longer matches: the broker routing holds the strategy in ERROR for an
 * operator (no auto-recovery) and tells `onError` with this error.
 */
export class RefusedFillError extends StrategyLifecycleError {
  override name = 'RefusedFillError';
  constructor(
    readonly strategyId: string,
    /** `ORDER_FILLED` or `ORDER_PARTIALLY_FILLED`. */
    readonly eventType: string,
    readonly code: RejectionCode | undefined,
    /** The hold's reason: the fill, the strategy's refusal and what to do. */
    readonly reason: string,
  ) {
    super(`strategy ${strategyId}: ${reason}`);
  }
}

/**
 * A fill the broker reported for an order of a strategy that was removed (an entry whose cancel
 * lost the race with its fill, an order acknowledged after the removal): the contracts are at the
 * broker and no strategy tracks them. The fill is delivered to no strategy (not even one added
 * again under the same id, which never placed the order) and told to the broker routing's
 * `onError` with this error: an operator reconciles the account (closes the contracts, or adds a
 * strategy for them and sets its position with MANUAL_OVERRIDE).
 *
 * @example
 * ```ts
 * startTradingDay({ target, clock, broker, onError: (e) => { if (e instanceof UntrackedFillError) page(e.orderId, e.quantity); } });
 * ```
 */
export class UntrackedFillError extends StrategyLifecycleError {
  override name = 'UntrackedFillError';
  constructor(
    /** The id the removed strategy had (another strategy may hold it now). */
    readonly strategyId: string,
    /** The broker's order id. */
    readonly orderId: string,
    /** Contracts this report filled. */
    readonly quantity: number,
    /** The order's side (`open`, `close`, `adjust`), when the routing knew the order. */
    readonly side: 'open' | 'close' | 'adjust' | undefined,
  ) {
    const what = side === 'open' ? 'entry order' : side === 'close' ? 'exit order' : side === 'adjust' ? 'adjustment order' : 'order';
    super(
      `strategy ${strategyId} (removed): the broker reports a fill of ${quantity} on its ${what} ${orderId}, placed before the strategy was removed: ` +
        `${quantity} contracts are at the broker with no strategy tracking them (not given to any strategy now holding the id); reconcile the account`,
    );
  }
}

/**
 * The broker reconciliation of `openStrategySystem` (given a `broker`) could not finish: the
 * broker's `positions()` failed or answered something unreadable, or holding a mismatch could not
 * be written. The open fails rather than run strategies whose positions nobody checked; the store
 * is closed again (its lock released, nothing left running), so the same process can open it
 * again once the broker answers. Strategies already held in ERROR by this reconciliation stay held.
 *
 * @example
 * ```ts
 * try { await openStrategySystem({ store, variants, broker }); }
 * catch (e) { if (e instanceof ReconciliationError) retryLater(e.cause); else throw e; }
 * ```
 */
export class ReconciliationError extends StrategyLifecycleError {
  override name = 'ReconciliationError';
  constructor(override readonly cause: unknown) {
    super(
      `the broker reconciliation at the open failed: ${cause instanceof Error ? cause.message : String(cause)}; ` +
        'the store was closed and no strategy runs: open again once the broker answers',
    );
  }
}

/**
 * A position whose options expired (the close of its expiry date passed) while the strategy still
 * held it: the service was down over its exit and the close, or its exit never filled. No exit
 * order is sent for expired contracts (a broker refuses it, or opens the reverse position): the
 * DTE monitor holds the strategy in ERROR for an operator, who reconciles with the broker
 * (expired worthless, assigned or exercised) and then sends MANUAL_OVERRIDE or RESET.
 *
 * @example
 * ```ts
 * startDteMonitor({ strategy, onError: (e) => { if (e instanceof ExpiredPositionError) page(e.strategyId, e.expiry); } });
 * ```
 */
export class ExpiredPositionError extends StrategyLifecycleError {
  override name = 'ExpiredPositionError';
  constructor(
    readonly strategyId: string,
    /** The position's expiry date, `yyyy-MM-dd` (New York). */
    readonly expiry: string,
    /** Contracts the strategy still held. */
    readonly quantity: number,
    /** The state it was in when the expiry was found. */
    readonly state: string,
  ) {
    super(
      `strategy ${strategyId}: ${quantity} contracts expiring ${expiry} expired unmanaged at that day's close while the strategy held them in ${state}: ` +
        'no exit order is sent for expired contracts; held in ERROR for an operator: reconcile with the broker (expired, assigned or exercised), then MANUAL_OVERRIDE or RESET',
    );
  }
}

/**
 * A value that this package's own bookkeeping guarantees is missing (a bug in the package, not a
 * caller's mistake); `what` names the value.
 */
export class InvariantError extends StrategyLifecycleError {
  override name = 'InvariantError';
  constructor(readonly what: string) {
    super(`internal invariant broken: ${what} is missing`);
  }
}

/** `value` itself, or an {@link InvariantError} naming `what` when it is `null` or `undefined`. */
export function mustExist<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new InvariantError(what);
  return value;
}

/**
 * What a value thrown by user code (a hook, a guard, a listener, an invoked actor, a broker) says,
 * as text, whatever it is: an `Error`'s message, another object's `message` string, else the value
 * as text. Never throws: an object without a prototype, or a Proxy whose traps throw, is described
 * as it can be (its tag, else a fixed phrase), so reporting a failure cannot fail in turn.
 *
 * @example
 * ```ts
 * describeThrown(new Error('broker down')); // 'broker down'
 * describeThrown(Object.create(null));      // '[object Object]'
 * ```
 */
export function describeThrown(value: unknown): string {
  try {
    if (value instanceof Error) return value.message;
    const message = (value as { message?: unknown } | null | undefined)?.message;
    if (typeof message === 'string') return message;
    return String(value);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return 'a thrown value that cannot be shown as text';
    }
  }
}
