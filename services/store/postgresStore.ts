import { checkPostgresOptions } from './storeOptions.js';
import { randomUUID } from 'node:crypto';
import type * as pg from 'pg';
import type { TradingStateChange } from '../../machines/coordinator.js';
import { OwnershipLostError, StoreConflictError, StoreUnavailableError } from '../../machines/errors.js';
import type { TransitionRecord } from '../../machines/types.js';
import { realClock, type Clock } from '../market/clock.js';
import type { GroupCommit } from './groupCommit.js';
import { writeAlone, type PgBatchContext, type PgQueuedWrite } from './postgresBatch.js';
import { claimFree, releaseLease, releaseLeases, renewLeases, setAsideLease, stillSetAside, type Owner } from './postgresOwnership.js';
import { deleteOwnedStrategy, insertStrategy, postgresGroupCommit } from './postgresWrites.js';
import { createPostgresPool, PostgresListeners, runPostgresTransaction } from './postgresConnections.js';
import { migratePostgres } from './postgresSchema.js';
import { readPostgresAuditFeed } from './postgresAuditFeed.js';
import * as systemState from './postgresSystemState.js';
import {
  allPostgresStrategyIds,
  loadPostgresStrategies,
  readPostgresAuditPage,
  storedPostgresStrategyIds,
  type TrailCheck,
} from './postgresReads.js';
import { typedPostgresError } from './postgresErrors.js';
import { beginTransaction, CHANGE_CHANNEL, changesOf, type PostgresStoreOptions, type StoreChange } from './postgresOptions.js';
import type {
  AuditFeedPage,
  AuditTrailQuery,
  KillSwitchProgress,
  LeaseRoundResult,
  LoadOptions,
  NewStrategy,
  StoredStrategy,
  StoredSystemState,
  StrategyStore,
  StrategyWrite,
  TradingStateRequest,
} from './types.js';

export { beginTransaction, CHANGE_CHANNEL, changesOf } from './postgresOptions.js';
export type { PostgresStoreOptions, StoreChange } from './postgresOptions.js';

/**
 * The multi-instance store on PostgreSQL (`pg`). Each strategy is owned by one instance at a
 * time through a lease (owner, expiry) and a fencing token: a write commits only if the token it
 * was made under is still the strategy's (checked in the same transaction), so a paused or
 * partitioned old owner can never write (or delete) after another instance took over. Lease
 * rounds skip rows locked elsewhere and every transaction waits for locks at most
 * `lockTimeoutMs`, so a paused instance holding a lock stalls no one. Entries that take a
 * portfolio slot are checked against the limits across all instances in their own transaction.
 * Every commit is published with NOTIFY on {@link CHANGE_CHANNEL}.
 *
 * @example
 * ```ts
 * const store = new PostgresStore({ connectionString: process.env.DATABASE_URL!, instanceId: 'node-a' });
 * const system = await openStrategySystem({ store, variants: [zeroDte, lt112, strangle] });
 * ```
 */
export class PostgresStore implements StrategyStore {
  readonly name: string;
  readonly instanceId: string;
  readonly leaseMs: number;
  readonly lockTimeoutMs: number;
  /** How long any query waits for the server's answer (see {@link PostgresStoreOptions.queryTimeoutMs}). */
  readonly queryTimeoutMs: number;
  private clock: Clock;
  private readonly clockGiven: boolean;
  private pool: pg.Pool | undefined;
  /** The LISTEN connections `watch` and `watchSystemState` opened and nobody stopped yet. */
  private readonly listeners: PostgresListeners;
  /** Fencing token of each strategy this instance owns. */
  private readonly tokens = new Map<string, number>();
  /** Strategies a lease round claimed but has not returned yet (the load after the claim failed). */
  private readonly unloadedClaims = new Set<string>();
  /** Strategies a lease round found lost but has not returned yet (a later step of the round failed). */
  private readonly unreportedLost = new Set<string>();
  /** Strategies this instance refused, by id, with their row's version then: its claims skip them while it is the same. */
  private readonly setAside = new Map<string, string>();
  /** The appends waiting for their batch's commit (absent with `groupCommit: false`). */
  private group: GroupCommit<PgQueuedWrite> | undefined;

  constructor(private readonly options: PostgresStoreOptions) {
    checkPostgresOptions(options);
    const url = new URL(options.connectionString);
    this.name = `postgres:${url.hostname}:${url.port || 5432}${url.pathname}`;
    this.instanceId = options.instanceId ?? randomUUID();
    this.leaseMs = options.leaseMs ?? 15_000;
    this.lockTimeoutMs = options.lockTimeoutMs ?? Math.max(50, Math.min(2000, Math.floor(this.leaseMs / 5)));
    this.queryTimeoutMs = options.queryTimeoutMs ?? Math.max(this.leaseMs, this.lockTimeoutMs + 1000);
    this.clock = options.clock ?? realClock;
    this.clockGiven = options.clock !== undefined;
    this.listeners = new PostgresListeners(
      options.connectionString,
      (error) => typedPostgresError(this.name, this.lockTimeoutMs, error, this.queryTimeoutMs),
      `strategy-lifecycle ${this.instanceId} listen`.slice(0, 63),
    );
  }

  /** Uses the system's clock for lease times unless a clock was given explicitly. */
  bindClock(clock: Clock): void {
    if (!this.clockGiven) this.clock = clock;
  }

  /** Throws the store's typed error for `error` (see postgresErrors.ts). */
  private fail(error: unknown): never {
    throw typedPostgresError(this.name, this.lockTimeoutMs, error, this.queryTimeoutMs);
  }

  private get db(): pg.Pool {
    if (!this.pool) throw new StoreUnavailableError(this.name, 'not open');
    return this.pool;
  }

  /** The store's typed failure, made once: every transaction hands its error to it. */
  private readonly failWith = (error: unknown): never => this.fail(error);

  /** Runs `work` in one transaction (see {@link runPostgresTransaction}); its failure typed. */
  private transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return runPostgresTransaction(this.pool, this.name, this.begin, work, this.failWith);
  }

  /**
   * Bounded waits: a lock held by a paused instance fails the transaction instead of hanging it,
   * and a transaction of this process left idle (paused mid-write) is ended by the server after a
   * lease, releasing its locks for the instance that takes over.
   */
  private get begin(): string {
    return beginTransaction(this.lockTimeoutMs, this.leaseMs);
  }

  private get batchContext(): PgBatchContext {
    return {
      pool: this.db,
      instanceId: this.instanceId,
      channel: CHANGE_CHANNEL,
      begin: this.begin,
      leaseUntil: this.clock.now() + this.leaseMs,
    };
  }

  async open(): Promise<void> {
    if (this.pool) return;
    const pool = createPostgresPool({
      connectionString: this.options.connectionString,
      maxConnections: this.options.maxConnections ?? 10,
      lockTimeoutMs: this.lockTimeoutMs,
      queryTimeoutMs: this.queryTimeoutMs,
      applicationName: `strategy-lifecycle ${this.instanceId}`.slice(0, 63),
    });
    this.pool = pool;
    try {
      await this.transaction((client) => migratePostgres(client, this.name));
    } catch (error) {
      this.pool = undefined;
      await pool.end().catch(() => undefined);
      throw error;
    }
    this.group = postgresGroupCommit(() => this.batchContext, this.options.groupCommit, this.options.onBatch, this.failWith);
  }

  /** Claims what is free (see {@link claimFree}) and remembers the fencing tokens. */
  private async claim(adoptOwn: boolean): Promise<string[]> {
    // Forgets first what was removed or changed since it was set aside: a repaired row is claimed below.
    if (this.setAside.size > 0) {
      const still = new Set(await stillSetAside(this.db, this.setAside));
      for (const id of this.setAside.keys()) if (!still.has(id)) this.setAside.delete(id);
    }
    const claimed = await claimFree(this.db, this.instanceId, this.clock.now(), this.leaseMs, adoptOwn, this.tokens, this.setAside);
    for (const [id, token] of claimed) {
      this.tokens.set(id, token);
      this.setAside.delete(id);
    }
    return [...claimed.keys()];
  }

  /**
   * The strategies this instance refused (their row disagrees with their trail, or it cannot
   * restore them) and set aside: its lease rounds do not claim them while their row and trail stay
   * as they are. Each was reported once, when refused.
   */
  setAsideIds(): string[] {
    return [...this.setAside.keys()].sort();
  }

  private owner(strategyId: string, fence?: number): Owner {
    return { instanceId: this.instanceId, token: fence ?? this.tokens.get(strategyId) };
  }

  /** The strategies `ids` (see {@link loadPostgresStrategies}); none asks nothing of the pool, not even that it is open. */
  private async load(ids: string[], window?: number, check?: TrailCheck): Promise<StoredStrategy[]> {
    return ids.length === 0 ? [] : loadPostgresStrategies(this.db, ids, window, check);
  }

  /** A restore's check that refuses the whole load at the first row that disagrees with its trail. */
  private get refuseAll(): TrailCheck {
    return {
      store: this.name,
      refuse: (_id, error) => {
        throw error;
      },
    };
  }

  /**
   * Claims the strategies no live instance owns (plus those an earlier run of this instance id
   * held) and loads them; with `claim: false`, reads every strategy and touches no lease.
   * A windowed load that claims (a restore's) checks every row against its trail, as SQLite's
   * does (see trailAgreement.ts): the claim and the load are one transaction, so a row that
   * disagrees refuses the load and nothing is written, no lease taken, no token bumped. With
   * `claim: false` (tooling) and for the whole trail, rows are returned as stored.
   * @throws {StoreCorruptError} naming the strategy whose row and trail disagree (windowed).
   */
  async loadAll(options: LoadOptions = {}): Promise<StoredStrategy[]> {
    if (options.claim === false) {
      try {
        return await this.load(await allPostgresStrategyIds(this.db), options.window);
      } catch (error) {
        return this.fail(error);
      }
    }
    const { claimed, stored } = await this.transaction(async (client) => {
      const claimed = await claimFree(client, this.instanceId, this.clock.now(), this.leaseMs, true, this.tokens, this.setAside);
      const ids = [...new Set([...this.tokens.keys(), ...claimed.keys()])];
      const stored = ids.length === 0 ? [] : await loadPostgresStrategies(client, ids, options.window, this.refuseAll);
      return { claimed, stored };
    });
    for (const [id, token] of claimed) this.tokens.set(id, token);
    return stored;
  }

  /**
   * Renews this instance's leases and takes over the strategies whose owner's lease expired.
   * Returns the strategies taken over (to restore), the ids this instance lost, and the ones it
   * claimed but refused to take over: a row that disagrees with its trail (see
   * trailAgreement.ts), as `StoreCorruptError` naming it. Their leases are the caller's to let go of.
   */
  async maintainLeases(options: Pick<LoadOptions, 'window'> = {}): Promise<LeaseRoundResult> {
    try {
      // Each step commits on its own: what one found is kept until a round returns it, so a later
      // step's failure neither strands a claimed strategy unserved (its lease renewed by every
      // round, nobody else able to take it) nor hides a lost one (its token is already forgotten).
      for (const id of await this.renew()) {
        this.unreportedLost.add(id);
        this.unloadedClaims.delete(id);
      }
      for (const id of await this.claim(false)) this.unloadedClaims.add(id);
      const claimedIds = [...this.unloadedClaims].filter((id) => this.tokens.has(id));
      const refused: NonNullable<LeaseRoundResult['refused']> = [];
      const check: TrailCheck = { store: this.name, refuse: (strategyId, error) => void refused.push({ strategyId, error }) };
      const claimed = await this.load(claimedIds, options.window, check);
      const lost = [...this.unreportedLost];
      this.unloadedClaims.clear();
      this.unreportedLost.clear();
      return { claimed, lost, refused };
    } catch (error) {
      return this.fail(error);
    }
  }

  /**
   * One page of a strategy's trail, oldest first (see {@link AuditTrailQuery}), whichever instance
   * owns it: a read takes no lease. An index range scan of (strategy_id, seq).
   */
  async readAuditTrail(strategyId: string, query?: AuditTrailQuery): Promise<TransitionRecord[]> {
    try {
      return await readPostgresAuditPage(this.db, strategyId, query);
    } catch (error) {
      return this.fail(error);
    }
  }

  /** Extends every lease this instance still holds; forgets (and returns) the ones it lost. */
  private async renew(): Promise<string[]> {
    const lost = await renewLeases(this.db, this.instanceId, this.tokens, this.clock.now(), this.leaseMs);
    for (const id of lost) this.tokens.delete(id);
    return lost;
  }

  async create(strategy: NewStrategy): Promise<void> {
    await this.transaction(async (client) => {
      if (!(await insertStrategy(client, strategy, this.instanceId, this.clock.now() + this.leaseMs)))
        throw new StoreConflictError(strategy.strategyId, 'already stored');
      this.tokens.set(strategy.strategyId, 1);
    });
  }

  /**
   * Commits the write under its fencing token, with the writes ready at the same time (see
   * {@link PostgresStoreOptions.groupCommit}); resolves once that commit is done.
   */
  async append(write: StrategyWrite): Promise<void> {
    const id = write.strategyId;
    const { token } = this.owner(id, write.fence);
    try {
      if (token === undefined) throw new OwnershipLostError(id, this.instanceId, 'write refused: this instance holds no lease on it');
      if (this.group) await this.group.submit({ write, token }).catch((error: unknown) => this.fail(error));
      else await this.transaction((client) => writeAlone(client, this.batchContext, { write, token }));
    } catch (error) {
      // Only a lost lease forgets the token (unless a newer claim replaced it meanwhile): a seq
      // conflict under a valid token leaves it owned here.
      if (error instanceof OwnershipLostError && this.tokens.get(id) === token) this.tokens.delete(id);
      throw error;
    }
  }

  /**
   * Deletes a strategy and its trail, only if this instance owns it under its current fencing
   * token (checked with the row locked, in the same transaction as the deletes).
   * @throws {OwnershipLostError} when another instance owns it: nothing is deleted.
   */
  async remove(strategyId: string): Promise<void> {
    const owner = this.owner(strategyId);
    try {
      await this.transaction((client) => deleteOwnedStrategy(client, strategyId, owner));
    } catch (error) {
      if (error instanceof OwnershipLostError) this.tokens.delete(strategyId);
      throw error;
    }
    this.tokens.delete(strategyId);
  }

  async loadSystemState(): Promise<StoredSystemState> {
    return systemState.loadSystemState(this.db).catch((error: unknown) => this.fail(error));
  }

  async saveTradingState(request: TradingStateRequest): Promise<TradingStateChange> {
    return this.transaction((client) => systemState.saveTradingState(client, request, this.instanceId));
  }

  async saveKillSwitch(progress: KillSwitchProgress): Promise<void> {
    return this.transaction((client) => systemState.saveKillSwitch(client, progress, this.instanceId));
  }

  /** The audit feed of every instance after a cursor, commit-safe (see {@link readPostgresAuditFeed}). */
  async readAuditAfter(after: string | undefined, options: { limit: number; countUpTo?: number }): Promise<AuditFeedPage> {
    return readPostgresAuditFeed(this.db, after, options, this.name).catch((error: unknown) => this.fail(error));
  }

  async holdingPositions(): Promise<string[]> {
    return systemState.holdingPositions(this.db).catch((error: unknown) => this.fail(error));
  }

  /**
   * Calls `listener` on every committed trading state change and kill switch step (any instance),
   * through LISTEN; and once more whenever a lost LISTEN connection is back (what was sent while
   * it was down was never delivered: the listener reads the state again).
   */
  watchSystemState(listener: () => void): Promise<() => Promise<void>> {
    return this.listen(
      systemState.SYSTEM_CHANNEL,
      () => listener(),
      () => listener(),
    );
  }

  /**
   * Gives up this instance's lease of one strategy (under its token) so another claims it at once;
   * with `setAside`, remembers the row's version so this instance's claims skip it until it changes
   * (see {@link StrategyStore.release}).
   */
  async release(strategyId: string, options: { setAside?: boolean } = {}): Promise<void> {
    const token = this.tokens.get(strategyId);
    this.tokens.delete(strategyId);
    if (token === undefined) return;
    const owner = { instanceId: this.instanceId, token };
    if (!options.setAside) return this.transaction((client) => releaseLease(client, strategyId, owner));
    const version = await this.transaction((client) => setAsideLease(client, strategyId, owner));
    if (version !== undefined) this.setAside.set(strategyId, version);
  }

  /** Which of `strategyIds` are stored, whoever owns them (see {@link StrategyStore.storedIds}): one query. */
  async storedIds(strategyIds: readonly string[]): Promise<string[]> {
    return storedPostgresStrategyIds(this.db, strategyIds).catch((error: unknown) => this.fail(error));
  }

  /**
   * Receives every committed change (from any instance) through LISTEN, without polling.
   * A `listener` that throws, or a payload on the channel that is not a change (anyone may
   * NOTIFY on it), is reported with console.error and skipped. Resolves once listening; call the returned function to stop. A lost connection (a restart, a
   * failover) is opened again by itself; changes committed while it was down are not delivered,
   * and `onReconnect` is called once it listens again so the caller can read what it missed.
   */
  async watch(listener: (change: StoreChange) => void, options: { onReconnect?: () => void } = {}): Promise<() => Promise<void>> {
    return this.listen(
      CHANGE_CHANNEL,
      (payload) => {
        // Each change on its own: a listener that throws on one still gets the rest of the payload.
        for (const change of changesOf(payload)) {
          try {
            listener(change);
          } catch (error) {
            console.error(`strategy-lifecycle: LISTEN ${CHANGE_CHANNEL}: the watch listener threw`, error);
          }
        }
      },
      options.onReconnect,
    );
  }

  /** LISTENs on `channel` over a connection of its own (see {@link PostgresListeners}); its failure typed. */
  private listen(channel: string, listener: (payload: string) => void, onReconnect?: () => void): Promise<() => Promise<void>> {
    return this.listeners.listen(channel, listener, onReconnect);
  }

  /** Ids this instance currently owns. */
  owned(): string[] {
    return [...this.tokens.keys()];
  }

  /** Releases this instance's leases (a graceful shutdown: others take over at once) and closes. */
  async close(): Promise<void> {
    // The appends already queued are committed first (they were made under this instance's leases).
    await this.group?.drain();
    // Every LISTEN connection too (a `watch` nobody stopped would otherwise reconnect for ever).
    await this.listeners.dropAll();
    this.group = undefined;
    const pool = this.pool;
    this.pool = undefined;
    const tokens = new Map(this.tokens);
    this.tokens.clear();
    this.unloadedClaims.clear();
    this.unreportedLost.clear();
    this.setAside.clear();
    if (pool && tokens.size) {
      // Rows locked elsewhere are left to expire rather than waited for.
      await releaseLeases(pool, this.instanceId, tokens).catch(() => undefined);
    }
    await pool?.end();
  }

  /** Stops without releasing anything, as a crashed instance would (tests): its pool and LISTEN connections are dropped. */
  async abandon(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    this.tokens.clear();
    await this.listeners.dropAll();
    await pool?.end();
  }
}
