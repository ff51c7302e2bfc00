/**
 * The reads of a SQLite store that a restore and the audit views make: every strategy with its
 * whole trail, or with its newest records only, and one page of a trail. Records are numbered from
 * 1 without gaps, so a window or a page is a range of the (strategy_id, seq) primary key.
 */
import type * as Database from 'better-sqlite3';
import { parseStoredJson } from './sqliteIntegrity.js';
import type { TransitionRecord } from '../../machines/types.js';
import { auditPageBounds } from './auditPage.js';
import { trailDisagreement } from './trailAgreement.js';
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
    const refused = check
      ? trailDisagreement(path, {
          strategyId: row.strategy_id,
          seq: row.seq,
          snapshot: () => JSON.parse(row.snapshot) as unknown,
          newest: row.newest,
          counted: row.counted,
          expected: Math.min(window, row.seq),
        })
      : undefined;
    if (refused) throw refused;
    return windowedFromRow(row, path);
  });
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
