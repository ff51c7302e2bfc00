/**
 * Whether a strategies row agrees with its audit trail, as a restore's windowed load checks it
 * (SQLite's and PostgreSQL's). A row and its records are written in one transaction, so the row's
 * seq is its newest record's (0: none yet) and records are numbered from 1 without gaps.
 */
import { StoreCorruptError } from '../../machines/errors.js';

/** What a windowed load read of one strategy's row and trail keys. */
export interface TrailEnd {
  strategyId: string;
  /** The row's seq. */
  seq: number;
  /** The row's snapshot (read only to name its state in the error; it may be any JSON, or not parse). */
  snapshot: () => unknown;
  /** The trail's newest seq (null: no records). */
  newest: number | null;
  /** How many records the window holds (of seq above `seq - expected`). */
  counted: number;
  /** How many it should hold: the window, or the seq when the trail is shorter. */
  expected: number;
}

/**
 * The error of a row that disagrees with its trail, or undefined when they agree. Such a row was
 * not written by the store: a snapshot older than the transitions recorded after it (part of the
 * store put back from an older copy) would restore the strategy into a state it has left, a filled
 * entry as still pending, its position gone.
 *
 * @example
 * ```ts
 * const refused = trailDisagreement('./data/strategy-lifecycle.db', { strategyId: 'z', seq: 4, snapshot: () => row.snapshot, newest: 5, counted: 4, expected: 4 });
 * if (refused) throw refused; // strategy "z": its row (snapshot in state "PENDING_ENTRY") is at seq 4, but its audit trail goes on to seq 5 ...
 * ```
 * @param store the SQLite file, or the PostgreSQL store's name (`kind: 'database'`), the error names.
 */
export function trailDisagreement(store: string, end: TrailEnd, kind: 'file' | 'database' = 'file'): StoreCorruptError | undefined {
  const last = end.newest ?? 0;
  let detail: string | undefined;
  if (last > end.seq)
    detail = `its row (snapshot in state ${stateOf(end.snapshot)}) is at seq ${end.seq}, but its audit trail goes on to seq ${last}: the snapshot is older than the transitions recorded after it (part of the store put back from an older copy?), and restoring it would start the strategy in a state it has left`;
  else if (last < end.seq)
    detail = `its row is at seq ${end.seq}, but its audit trail ends at seq ${last}: its newest audit records are missing`;
  else if (end.counted !== end.expected)
    detail = `its newest ${end.expected} audit records (to seq ${end.seq}) should all be stored, but ${end.counted} are: records are missing from its audit trail`;
  return detail === undefined ? undefined : new StoreCorruptError(store, `strategy "${end.strategyId}": ${detail}`, undefined, kind);
}

/** The state a stored snapshot names, read without trusting its shape. */
function stateOf(snapshot: () => unknown): string {
  try {
    return JSON.stringify((snapshot() as { value?: unknown } | null)?.value);
  } catch {
    return '(unreadable)';
  }
}
