import type { Snapshot } from 'xstate';
import type { TransitionRecord } from '../../machines/types.js';
import type { Clock } from '../clock.js';

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
  /** The audit trail, oldest first. */
  auditTrail: TransitionRecord[];
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
   * Every stored strategy with its audit trail. Multi-instance stores claim (lease) what they load
   * unless `claim: false`, which reads everything and changes nothing (verification, tooling).
   */
  loadAll(options?: { claim?: boolean }): Promise<StoredStrategy[]>;
  create(strategy: NewStrategy): Promise<void>;
  /** @throws {StoreUnavailableError} when it cannot commit; {@link StoreConflictError} on a lost race. */
  append(write: StrategyWrite): Promise<void>;
  remove(strategyId: string): Promise<void>;
  close(): Promise<void>;
  /** The system's clock, for stores that keep time: leases (PostgreSQL), periodic file checks (SQLite). */
  bindClock?(clock: Clock): void;
  /** Multi-instance stores: the lease period; the system renews at a third of it. */
  readonly leaseMs?: number;
  /**
   * Multi-instance stores: renews this instance's leases and takes over strategies whose owner's
   * lease expired. Returns the strategies taken over and the ids lost to another instance.
   */
  maintainLeases?(): Promise<{ claimed: StoredStrategy[]; lost: string[] }>;
}
