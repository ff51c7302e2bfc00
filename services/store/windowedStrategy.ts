/**
 * A stored strategy as SQLite's windowed load returns it: its newest audit records come as one
 * JSON text, parsed when `auditTrail` is first read. A restore that keeps a strategy dormant (see
 * the runtime's dormantRestore.ts) does not parse records nobody has asked for yet.
 */
import type { TransitionRecord } from '../../machines/types.js';
import type { StoredStrategy } from './types.js';

/** A row of the strategies table, as `loadAll` reads it. */
export interface StrategyRow {
  strategy_id: string;
  variant: string;
  params: string;
  snapshot: string;
  seq: number;
  created_at: number;
}

/** A row of the strategies table with its window, as the windowed `loadAll` query reads it. */
export interface WindowRow extends StrategyRow {
  /** The newest records as one JSON array, or null when there are none. */
  window: string | null;
}

/**
 * A strategy loaded with its window: the window's JSON text is parsed when `auditTrail` is first
 * read, so a restore that keeps a strategy dormant (see the runtime's dormantRestore.ts) does not
 * pay for records nobody has asked for yet.
 */
export class WindowedStrategy implements StoredStrategy {
  readonly strategyId: string;
  readonly variant: string;
  readonly params: Record<string, unknown>;
  readonly snapshot: StoredStrategy['snapshot'];
  readonly seq: number;
  readonly createdAt: number;
  private window: string | null;
  private records: TransitionRecord[] | undefined = undefined;
  constructor(row: WindowRow) {
    this.strategyId = row.strategy_id;
    this.variant = row.variant;
    this.params = JSON.parse(row.params) as Record<string, unknown>;
    this.snapshot = JSON.parse(row.snapshot) as StoredStrategy['snapshot'];
    this.seq = row.seq;
    this.createdAt = row.created_at;
    this.window = row.window;
  }
  get auditTrail(): TransitionRecord[] {
    if (this.records === undefined) {
      this.records = this.window === null ? [] : (JSON.parse(this.window) as TransitionRecord[]);
      this.window = null;
    }
    return this.records;
  }
  set auditTrail(records: TransitionRecord[]) {
    this.records = records;
    this.window = null;
  }
  toJSON(): StoredStrategy {
    const { strategyId, variant, params, snapshot, seq, createdAt, auditTrail } = this;
    return { strategyId, variant, params, snapshot, seq, createdAt, auditTrail };
  }
}
