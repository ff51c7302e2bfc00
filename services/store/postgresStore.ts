import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { TradingStateChange } from '../../machines/coordinator.js';
import { SchemaVersionError, StoreConflictError, StoreUnavailableError, TradingStateRefusal } from '../../machines/errors.js';
import type { TransitionRecord } from '../../machines/types.js';
import { realClock, type Clock } from '../clock.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import * as systemState from './postgresSystemState.js';
import type { KillSwitchProgress, NewStrategy, StoredStrategy, StoredSystemState, StrategyStore, StrategyWrite, TradingStateRequest } from './types.js';

/** Options of {@link PostgresStore}. */
export interface PostgresStoreOptions {
  connectionString: string;
  /** This instance's name in leases (default: a random UUID). */
  instanceId?: string;
  /** How long a lease lasts without renewal (default 15 s). */
  leaseMs?: number;
  /** Lease times come from this clock; instances sharing a database need clocks that agree. */
  clock?: Clock;
  /** Pool size (default 10). */
  maxConnections?: number;
}

/** A change published with NOTIFY on the `strategy_lifecycle` channel after each commit. */
export interface StoreChange {
  strategyId: string;
  seq: number;
  state: string;
  instanceId: string;
}

const ignore = () => undefined;

/** The NOTIFY channel. */
export const CHANGE_CHANNEL = 'strategy_lifecycle';

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004', '53100', '53300']);

/**
 * The multi-instance store on PostgreSQL (`pg`). Each strategy is owned by one instance at a
 * time through a lease (owner, expiry) and a fencing token: a write commits only if the token it
 * was made under is still the strategy's (checked in the same transaction), so a paused or
 * partitioned old owner can never write after another instance took over. Every commit is
 * published with NOTIFY on {@link CHANGE_CHANNEL}.
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
  private clock: Clock;
  private readonly clockGiven: boolean;
  private pool: pg.Pool | undefined;
  /** Fencing token of each strategy this instance owns. */
  private readonly tokens = new Map<string, number>();

  constructor(private readonly options: PostgresStoreOptions) {
    const url = new URL(options.connectionString);
    this.name = `postgres:${url.hostname}:${url.port || 5432}${url.pathname}`;
    this.instanceId = options.instanceId ?? randomUUID();
    this.leaseMs = options.leaseMs ?? 15_000;
    this.clock = options.clock ?? realClock;
    this.clockGiven = options.clock !== undefined;
  }

  /** Uses the system's clock for lease times unless a clock was given explicitly. */
  bindClock(clock: Clock): void {
    if (!this.clockGiven) this.clock = clock;
  }

  private fail(error: unknown): never {
    if (error instanceof StoreConflictError || error instanceof SchemaVersionError || error instanceof StoreUnavailableError || error instanceof TradingStateRefusal) throw error;
    const code = (error as { code?: string })?.code ?? '';
    const message = (error as Error)?.message ?? String(error);
    throw new StoreUnavailableError(this.name, `${UNAVAILABLE_CODES.has(code) ? 'database unreachable' : 'query failed'}${code ? ` (${code})` : ''}: ${message}`, error);
  }

  private get db(): pg.Pool {
    if (!this.pool) throw new StoreUnavailableError(this.name, 'not open');
    return this.pool;
  }

  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient | undefined;
    try {
      client = await this.db.connect();
      // A connection dropping mid-transaction is reported through the failing query; without a
      // listener the client's own 'error' event would crash the process.
      client.on('error', ignore);
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client?.query('ROLLBACK').catch(() => undefined);
      return this.fail(error);
    } finally {
      client?.removeListener('error', ignore);
      client?.release();
    }
  }

  async open(): Promise<void> {
    if (this.pool) return;
    const pool = new pg.Pool({ connectionString: this.options.connectionString, max: this.options.maxConnections ?? 10, connectionTimeoutMillis: 5000 });
    // An idle client's connection dropping (server restart) must not crash the process.
    pool.on('error', () => undefined);
    this.pool = pool;
    try {
      await this.transaction(async (client) => {
        // One instance migrates at a time; the version is read before anything is written.
        await client.query('SELECT pg_advisory_xact_lock(728014)');
        await client.query('CREATE TABLE IF NOT EXISTS schema_meta (id INT PRIMARY KEY, version INT NOT NULL)');
        const found = (await client.query<{ version: number }>('SELECT version FROM schema_meta WHERE id = 1')).rows[0]?.version ?? 0;
        if (found > SCHEMA_VERSION) throw new SchemaVersionError(this.name, found, SCHEMA_VERSION);
        for (let version = found + 1; version <= SCHEMA_VERSION; version++) await client.query(MIGRATIONS.postgres[version - 1]);
        if (found < SCHEMA_VERSION) {
          await client.query('INSERT INTO schema_meta (id, version) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET version = $1', [SCHEMA_VERSION]);
        }
      });
    } catch (error) {
      this.pool = undefined;
      await pool.end().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Claims every strategy that has no live lease (and, at start, those an earlier run of this
   * same instance id held), bumping each fencing token so any older holder is fenced off.
   */
  private async claimFree(client: pg.PoolClient | pg.Pool, adoptOwn: boolean): Promise<string[]> {
    const now = this.clock.now();
    const { rows } = await client.query<{ strategy_id: string; fencing_token: string }>(
      `UPDATE strategies SET owner = $1, lease_expires_at = $2, fencing_token = fencing_token + 1
        WHERE owner IS NULL OR (owner IS DISTINCT FROM $1 AND lease_expires_at <= $3) OR ($4 AND owner = $1)
        RETURNING strategy_id, fencing_token`,
      [this.instanceId, now + this.leaseMs, now, adoptOwn],
    );
    for (const row of rows) this.tokens.set(row.strategy_id, Number(row.fencing_token));
    return rows.map((r) => r.strategy_id);
  }

  private async load(ids: string[]): Promise<StoredStrategy[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.db.query<{ strategy_id: string; variant: string; params: Record<string, unknown>; snapshot: StoredStrategy['snapshot']; seq: string; created_at: string }>(
      'SELECT strategy_id, variant, params, snapshot, seq, created_at FROM strategies WHERE strategy_id = ANY($1) ORDER BY strategy_id',
      [ids],
    );
    const records = await this.db.query<{ strategy_id: string; record: TransitionRecord }>('SELECT strategy_id, record FROM audit_records WHERE strategy_id = ANY($1) ORDER BY strategy_id, seq', [ids]);
    const trails = new Map<string, TransitionRecord[]>();
    for (const row of records.rows) {
      let trail = trails.get(row.strategy_id);
      if (!trail) trails.set(row.strategy_id, (trail = []));
      trail.push(row.record);
    }
    return rows.map((row) => ({
      strategyId: row.strategy_id,
      variant: row.variant,
      params: row.params,
      snapshot: row.snapshot,
      seq: Number(row.seq),
      createdAt: Number(row.created_at),
      auditTrail: trails.get(row.strategy_id) ?? [],
    }));
  }

  /**
   * Claims the strategies no live instance owns (plus those an earlier run of this instance id
   * held) and loads them; with `claim: false`, reads every strategy and touches no lease.
   */
  async loadAll(options: { claim?: boolean } = {}): Promise<StoredStrategy[]> {
    try {
      if (options.claim === false) {
        const { rows } = await this.db.query<{ strategy_id: string }>('SELECT strategy_id FROM strategies');
        return await this.load(rows.map((r) => r.strategy_id));
      }
      await this.claimFree(this.db, true);
      return await this.load([...this.tokens.keys()]);
    } catch (error) {
      return this.fail(error);
    }
  }

  /**
   * Renews this instance's leases and takes over the strategies whose owner's lease expired.
   * Returns the strategies taken over (to restore) and the ids this instance lost.
   */
  async maintainLeases(): Promise<{ claimed: StoredStrategy[]; lost: string[] }> {
    try {
      const lost = await this.renew();
      const claimed = await this.claimFree(this.db, false);
      return { claimed: await this.load(claimed), lost };
    } catch (error) {
      return this.fail(error);
    }
  }

  /** Extends every lease this instance still holds; forgets (and returns) the ones it lost. */
  private async renew(): Promise<string[]> {
    const ids = [...this.tokens.keys()];
    if (ids.length === 0) return [];
    const { rows } = await this.db.query<{ strategy_id: string; fencing_token: string }>(
      'UPDATE strategies SET lease_expires_at = $2 WHERE owner = $1 AND strategy_id = ANY($3) RETURNING strategy_id, fencing_token',
      [this.instanceId, this.clock.now() + this.leaseMs, ids],
    );
    const kept = new Map(rows.map((r) => [r.strategy_id, Number(r.fencing_token)]));
    const lost = ids.filter((id) => kept.get(id) !== this.tokens.get(id));
    for (const id of lost) this.tokens.delete(id);
    return lost;
  }

  async create(strategy: NewStrategy): Promise<void> {
    await this.transaction(async (client) => {
      const { rowCount } = await client.query(
        `INSERT INTO strategies (strategy_id, variant, params, snapshot, seq, state, created_at, updated_at, owner, lease_expires_at, fencing_token)
         VALUES ($1, $2, $3, $4, 0, $5, $6, $6, $7, $8, 1) ON CONFLICT (strategy_id) DO NOTHING`,
        [strategy.strategyId, strategy.variant, strategy.params, strategy.snapshot, strategy.state, strategy.at, this.instanceId, this.clock.now() + this.leaseMs],
      );
      if (rowCount !== 1) throw new StoreConflictError(strategy.strategyId, 'already stored');
      this.tokens.set(strategy.strategyId, 1);
    });
  }

  async append(write: StrategyWrite): Promise<void> {
    const token = write.fence ?? this.tokens.get(write.strategyId);
    if (token === undefined) throw new StoreConflictError(write.strategyId, `instance ${this.instanceId} does not own it`);
    const seq = write.records.length ? write.records[write.records.length - 1].seq : write.expectedSeq;
    await this.transaction(async (client) => {
      await systemState.checkStoredTradingState(client, write);
      // The fencing token is checked in the same transaction as the write.
      const { rowCount } = await client.query(
        `UPDATE strategies SET snapshot = $1, seq = $2, state = $3, updated_at = $4
          WHERE strategy_id = $5 AND seq = $6 AND owner = $7 AND fencing_token = $8`,
        [write.snapshot, seq, write.state, write.at, write.strategyId, write.expectedSeq, this.instanceId, token],
      );
      if (rowCount !== 1) {
        this.tokens.delete(write.strategyId);
        throw new StoreConflictError(write.strategyId, `write refused: fencing token ${token} of ${this.instanceId} is stale or the strategy is not at seq ${write.expectedSeq}`);
      }
      for (const record of write.records) {
        await client.query('INSERT INTO audit_records (strategy_id, seq, at, record) VALUES ($1, $2, $3, $4)', [write.strategyId, record.seq, record.at, record]);
      }
      const change: StoreChange = { strategyId: write.strategyId, seq, state: write.state, instanceId: this.instanceId };
      await client.query('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, JSON.stringify(change)]);
    });
  }

  async remove(strategyId: string): Promise<void> {
    await this.transaction(async (client) => {
      await client.query('DELETE FROM audit_records WHERE strategy_id = $1', [strategyId]);
      await client.query('DELETE FROM strategies WHERE strategy_id = $1 AND owner = $2', [strategyId, this.instanceId]);
    });
    this.tokens.delete(strategyId);
  }

  async loadSystemState(): Promise<StoredSystemState> {
    return systemState.loadSystemState(this.db).catch((error: unknown) => this.fail(error));
  }

  async saveTradingState(request: TradingStateRequest): Promise<TradingStateChange> {
    return this.transaction((client) => systemState.saveTradingState(client, request, this.instanceId));
  }

  async saveKillSwitch(progress: KillSwitchProgress): Promise<void> {
    return systemState.saveKillSwitch(this.db, progress).catch((error: unknown) => this.fail(error));
  }

  /** Calls `listener` on every committed trading state change (any instance), through LISTEN. */
  watchSystemState(listener: () => void): Promise<() => Promise<void>> {
    return this.listen(systemState.SYSTEM_CHANNEL, () => listener());
  }

  /**
   * Receives every committed change (from any instance) through LISTEN, without polling.
   * Resolves once listening; call the returned function to stop.
   */
  async watch(listener: (change: StoreChange) => void): Promise<() => Promise<void>> {
    return this.listen(CHANGE_CHANNEL, (payload) => listener(JSON.parse(payload) as StoreChange));
  }

  /** LISTENs on `channel` over a connection of its own (a pooled one would be handed back). */
  private async listen(channel: string, listener: (payload: string) => void): Promise<() => Promise<void>> {
    const client = new pg.Client({ connectionString: this.options.connectionString });
    client.on('error', () => undefined);
    try {
      await client.connect();
      client.on('notification', (message) => {
        if (message.channel === channel && message.payload) listener(message.payload);
      });
      await client.query(`LISTEN ${channel}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      return this.fail(error);
    }
    return () => client.end();
  }

  /** Ids this instance currently owns. */
  owned(): string[] {
    return [...this.tokens.keys()];
  }

  /** Releases this instance's leases (a graceful shutdown: others take over at once) and closes. */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    const ids = [...this.tokens.keys()];
    this.tokens.clear();
    if (pool && ids.length) {
      await pool.query('UPDATE strategies SET owner = NULL, lease_expires_at = 0 WHERE owner = $1 AND strategy_id = ANY($2)', [this.instanceId, ids]).catch(() => undefined);
    }
    await pool?.end();
  }

  /** Stops without releasing anything, as a crashed instance would (tests). */
  async abandon(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    this.tokens.clear();
    await pool?.end();
  }
}
