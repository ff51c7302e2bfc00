import { checkSqliteOptions } from './storeOptions.js';
import type * as Database from 'better-sqlite3';
import { accessSync, constants as fsConstants, statSync, truncateSync } from 'node:fs';
import type { TradingStateChange } from '../../machines/coordinator.js';
import { describeThrown, StoreConflictError, StoreUnavailableError, StrategyLifecycleError } from '../../machines/errors.js';
import type { TransitionRecord } from '../../machines/types.js';
import { realClock, type Clock, type TimerHandle } from '../market/clock.js';
import { createGroupCommit, type BatchOutcome, type GroupCommit } from './groupCommit.js';
import { readSqliteAuditFeed } from './sqliteAuditFeed.js';
import { createSqliteBusyWait, DEFAULT_SQLITE_BUSY_TIMEOUT_MS, isSqliteBusy, type SqliteBusyWait } from './sqliteBusy.js';
import { sqliteBatchCommit } from './sqliteBatch.js';
import { recheckSqliteMarker, sqliteFileLost, sqliteLockLost, sqliteShmLost, sqliteWalLost } from './sqliteFileChecks.js';
import { checkSqliteIntegrity, corruptionOf, isCorruption, type IntegrityCheckOptions } from './sqliteIntegrity.js';
import { lockPathOf, takeWriterLock } from './sqliteLock.js';
import { openSqliteDatabase, writeNothing } from './sqliteOpen.js';
import { DEFAULT_SQLITE_PATH, type OpenedStoreIdentity, type SqliteStoreOptions } from './sqliteOptions.js';
import { loadSqliteStrategies, loadSqliteWindows, readSqliteAuditPage } from './sqliteReads.js';
import type { SqliteStatements } from './sqliteSchema.js';
import { loadSqliteSystemState, saveSqliteKillSwitch, saveSqliteTradingState } from './sqliteSystemState.js';
import { serializedWrite, sqliteAppendTx, typedSqliteError, type SerializedWrite } from './sqliteWrite.js';
import { fileIdentityOf, fileStampOf, isSameFile, markerPathOf, type FileIdentity } from './storeFiles.js';
import type {
  AuditFeedPage,
  AuditTrailQuery,
  KillSwitchProgress,
  LoadOptions,
  NewStrategy,
  StoredStrategy,
  StoredSystemState,
  StrategyStore,
  StrategyWrite,
  TradingStateRequest,
} from './types.js';

export { DEFAULT_SQLITE_PATH } from './sqliteOptions.js';
export type { OpenedStoreIdentity, SqliteStoreOptions } from './sqliteOptions.js';

/**
 * The embedded default store: one SQLite file through `better-sqlite3`, in WAL mode. Appends are
 * group-committed (the ones ready together share one transaction and one fsync, each resolved
 * after that commit); every other write is a synchronous transaction, settled before it returns.
 *
 * @example
 * ```ts
 * const store = new SqliteStore('./data/strategy-lifecycle.db');
 * const system = await openStrategySystem({ store, variants: [zeroDte, lt112, strangle] });
 * ```
 */
/**
 * Connections whose shared-memory index became unwritable: closing (or collecting) one would write
 * to it and kill the process, so they stay open while it runs. At its exit better-sqlite3 closes
 * them anyway, and that exit may end with SIGBUS (documented in docs/persistence.md).
 */
const UNSAFE_TO_CLOSE: Database.Database[] = [];

export class SqliteStore implements StrategyStore {
  readonly name: string;
  private db: Database.Database | undefined;
  /** The one-writer lock held while open (see {@link takeWriterLock}). */
  private writerLock: Database.Database | undefined;
  private statements: SqliteStatements | undefined;
  /** One write, serialised already, over the open connection's statements (see {@link sqliteAppendTx}). */
  private appendTx: ((row: SerializedWrite) => void) | undefined;
  /** The write transaction, compiled once per connection. */
  private appendTransaction: ((row: SerializedWrite) => void) | undefined;
  /** The batch commit of the open connection (see sqliteBatch.ts). */
  private batch: { db: Database.Database; commit: (rows: readonly SerializedWrite[]) => BatchOutcome } | undefined;
  /** The appends waiting for their batch's commit (absent with `groupCommit: false`). */
  private group: GroupCommit<SerializedWrite> | undefined;
  /** Writes refused with SQLITE_BUSY wait here, on timers, not in SQLite (see sqliteBusy.ts); made per open. */
  private busy: SqliteBusyWait | undefined;
  private clock: Clock = realClock;
  private get checkClock(): Clock {
    return this.options.checkClock ?? realClock;
  }
  /** The file opened (not for `:memory:`): every commit is confirmed to have gone to it. */
  private file: FileIdentity | undefined;
  /** The write-ahead log and the writer lock as opened: each commit and check confirms both are still the files on disk. */
  private wal: FileIdentity | undefined;
  private lockFile: FileIdentity | undefined;
  /** Set once the file is found deleted or replaced: every later write is refused with it. */
  private lost: StoreUnavailableError | undefined;
  /** Set when a commit failed as a whole (disk full, I/O error); cleared by the next that succeeds. */
  private writeFailure: unknown;
  private checkTimer: TimerHandle = undefined;
  /** The marker's stat when it was last read and found to name this store. */
  private markerStamp: string | undefined;
  /** Which store this is; set by {@link SqliteStore.open}. */
  identity: OpenedStoreIdentity | undefined;

  constructor(
    readonly path: string = DEFAULT_SQLITE_PATH,
    private readonly options: SqliteStoreOptions = {},
  ) {
    checkSqliteOptions(path, options);
    this.name = `sqlite:${path}`;
  }

  /** A read's failure: a damaged page (the open does not check the audit trail) as `StoreCorruptError`. */
  private failRead(error: unknown): never {
    if (isCorruption(error)) throw corruptionOf(this.path, error);
    return this.fail(error);
  }

  /** The store's own errors as they are; any other (SQLite's) as a {@link StoreUnavailableError}. */
  private typed(error: unknown): Error {
    return typedSqliteError(this.name, error);
  }

  private fail(error: unknown): never {
    throw this.typed(error);
  }

  private get handle(): Database.Database {
    if (!this.db) throw new StoreUnavailableError(this.name, 'not open');
    this.guardShm();
    return this.db;
  }

  /** The prepared statements of the open connection. */
  private get prepared(): NonNullable<SqliteStore['statements']> {
    if (!this.statements) throw new StoreUnavailableError(this.name, 'not open');
    this.guardShm();
    return this.statements;
  }

  /** The identity the open store read or wrote. */
  private get openIdentity(): OpenedStoreIdentity {
    if (!this.identity) throw new StoreUnavailableError(this.name, 'not open');
    return this.identity;
  }

  /** The clock of creation times (the system's; default the real clock). */
  bindClock(clock: Clock): void {
    this.clock = clock;
  }

  /**
   * Opens the database: creates it only as {@link SqliteStoreOptions.create} allows, refuses a
   * corrupt file (`StoreCorruptError`) and one that is not this store
   * (`StoreIdentityError`), migrates the schema, then checks every `checkEveryMs`.
   */
  async open(): Promise<void> {
    if (this.db) return;
    let db: Database.Database | undefined;
    try {
      const lockWriter =
        this.path !== ':memory:' && this.options.lock !== false
          ? () => void (this.writerLock ??= takeWriterLock(this.name, this.path))
          : undefined;
      const opened = openSqliteDatabase(this.name, this.path, this.options, () => this.clock.now(), lockWriter);
      db = opened.db;
      this.statements = opened.statements;
      this.appendTx = sqliteAppendTx(this.statements);
      this.appendTransaction = db.transaction(this.appendTx);
      const grouping = this.options.groupCommit;
      this.group = grouping === false ? undefined : createGroupCommit((writes) => this.commitBatch(writes), grouping, this.options.onBatch);
      // On the check's clock (real time by default): the lock is held by another process, in real time.
      this.busy = createSqliteBusyWait(this.name, () => this.checkClock, this.options.busyTimeoutMs ?? DEFAULT_SQLITE_BUSY_TIMEOUT_MS);
      this.file = opened.file;
      this.wal = opened.file ? fileIdentityOf(`${this.path}-wal`) : undefined;
      this.lockFile = this.writerLock ? fileIdentityOf(lockPathOf(this.path)) : undefined;
      this.identity = opened.identity;
      this.lost = undefined;
      // A new connection: its index is the one SQLite makes or finds now.
      this.shm = undefined;
      this.shmUnsafe = undefined;
      this.markerStamp = undefined;
      this.db = db;
      this.scheduleCheck();
    } catch (error) {
      db?.close();
      this.writerLock?.close();
      this.writerLock = undefined;
      this.fail(error);
    }
  }

  /**
   * Runs SQLite's integrity check on the open store. An open checks the tables it reads whole
   * (schema, strategies, identity, trading state: they do not grow with history); `full: true`
   * reads the whole file, the audit trail included, and takes as long as the file is large: run
   * it from a maintenance job or the CLI (`strategy-lifecycle status --check-integrity`).
   *
   * @example
   * ```ts
   * await store.checkIntegrity({ full: true }); // throws StoreCorruptError on a damaged page
   * ```
   * @throws {StoreCorruptError} naming the file and SQLite's first finding.
   * @throws {StoreUnavailableError} when the store is not open.
   */
  async checkIntegrity(options: IntegrityCheckOptions = {}): Promise<void> {
    checkSqliteIntegrity(this.handle, this.path, options);
  }

  /**
   * Checks that the path still names the open file and the marker still names this store.
   * A missing marker is written again (the database is intact).
   * @throws {StoreUnavailableError} once the file is deleted or replaced; every later write too.
   */
  checkFile(): void {
    if (this.lost) throw this.lost;
    if (!this.file) return;
    if (!isSameFile(this.file, fileIdentityOf(this.path))) throw (this.lost = sqliteFileLost(this.name, this.path));
    this.checkWal();
    if (this.lockFile && !isSameFile(this.lockFile, fileIdentityOf(lockPathOf(this.path))))
      throw (this.lost = sqliteLockLost(this.name, this.path));
    // The marker is read again only when its stat changed: a check is two stats, so a simulated
    // clock crossing days (a check every 5 s of it) stays affordable.
    const markerPath = markerPathOf(this.path);
    const stamp = fileStampOf(markerPath);
    if (stamp !== undefined && stamp === this.markerStamp) return;
    const replaced = recheckSqliteMarker(this.name, this.path, this.openIdentity, this.options.create);
    if (replaced) throw (this.lost = replaced);
    this.markerStamp = fileStampOf(markerPath);
  }

  private scheduleCheck(): void {
    const every = this.options.checkEveryMs ?? 5000;
    if (!this.file || !(every > 0)) return;
    this.checkTimer = this.checkClock.setTimeout(() => {
      this.checkTimer = undefined;
      if (!this.db) return;
      try {
        this.checkFile();
      } catch (error) {
        // Typed for onFault: a failure of the check itself (the marker could not be written again,
        // the directory unwritable for a while) is named as such.
        const fault =
          error instanceof StoreUnavailableError
            ? error
            : new StoreUnavailableError(this.name, `the periodic file check failed: ${describeThrown(error)}`, error);
        try {
          (this.options.onFault ?? ((e: StoreUnavailableError) => console.error(e.message)))(fault);
        } catch (handlerError) {
          console.error(`${this.name}: onFault threw`, handlerError);
        }
      }
      // The check goes on after a passing fault (it may be gone by the next one); a lost file is for good.
      if (!this.lost) this.scheduleCheck();
    }, every);
  }

  /**
   * Every strategy with its trail, or its newest `window` records (one process owns the file:
   * there are no leases to claim). The window is one query: records are numbered from 1 without
   * gaps, so a strategy's newest N are a range of the (strategy_id, seq) primary key.
   * A windowed load (a restore's) checks it: a row whose trail does not end at its seq, or whose
   * window has records missing, is refused. With `claim: false` (tooling) and for the whole trail,
   * rows are returned as stored, disagreements and all, for `replay --verify` to report record by record.
   * @throws {StoreCorruptError} naming the strategy whose row and trail disagree (windowed), or a damaged page.
   */
  async loadAll(options: LoadOptions = {}): Promise<StoredStrategy[]> {
    try {
      const window = options.window === undefined ? undefined : Math.max(0, Math.floor(options.window));
      return window === undefined
        ? loadSqliteStrategies(this.handle, this.path)
        : loadSqliteWindows(this.handle, window, this.path, options.claim !== false);
    } catch (error) {
      return this.failRead(error);
    }
  }

  /** One page of a strategy's trail, oldest first (see {@link AuditTrailQuery}); a range of the primary key. */
  async readAuditTrail(strategyId: string, query?: AuditTrailQuery): Promise<TransitionRecord[]> {
    try {
      return readSqliteAuditPage(this.handle, strategyId, query, this.path);
    } catch (error) {
      return this.failRead(error);
    }
  }

  async create(strategy: NewStrategy): Promise<void> {
    try {
      await this.whenNotBusy(() => {
        this.beforeWrite();
        this.prepared.create.run(
          strategy.strategyId,
          strategy.variant,
          JSON.stringify(strategy.params),
          JSON.stringify(strategy.snapshot),
          strategy.state,
          strategy.at,
          strategy.at,
        );
        this.confirmFile();
      });
    } catch (error) {
      if ((error as { code?: string })?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
        throw new StoreConflictError(strategy.strategyId, 'already stored');
      this.fail(error);
    }
  }

  /**
   * Runs a synchronous write now and, while another connection holds the write lock, again on
   * timers (see sqliteBusy.ts). Its first attempt runs before this returns, as the write did before.
   */
  private whenNotBusy<T>(write: () => T): Promise<T> {
    if (!this.busy) throw new StoreUnavailableError(this.name, 'not open');
    return this.busy.run(write);
  }

  /**
   * One batch of appends (see {@link commitBatchOnce}); refused as busy, it is tried again on timers,
   * the group commit holding the batches behind it, so the order of each strategy's writes holds.
   * A busy attempt committed nothing (SQLite refused its `BEGIN IMMEDIATE`, or rolled it back).
   */
  private commitBatch(writes: SerializedWrite[]): BatchOutcome | Promise<BatchOutcome> {
    try {
      return this.commitBatchOnce(writes);
    } catch (error) {
      if (!isSqliteBusy(error) || !this.busy) this.fail(error);
      // The first attempt ran above: the wait starts with its refusal.
      let first = true;
      return this.busy
        .run(() => {
          if (first) {
            first = false;
            throw error;
          }
          return this.commitBatchOnce(writes);
        })
        .catch((failure: unknown) => this.fail(failure));
    }
  }

  /** One batch of appends: one transaction (a savepoint per write only when one broke a constraint), the file confirmed once. */
  /** Errors typed here, but SQLite's busy refusal (retried by {@link commitBatch}): a write's promise rejects with what the batch reports. */
  private commitBatchOnce(writes: SerializedWrite[]): BatchOutcome {
    try {
      if (!this.appendTransaction || !this.appendTx) throw new StoreUnavailableError(this.name, 'closed before the batch was committed');
      this.beforeWrite();
      const db = this.handle;
      // Compiled once per connection (a reopened store has a new one).
      if (this.batch?.db !== db)
        this.batch = { db, commit: sqliteBatchCommit(db, { plain: this.appendTx, inSavepoint: this.appendTransaction }) };
      let outcome: BatchOutcome;
      try {
        outcome = this.batch.commit(writes);
      } catch (error) {
        this.writeFailure = error;
        throw error;
      }
      this.writeFailure = undefined;
      this.confirmFile();
      return outcome.some((error) => error !== undefined)
        ? outcome.map((error) => (error === undefined ? undefined : this.typed(error)))
        : outcome;
    } catch (error) {
      if (isSqliteBusy(error)) throw error;
      this.fail(error);
    }
  }

  /**
   * Commits the write (with the writes ready at the same time, see
   * {@link SqliteStoreOptions.groupCommit}); resolves once it is committed and the file confirmed.
   */
  append(write: StrategyWrite): Promise<void> {
    // Straight to the group commit, whose batch reports typed errors: no async wrapper per write.
    // Serialised now, while the snapshot the transition just made is still in the CPU's caches:
    // made later, inside the batch commit, the same JSON cost about twice as much (10k broadcast profile).
    if (this.group && this.appendTransaction && !this.lost) {
      let row: SerializedWrite;
      try {
        row = serializedWrite(write);
      } catch (error) {
        return Promise.reject(this.typed(error));
      }
      return this.group.submit(row);
    }
    return this.appendAlone(write);
  }

  /** An append without group commit, or refused before it reaches one (closed, file lost). */
  private async appendAlone(write: StrategyWrite): Promise<void> {
    try {
      if (!this.appendTransaction) throw new StoreUnavailableError(this.name, 'not open');
      this.beforeWrite();
      if (this.group) return await this.group.submit(serializedWrite(write));
      const transaction = this.appendTransaction;
      try {
        const row = serializedWrite(write);
        await this.whenNotBusy(() => {
          this.guardShm();
          transaction(row);
        });
      } catch (error) {
        // The store could not commit (not a refusal of this write, which names its own problem):
        // `checkWritable` (the service's /ready) reports it until a write goes through.
        if (!(error instanceof StrategyLifecycleError) || isSqliteBusy(error.cause)) this.writeFailure = error;
        throw error;
      }
      this.writeFailure = undefined;
      // Committed, but to the file the path names? Only then is the write acknowledged.
      this.confirmFile();
    } catch (error) {
      this.fail(error);
    }
  }

  async remove(strategyId: string): Promise<void> {
    try {
      await this.whenNotBusy(() => {
        this.beforeWrite();
        this.handle.transaction(() => {
          this.prepared.removeRecords.run(strategyId);
          this.prepared.remove.run(strategyId);
        })();
        this.confirmFile();
      });
    } catch (error) {
      this.fail(error);
    }
  }

  async loadSystemState(): Promise<StoredSystemState> {
    try {
      // A lost file answers no read either: readiness probes read this, and must see the store as down.
      if (this.lost) throw this.lost;
      return loadSqliteSystemState(this.handle, this.path);
    } catch (error) {
      return this.fail(error);
    }
  }

  async saveTradingState(request: TradingStateRequest): Promise<TradingStateChange> {
    try {
      return await this.whenNotBusy(() => {
        this.beforeWrite();
        const change = saveSqliteTradingState(this.handle, this.prepared.tradingState, request);
        // A halt that cannot be found again is not a halt: confirmed like every write.
        this.confirmFile();
        return change;
      });
    } catch (error) {
      return this.fail(error);
    }
  }

  async saveKillSwitch(progress: KillSwitchProgress): Promise<void> {
    try {
      await this.whenNotBusy(() => {
        this.beforeWrite();
        saveSqliteKillSwitch(this.handle, progress);
        this.confirmFile();
      });
    } catch (error) {
      this.fail(error);
    }
  }

  /** The audit feed after a cursor, every record committed after it (see {@link readSqliteAuditFeed}). */
  async readAuditAfter(after: string | undefined, options: { limit: number; countUpTo?: number }): Promise<AuditFeedPage> {
    try {
      return readSqliteAuditFeed(this.handle, after, options, this.path);
    } catch (error) {
      return this.failRead(error);
    }
  }

  async checkWritable(): Promise<void> {
    if (this.lost) throw this.lost;
    if (this.writeFailure === undefined) return;
    try {
      writeNothing(this.handle);
      this.writeFailure = undefined;
    } catch (error) {
      this.fail(error);
    }
  }

  /** The shared-memory index as last seen: its inode and size (a file only grows while open). */
  private shm: { ino: number; size: number } | undefined = undefined;

  /**
   * Before SQLite touches its shared-memory index (every read and write goes through
   * {@link handle}): the file it maps must still be as large as it was and writable, or a write
   * through the mapping kills the process (SIGBUS), every strategy with it. A truncated index is
   * given its size back (the pages read as zeros, and SQLite rebuilds the index from the log) and
   * the store is lost; so is an unwritable one. Deleted or replaced, SQLite keeps its own mapping:
   * nothing to do. One stat and one access check (about two microseconds).
   */
  private guardShm(): void {
    if (this.shmUnsafe !== undefined) throw this.lost ?? sqliteShmLost(this.name, this.path, 'unwritable');
    if (!this.file) return;
    const shm = `${this.path}-shm`;
    const stat = statSync(shm, { throwIfNoEntry: false });
    if (!stat) return;
    const seen = this.shm;
    // Another file in its place (deleted, made again by another process): SQLite keeps its own mapping.
    if (seen && stat.ino === seen.ino && stat.size < seen.size) {
      this.shmUnsafe = true;
      try {
        truncateSync(shm, seen.size);
        this.shmUnsafe = false; // its size back: closing the connection is safe again
      } catch {
        // cannot restore it: the refusal below stands, and nothing touches the mapping again
      }
      throw (this.lost = sqliteShmLost(this.name, this.path, 'truncated'));
    }
    this.shm = { ino: stat.ino, size: stat.size };
    try {
      accessSync(shm, fsConstants.W_OK);
    } catch {
      this.shmUnsafe = true;
      throw (this.lost = sqliteShmLost(this.name, this.path, 'unwritable'));
    }
  }
  /**
   * Set once the index was found truncated or unwritable: the connection is never used again.
   * True while the mapping stays unsafe: then not even closed (closing writes to it), but kept
   * referenced for the life of the process, since collecting it would close it.
   */
  private shmUnsafe: boolean | undefined = undefined;

  /**
   * Before a commit: the store is not lost, and the write-ahead log is still the one SQLite appends
   * to. Checked after the commit only, a write made after the log was deleted went into the deleted
   * log, was refused (`StoreUnavailableError`: not applied), and was then copied into the database
   * file with what was committed before it: a restart found the refused transition applied.
   * Closed, it is "not open" (its log is gone with the close: not a lost log to restart for).
   */
  private beforeWrite(): void {
    if (this.lost) throw this.lost;
    if (!this.db) throw new StoreUnavailableError(this.name, 'not open');
    this.checkWal();
  }

  /** After a commit: the path still names the open file, and its write-ahead log (two stats, about a microsecond each). */
  private confirmFile(): void {
    if (this.file && !isSameFile(this.file, fileIdentityOf(this.path))) this.checkFile();
    this.checkWal();
  }

  /**
   * The write-ahead log on disk is still the one SQLite appends to. Gone or replaced, what was
   * committed is copied into the database file (a checkpoint, through the open connection), and
   * the store refuses every write from then on.
   */
  private checkWal(): void {
    if (!this.file) return;
    const now = fileIdentityOf(`${this.path}-wal`);
    if (!this.wal) {
      this.wal = now; // made by the first write after the open
      return;
    }
    if (isSameFile(this.wal, now)) return;
    try {
      if (this.shmUnsafe === undefined) this.db?.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // the copy is best effort: the refusal below stands either way
    }
    throw (this.lost = sqliteWalLost(this.name, this.path));
  }

  /**
   * Commits the appends already queued, then closes. A wait for another connection's write lock
   * ends now: its writes (and those behind it still refused as busy) fail with SQLITE_BUSY.
   */
  async close(): Promise<void> {
    this.busy?.cancel();
    await this.group?.drain();
    // An append queued after the drain finds no transaction to join and is refused, not lost.
    this.group = undefined;
    this.appendTransaction = undefined;
    if (this.checkTimer !== undefined) this.checkClock.clearTimeout(this.checkTimer);
    this.checkTimer = undefined;
    if (this.shmUnsafe === true && this.db) UNSAFE_TO_CLOSE.push(this.db);
    else this.db?.close();
    this.db = undefined;
    this.writerLock?.close();
    this.writerLock = undefined;
  }
}
