import { StoreCorruptError } from '../../machines/errors.js';
import type { TransitionRecord } from '../../machines/types.js';
import { parseStoredJson } from './sqliteIntegrity.js';
import type { AuditFeedEntry } from './types.js';

/** One audit row as a feed read it, before its record is checked. */
export interface StoredFeedRow {
  cursor: string;
  /** The row's `feed_id`, named by the error. */
  feedId: string;
  strategyId: string;
  seq: number;
  /** The record column: JSON text (SQLite) or the value the driver parsed (PostgreSQL's jsonb). */
  record: { text: string } | { value: unknown };
}

/**
 * A feed row as readers get it: the row with its record when the record is a transition record
 * (an object with its seq, states and trigger), else a damaged-row marker carrying a
 * `StoreCorruptError` that names the row. Both stores' feeds go through here, so one damaged row
 * is reported the same way on either, and a reader (the live stream) goes on after it instead of
 * every read stopping there.
 *
 * @example
 * ```ts
 * const entry = auditFeedEntry({ cursor: '7', feedId: '7', strategyId: 'lt', seq: 1, record: { text } }, './data/x.db', 'file');
 * if (entry.damaged) log(entry.damaged.detail); // audit_records row feed_id 7 (strategy "lt", seq 1): its record column is not JSON (...)
 * ```
 */
export function auditFeedEntry(row: StoredFeedRow, path: string, kind: 'file' | 'database'): AuditFeedEntry {
  const what = `audit_records row feed_id ${row.feedId} (strategy "${row.strategyId}", seq ${row.seq}): its record column`;
  const { cursor, strategyId, seq } = row;
  try {
    const record = 'text' in row.record ? parseStoredJson(path, row.record.text, what) : row.record.value;
    const problem = shapeProblem(record);
    if (problem) throw new StoreCorruptError(path, `${what} is not a transition record: ${problem}`, undefined, kind);
    return { cursor, strategyId, record: record as TransitionRecord };
  } catch (error) {
    if (!(error instanceof StoreCorruptError)) throw error;
    return { cursor, strategyId, seq, damaged: error };
  }
}

/** What keeps `record` from being read as a transition record, as far as a feed reader relies on it. */
function shapeProblem(record: unknown): string | undefined {
  const r = record as Partial<Record<keyof TransitionRecord, unknown>> | null;
  if (typeof record !== 'object' || r === null || Array.isArray(record)) return 'it is not an object';
  if (!Number.isInteger(r.seq)) return 'its seq is not a number';
  const key = (['previousState', 'currentState', 'trigger'] as const).find((k) => typeof r[k] !== 'string');
  return key === undefined ? undefined : `its ${key} is not a string`;
}
