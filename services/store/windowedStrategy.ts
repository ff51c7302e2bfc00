/**
 * A stored strategy as a store's windowed load returns it (SQLite's and PostgreSQL's): its newest
 * audit records come as one JSON text, parsed when `auditTrail` is first read. A restore that keeps a strategy dormant (see
 * the runtime's dormantRestore.ts) does not parse records nobody has asked for yet.
 */
import type { TransitionRecord } from '../../machines/types.js';
import { parseStoredJson } from './sqliteIntegrity.js';
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

/**
 * A SQLite strategies row's fields, parsed (everything but the trail).
 * @throws {StoreCorruptError} naming the file `path`, the strategy and the column that is not JSON.
 */
export function fieldsOfRow(row: StrategyRow, path: string): Omit<StoredStrategy, 'auditTrail'> {
  return {
    strategyId: row.strategy_id,
    variant: row.variant,
    params: parseStoredJson(path, row.params, `strategy "${row.strategy_id}": its params column`) as Record<string, unknown>,
    snapshot: parseStoredJson(path, row.snapshot, `strategy "${row.strategy_id}": its snapshot column`) as StoredStrategy['snapshot'],
    seq: row.seq,
    createdAt: row.created_at,
  };
}

/** A SQLite row with its window, as a {@link WindowedStrategy} (`path`: the file, named by a parse failure). */
export function windowedFromRow(row: WindowRow, path: string): WindowedStrategy {
  return new WindowedStrategy(fieldsOfRow(row, path), row.window, path);
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
  /** The SQLite file the window was read from: a window that does not parse is reported naming it. */
  #path: string | undefined;
  /**
   * @param stored the strategy's fields, as read.
   * @param window its newest records as one JSON array text, parsed on first read (null: none).
   * @param path the SQLite file read (its `StoreCorruptError` when the window does not parse).
   */
  constructor(stored: Omit<StoredStrategy, 'auditTrail'>, window: string | null, path?: string) {
    this.strategyId = stored.strategyId;
    this.variant = stored.variant;
    this.params = stored.params;
    this.snapshot = stored.snapshot;
    this.seq = stored.seq;
    this.createdAt = stored.createdAt;
    this.#window = window;
    this.#path = path;
    // Shared accessor functions: no closure per strategy.
    Object.defineProperty(this, 'auditTrail', { get: readTrail, set: writeTrail, enumerable: true, configurable: true });
  }
  /**
   * The records, parsed from the window on the first call.
   * @throws {StoreCorruptError} (SQLite) when a record of the window is not JSON.
   */
  records(): TransitionRecord[] {
    if (this.#records === undefined) {
      const window = this.#window;
      if (window === null) this.#records = [];
      else if (this.#path === undefined) this.#records = JSON.parse(window) as TransitionRecord[];
      else
        this.#records = parseStoredJson(
          this.#path,
          window,
          `strategy "${this.strategyId}": a record of its restored audit window (to seq ${this.seq})`,
        ) as TransitionRecord[];
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
