import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { checkTradingState, type TradingState } from '../../guards/portfolio.js';
import type { TradingStateChange } from '../../machines/coordinator.js';
import { SchemaVersionError, StoreConflictError, StoreUnavailableError, TradingStateRefusal } from '../../machines/errors.js';
import type { TransitionRecord } from '../../machines/types.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import type { KillSwitchProgress, NewStrategy, StoredStrategy, StoredSystemState, StrategyStore, StrategyWrite, TradingStateRequest } from './types.js';

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * `FULL` (default) syncs every commit to disk, so an acknowledged transition survives a power
   * cut; `NORMAL` survives a process crash only, and is faster.
   */
  synchronous?: 'FULL' | 'NORMAL';
}

/** The embedded default path, relative to the working directory. */
export const DEFAULT_SQLITE_PATH = './data/strategy-lifecycle.db';

/**
 * The embedded default store: one SQLite file through `better-sqlite3`, in WAL mode. Writes are
 * synchronous transactions; the promise of each method is settled before it returns.
 *
 * @example
 * ```ts
 * const store = new SqliteStore('./data/strategy-lifecycle.db');
 * const system = await openStrategySystem({ store, variants: [zeroDte, lt112, strangle] });
 * ```
 */
export class SqliteStore implements StrategyStore {
  readonly name: string;
  private db: Database.Database | undefined;
  private statements: Record<'update' | 'insertRecord' | 'create' | 'remove' | 'removeRecords' | 'tradingState', Database.Statement> | undefined;
  /** The write transaction, compiled once per connection. */
  private appendTransaction: ((write: StrategyWrite) => void) | undefined;

  constructor(
    readonly path: string = DEFAULT_SQLITE_PATH,
    private readonly options: SqliteStoreOptions = {},
  ) {
    this.name = `sqlite:${path}`;
  }

  private fail(error: unknown): never {
    if (error instanceof StoreConflictError || error instanceof SchemaVersionError || error instanceof StoreUnavailableError || error instanceof TradingStateRefusal) throw error;
    const code = (error as { code?: string })?.code ?? '';
    throw new StoreUnavailableError(this.name, `${code ? `${code}: ` : ''}${(error as Error)?.message ?? String(error)}`, error);
  }

  private get handle(): Database.Database {
    if (!this.db) throw new StoreUnavailableError(this.name, 'not open');
    return this.db;
  }

  async open(): Promise<void> {
    if (this.db) return;
    let db: Database.Database | undefined;
    try {
      if (this.path !== ':memory:') mkdirSync(dirname(this.path), { recursive: true });
      db = new Database(this.path);
      // Read the version before anything writes (WAL mode itself is a write).
      const found = db.pragma('user_version', { simple: true }) as number;
      if (found > SCHEMA_VERSION) throw new SchemaVersionError(this.name, found, SCHEMA_VERSION);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${this.options.synchronous ?? 'FULL'}`);
      db.pragma('busy_timeout = 5000');
      const migrate = db.transaction(() => {
        for (let version = found + 1; version <= SCHEMA_VERSION; version++) {
          db!.exec(MIGRATIONS.sqlite[version - 1]);
          db!.pragma(`user_version = ${version}`);
        }
      });
      migrate();
      this.statements = {
        update: db.prepare('UPDATE strategies SET snapshot = ?, seq = ?, state = ?, updated_at = ? WHERE strategy_id = ? AND seq = ?'),
        insertRecord: db.prepare('INSERT INTO audit_records (strategy_id, seq, at, record) VALUES (?, ?, ?, ?)'),
        create: db.prepare('INSERT INTO strategies (strategy_id, variant, params, snapshot, seq, state, created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?)'),
        remove: db.prepare('DELETE FROM strategies WHERE strategy_id = ?'),
        removeRecords: db.prepare('DELETE FROM audit_records WHERE strategy_id = ?'),
        tradingState: db.prepare('SELECT state FROM trading_state WHERE id = 1'),
      };
      this.appendTransaction = db.transaction(this.appendTx);
      this.db = db;
    } catch (error) {
      db?.close();
      this.fail(error);
    }
  }

  /** Every strategy with its trail (one process owns the file: there are no leases to claim). */
  async loadAll(_options?: { claim?: boolean }): Promise<StoredStrategy[]> {
    try {
      const rows = this.handle.prepare('SELECT strategy_id, variant, params, snapshot, seq, created_at FROM strategies ORDER BY strategy_id').all() as Array<{ strategy_id: string; variant: string; params: string; snapshot: string; seq: number; created_at: number }>;
      const trails = new Map<string, TransitionRecord[]>();
      for (const row of this.handle.prepare('SELECT strategy_id, record FROM audit_records ORDER BY strategy_id, seq').iterate() as Iterable<{ strategy_id: string; record: string }>) {
        let trail = trails.get(row.strategy_id);
        if (!trail) trails.set(row.strategy_id, (trail = []));
        trail.push(JSON.parse(row.record) as TransitionRecord);
      }
      return rows.map((row) => ({
        strategyId: row.strategy_id,
        variant: row.variant,
        params: JSON.parse(row.params) as Record<string, unknown>,
        snapshot: JSON.parse(row.snapshot),
        seq: row.seq,
        createdAt: row.created_at,
        auditTrail: trails.get(row.strategy_id) ?? [],
      }));
    } catch (error) {
      return this.fail(error);
    }
  }

  async create(strategy: NewStrategy): Promise<void> {
    try {
      this.statements!.create.run(strategy.strategyId, strategy.variant, JSON.stringify(strategy.params), JSON.stringify(strategy.snapshot), strategy.state, strategy.at, strategy.at);
    } catch (error) {
      if ((error as { code?: string })?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new StoreConflictError(strategy.strategyId, 'already stored');
      this.fail(error);
    }
  }

  private readonly appendTx = (write: StrategyWrite) => {
    const { update, insertRecord, tradingState } = this.statements!;
    if (write.effect) {
      // Checked in the write's own transaction, like the PostgreSQL store does.
      const refusal = checkTradingState((tradingState.get() as { state: TradingState }).state, write.effect);
      if (refusal) throw new TradingStateRefusal(write.strategyId, refusal.code as TradingStateRefusal['code'], refusal.reason);
    }
    const seq = write.records.length ? write.records[write.records.length - 1].seq : write.expectedSeq;
    const changed = update.run(JSON.stringify(write.snapshot), seq, write.state, write.at, write.strategyId, write.expectedSeq).changes;
    if (changed !== 1) throw new StoreConflictError(write.strategyId, `the stored strategy is not at seq ${write.expectedSeq}`);
    for (const record of write.records) insertRecord.run(write.strategyId, record.seq, record.at, JSON.stringify(record));
  };

  async append(write: StrategyWrite): Promise<void> {
    try {
      if (!this.appendTransaction) throw new StoreUnavailableError(this.name, 'not open');
      this.appendTransaction(write);
    } catch (error) {
      this.fail(error);
    }
  }

  async remove(strategyId: string): Promise<void> {
    try {
      this.handle.transaction(() => {
        this.statements!.removeRecords.run(strategyId);
        this.statements!.remove.run(strategyId);
      })();
    } catch (error) {
      this.fail(error);
    }
  }

  async loadSystemState(): Promise<StoredSystemState> {
    try {
      const changes = this.handle.prepare('SELECT from_state, to_state, reason, operator, at FROM trading_state_changes ORDER BY seq').all() as Array<{ from_state: TradingState; to_state: TradingState; reason: string; operator: string; at: number }>;
      const step = this.handle.prepare('SELECT progress FROM kill_switch_steps ORDER BY seq DESC LIMIT 1').get() as { progress: string } | undefined;
      return {
        tradingStateHistory: changes.map((c) => ({ from: c.from_state, to: c.to_state, reason: c.reason, operator: c.operator, at: c.at })),
        killSwitch: step ? (JSON.parse(step.progress) as KillSwitchProgress) : null,
      };
    } catch (error) {
      return this.fail(error);
    }
  }

  async saveTradingState(request: TradingStateRequest): Promise<TradingStateChange> {
    try {
      const db = this.handle;
      return db.transaction(() => {
        const from = (this.statements!.tradingState.get() as { state: TradingState }).state;
        db.prepare('UPDATE trading_state SET state = ? WHERE id = 1').run(request.to);
        db.prepare('INSERT INTO trading_state_changes (from_state, to_state, reason, operator, at) VALUES (?, ?, ?, ?, ?)').run(from, request.to, request.reason, request.operator, request.at);
        return { from, to: request.to, reason: request.reason, at: request.at, operator: request.operator };
      })();
    } catch (error) {
      return this.fail(error);
    }
  }

  async saveKillSwitch(progress: KillSwitchProgress): Promise<void> {
    try {
      this.handle.prepare('INSERT INTO kill_switch_steps (started_at, at, progress) VALUES (?, ?, ?)').run(progress.startedAt, progress.at, JSON.stringify(progress));
    } catch (error) {
      this.fail(error);
    }
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
  }
}
