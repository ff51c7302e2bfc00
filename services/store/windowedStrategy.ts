/**
 * A stored strategy as a store's windowed load returns it (SQLite's and PostgreSQL's): its newest
 * audit records come as one JSON text, parsed when `auditTrail` is first read. A restore that keeps a strategy dormant (see
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

/** The window's records, parsed on first read (the accessor of every {@link WindowedStrategy}). */
function readTrail(this: WindowedStrategy): TransitionRecord[] {
  return this.records();
}

function writeTrail(this: WindowedStrategy, records: TransitionRecord[]): void {
  this.replaceRecords(records);
}

/** A SQLite strategies row's fields, parsed (everything but the trail). */
export function fieldsOfRow(row: StrategyRow): Omit<StoredStrategy, 'auditTrail'> {
  return {
    strategyId: row.strategy_id,
    variant: row.variant,
    params: JSON.parse(row.params) as Record<string, unknown>,
    snapshot: JSON.parse(row.snapshot) as StoredStrategy['snapshot'],
    seq: row.seq,
    createdAt: row.created_at,
  };
}

/** A SQLite row with its window, as a {@link WindowedStrategy}. */
export function windowedFromRow(row: WindowRow): WindowedStrategy {
  return new WindowedStrategy(fieldsOfRow(row), row.window);
}

/**
 * A strategy loaded with its window: the window's JSON text is parsed when `auditTrail` is first
 * read, so a restore that keeps a strategy dormant (see the runtime's dormantRestore.ts) does not
 * pay for records nobody has asked for yet.
 *
 * `auditTrail` is an own, enumerable accessor and the window is held in private fields, so the
 * object reads as a plain {@link StoredStrategy}: a spread (`{ ...stored }`), `structuredClone`,
 * `Object.keys` or a deep equality see the seven fields, the trail parsed.
 */
export class WindowedStrategy implements StoredStrategy {
  readonly strategyId: string;
  readonly variant: string;
  readonly params: Record<string, unknown>;
  readonly snapshot: StoredStrategy['snapshot'];
  readonly seq: number;
  readonly createdAt: number;
  declare auditTrail: TransitionRecord[];
  #window: string | null;
  #records: TransitionRecord[] | undefined = undefined;
  /**
   * @param stored the strategy's fields, as read.
   * @param window its newest records as one JSON array text, parsed on first read (null: none).
   */
  constructor(stored: Omit<StoredStrategy, 'auditTrail'>, window: string | null) {
    this.strategyId = stored.strategyId;
    this.variant = stored.variant;
    this.params = stored.params;
    this.snapshot = stored.snapshot;
    this.seq = stored.seq;
    this.createdAt = stored.createdAt;
    this.#window = window;
    // Shared accessor functions: no closure per strategy.
    Object.defineProperty(this, 'auditTrail', { get: readTrail, set: writeTrail, enumerable: true, configurable: true });
  }
  /** The records, parsed from the window on the first call. */
  records(): TransitionRecord[] {
    if (this.#records === undefined) {
      this.#records = this.#window === null ? [] : (JSON.parse(this.#window) as TransitionRecord[]);
      this.#window = null;
    }
    return this.#records;
  }
  /** Replaces the records (the window is dropped unparsed). */
  replaceRecords(records: TransitionRecord[]): void {
    this.#records = records;
    this.#window = null;
  }
  toJSON(): StoredStrategy {
    const { strategyId, variant, params, snapshot, seq, createdAt, auditTrail } = this;
    return { strategyId, variant, params, snapshot, seq, createdAt, auditTrail };
  }
}
