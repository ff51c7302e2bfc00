import type * as Database from 'better-sqlite3';
import { auditFeedEntry } from './auditFeedEntry.js';
import type { AuditFeedPage } from './types.js';

/**
 * The audit feed of a SQLite store: the cursor is the trail's `feed_id` (a rowid with
 * AUTOINCREMENT, schema version 3) as a decimal string. One process writes the file and SQLite
 * commits in rowid order, so every row after a cursor is committed after it: reading
 * `feed_id > cursor` misses nothing, and an id is never handed out twice. A record that is not
 * JSON or not a transition record is a damaged-row marker in its place, its `StoreCorruptError`
 * naming the file and the row (see {@link auditFeedEntry}).
 *
 * @example
 * ```ts
 * const page = readSqliteAuditFeed(db, '41', { limit: 500 }, './data/x.db'); // rows 42.. of the trail
 * ```
 */
export function readSqliteAuditFeed(
  db: Database.Database,
  after: string | undefined,
  options: { limit: number; countUpTo?: number },
  /** The database file, named by the errors. */
  path: string,
): AuditFeedPage {
  const { head } = db.prepare('SELECT COALESCE(max(feed_id), 0) AS head FROM audit_records').get() as { head: number };
  // The sequence remembers ids of deleted rows too: a cursor up to it is this store's.
  const used = db.prepare("SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'audit_records'), 0) AS used").get() as {
    used: number;
  };
  if (after === undefined) return { rows: [], head: String(head), known: true };
  const cursor = /^\d{1,15}$/.test(after) ? Number(after) : NaN;
  if (!(cursor <= Math.max(head, used.used))) return { rows: [], head: String(head), known: false };
  const rows = db
    .prepare('SELECT feed_id, strategy_id, seq, record FROM audit_records WHERE feed_id > ? ORDER BY feed_id LIMIT ?')
    .all(cursor, options.limit) as FeedRow[];
  const page: AuditFeedPage = {
    rows: rows.map((row) =>
      auditFeedEntry(
        {
          cursor: String(row.feed_id),
          feedId: String(row.feed_id),
          strategyId: row.strategy_id,
          seq: row.seq,
          record: { text: row.record },
        },
        path,
        'file',
      ),
    ),
    head: String(head),
    known: true,
  };
  if (options.countUpTo !== undefined) {
    page.remaining = (
      db.prepare('SELECT count(*) AS n FROM (SELECT 1 FROM audit_records WHERE feed_id > ? LIMIT ?)').get(cursor, options.countUpTo) as {
        n: number;
      }
    ).n;
  }
  return page;
}

interface FeedRow {
  feed_id: number;
  strategy_id: string;
  seq: number;
  record: string;
}
