/**
 * The reads of a SQLite store that a restore and the audit views make: every strategy with its
 * whole trail, or with its newest records only, and one page of a trail. Records are numbered from
 * 1 without gaps, so a window or a page is a range of the (strategy_id, seq) primary key.
 */
import type * as Database from 'better-sqlite3';
import { StoreCorruptError } from '../../machines/errors.js';
import { parseStoredJson } from './sqliteIntegrity.js';
import type { TransitionRecord } from '../../machines/types.js';
import { auditPageBounds } from './auditPage.js';
import type { AuditTrailQuery, StoredStrategy } from './types.js';
import { fieldsOfRow, windowedFromRow, type StrategyRow, type WindowRow } from './windowedStrategy.js';

/**
 * Every strategy with its whole trail: one pass over the strategies, one over the trail in key order.
 *
 * @example
 * ```ts
 * const stored = loadSqliteStrategies(db, './data/strategy-lifecycle.db'); // [{ strategyId, snapshot, auditTrail: [...] }, ...]
 * ```
 */
export function loadSqliteStrategies(db: Database.Database, path: string): StoredStrategy[] {
  const rows = db
    .prepare('SELECT strategy_id, variant, params, snapshot, seq, created_at FROM strategies ORDER BY strategy_id')
    .all() as StrategyRow[];
  const trails = new Map<string, TransitionRecord[]>();
  const records = db.prepare('SELECT strategy_id, seq, record FROM audit_records ORDER BY strategy_id, seq').iterate();
  for (const row of records as Iterable<{ strategy_id: string; seq: number; record: string }>) {
    let trail = trails.get(row.strategy_id);
    if (!trail) trails.set(row.strategy_id, (trail = []));
    trail.push(parseStoredJson(path, row.record, recordName(row.strategy_id, row.seq)) as TransitionRecord);
  }
  return rows.map((row) => storedOf(row, trails.get(row.strategy_id) ?? [], path));
}

/**
 * Every strategy with its newest `window` records, in one query and one row per strategy: the
 * window is a range of the (strategy_id, seq) key (records are numbered from 1 without gaps),
 * joined into one JSON array by SQLite, so the cost is per strategy and per loaded record,
 * never per stored record.
 *
 * @example
 * ```ts
 * const stored = loadSqliteWindows(db, 50, './data/strategy-lifecycle.db'); // each strategy with its 50 newest records
 * ```
 */
export function loadSqliteWindows(
  db: Database.Database,
  window: number,
  /** The file, named by the error of a row that disagrees with its trail. */
  path: string,
  /** False for tooling (`replay --verify`): rows as stored, disagreements and all. */
  check = true,
): StoredStrategy[] {
  // `newest` is one step down the primary key; `counted` reads the window's keys again, not its records.
  const rows = db
    .prepare(
      `SELECT strategy_id, variant, params, snapshot, seq, created_at,
         (SELECT '[' || group_concat(a.record, ',' ORDER BY a.seq) || ']' FROM audit_records a
           WHERE a.strategy_id = s.strategy_id AND a.seq > s.seq - ?) AS window,
         (SELECT MAX(a.seq) FROM audit_records a WHERE a.strategy_id = s.strategy_id) AS newest,
         (SELECT COUNT(*) FROM audit_records a WHERE a.strategy_id = s.strategy_id AND a.seq > s.seq - ?) AS counted
       FROM strategies s ORDER BY strategy_id`,
    )
    .all(window, window) as Array<WindowRow & { newest: number | null; counted: number }>;
  return rows.map((row) => {
    if (check) checkTrailEnd(path, row, row.newest, row.counted, Math.min(window, row.seq));
    return windowedFromRow(row, path);
  });
}

/**
 * A strategies row and its records are written in one transaction: the row's seq is its newest
 * record's (0: none yet), and the records read (`counted`, of seq above `row.seq - expected`) are
 * `expected` in number. A row that disagrees was not written so: a snapshot older than the
 * transitions recorded after it (part of the file put back from an older copy) would restore the
 * strategy into a state it has left, a filled entry as still pending, its position gone.
 * @throws {StoreCorruptError} naming the strategy, its seq and what its trail holds.
 */
function checkTrailEnd(path: string, row: StrategyRow, newest: number | null, counted: number, expected: number): void {
  const end = newest ?? 0;
  let detail: string | undefined;
  if (end > row.seq)
    detail = `its row (snapshot in state ${stateOf(row)}) is at seq ${row.seq}, but its audit trail goes on to seq ${end}: the snapshot is older than the transitions recorded after it (part of the file put back from an older copy?), and restoring it would start the strategy in a state it has left`;
  else if (end < row.seq)
    detail = `its row is at seq ${row.seq}, but its audit trail ends at seq ${end}: its newest audit records are missing`;
  else if (counted !== expected)
    detail = `its newest ${expected} audit records (to seq ${row.seq}) should all be stored, but ${counted} are: records are missing from its audit trail`;
  if (detail) throw new StoreCorruptError(path, `strategy "${row.strategy_id}": ${detail}`);
}

/** The state a stored snapshot names, read without trusting its shape. */
function stateOf(row: StrategyRow): string {
  try {
    return JSON.stringify((JSON.parse(row.snapshot) as { value?: unknown } | null)?.value);
  } catch {
    return '(unreadable)';
  }
}

/**
 * One page of a strategy's trail, oldest first (see {@link AuditTrailQuery}); a range of the primary key.
 *
 * @example
 * ```ts
 * const newest = readSqliteAuditPage(db, 'spx-0dte-1', { limit: 20 }, './data/strategy-lifecycle.db');
 * ```
 */
export function readSqliteAuditPage(
  db: Database.Database,
  strategyId: string,
  query: AuditTrailQuery | undefined,
  /** The file, named by the error of a record that is not JSON. */
  path: string,
): TransitionRecord[] {
  const { after, before, limit, forward } = auditPageBounds(query);
  const rows = db
    .prepare(
      `SELECT seq, record FROM audit_records WHERE strategy_id = ? AND seq > ? AND seq < ? ORDER BY seq ${forward ? 'ASC' : 'DESC'} LIMIT ?`,
    )
    .all(strategyId, after, before, limit) as Array<{ seq: number; record: string }>;
  const records = rows.map((row) => parseStoredJson(path, row.record, recordName(strategyId, row.seq)) as TransitionRecord);
  return forward ? records : records.reverse();
}

/** A strategies row and its loaded trail, as the store hands them out. */
function storedOf(row: StrategyRow, auditTrail: TransitionRecord[], path: string): StoredStrategy {
  return { ...fieldsOfRow(row, path), auditTrail };
}

/** How a parse failure names an audit record. */
const recordName = (strategyId: string, seq: number): string => `strategy "${strategyId}": its audit record ${seq}`;
