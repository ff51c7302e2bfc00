/**
 * The reads of a SQLite store that a restore and the audit views make: every strategy with its
 * whole trail, or with its newest records only, and one page of a trail. Records are numbered from
 * 1 without gaps, so a window or a page is a range of the (strategy_id, seq) primary key.
 */
import type * as Database from 'better-sqlite3';
import type { TransitionRecord } from '../../machines/types.js';
import { auditPageBounds } from './auditPage.js';
import type { AuditTrailQuery, StoredStrategy } from './types.js';
import { fieldsOfRow, windowedFromRow, type StrategyRow, type WindowRow } from './windowedStrategy.js';

/**
 * Every strategy with its whole trail: one pass over the strategies, one over the trail in key order.
 *
 * @example
 * ```ts
 * const stored = loadSqliteStrategies(db); // [{ strategyId, snapshot, auditTrail: [...] }, ...]
 * ```
 */
export function loadSqliteStrategies(db: Database.Database): StoredStrategy[] {
  const rows = db
    .prepare('SELECT strategy_id, variant, params, snapshot, seq, created_at FROM strategies ORDER BY strategy_id')
    .all() as StrategyRow[];
  const trails = new Map<string, TransitionRecord[]>();
  const records = db.prepare('SELECT strategy_id, record FROM audit_records ORDER BY strategy_id, seq').iterate();
  for (const row of records as Iterable<{ strategy_id: string; record: string }>) {
    let trail = trails.get(row.strategy_id);
    if (!trail) trails.set(row.strategy_id, (trail = []));
    trail.push(JSON.parse(row.record) as TransitionRecord);
  }
  return rows.map((row) => storedOf(row, trails.get(row.strategy_id) ?? []));
}

/**
 * Every strategy with its newest `window` records, in one query and one row per strategy: the
 * window is a range of the (strategy_id, seq) key (records are numbered from 1 without gaps),
 * joined into one JSON array by SQLite, so the cost is per strategy and per loaded record,
 * never per stored record.
 *
 * @example
 * ```ts
 * const stored = loadSqliteWindows(db, 50); // each strategy with its 50 newest records
 * ```
 */
export function loadSqliteWindows(db: Database.Database, window: number): StoredStrategy[] {
  const rows = db
    .prepare(
      `SELECT strategy_id, variant, params, snapshot, seq, created_at,
         (SELECT '[' || group_concat(a.record, ',' ORDER BY a.seq) || ']' FROM audit_records a
           WHERE a.strategy_id = s.strategy_id AND a.seq > s.seq - ?) AS window
       FROM strategies s ORDER BY strategy_id`,
    )
    .all(window) as WindowRow[];
  return rows.map(windowedFromRow);
}

/**
 * One page of a strategy's trail, oldest first (see {@link AuditTrailQuery}); a range of the primary key.
 *
 * @example
 * ```ts
 * const newest = readSqliteAuditPage(db, 'spx-0dte-1', { limit: 20 });
 * ```
 */
export function readSqliteAuditPage(db: Database.Database, strategyId: string, query?: AuditTrailQuery): TransitionRecord[] {
  const { after, before, limit, forward } = auditPageBounds(query);
  const rows = db
    .prepare(
      `SELECT record FROM audit_records WHERE strategy_id = ? AND seq > ? AND seq < ? ORDER BY seq ${forward ? 'ASC' : 'DESC'} LIMIT ?`,
    )
    .all(strategyId, after, before, limit) as Array<{ record: string }>;
  const records = rows.map((row) => JSON.parse(row.record) as TransitionRecord);
  return forward ? records : records.reverse();
}

/** A strategies row and its loaded trail, as the store hands them out. */
function storedOf(row: StrategyRow, auditTrail: TransitionRecord[]): StoredStrategy {
  return { ...fieldsOfRow(row), auditTrail };
}
