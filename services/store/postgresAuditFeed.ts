import type * as pg from 'pg';
import { auditFeedEntry } from './auditFeedEntry.js';
import type { AuditFeedPage } from './types.js';

/** The cursor's text: `<feed_tx>.<feed_id>`, both decimal. */
const CURSOR = /^(\d{1,20})\.(\d{1,19})$/;

/**
 * The audit feed of a PostgreSQL store, the same on every instance. The cursor is
 * `<feed_tx>.<feed_id>` (schema version 3): the writing transaction's id (`xid8`) and an
 * identity. Identities are handed out when a row is inserted, not when it commits, so a plain
 * `feed_id > cursor` could skip a row whose transaction committed late. Instead a read only sees
 * rows whose transaction id is below the `xmin` of its own snapshot: every transaction below it
 * has ended, so no row can appear later with a smaller (feed_tx, feed_id) than one already read.
 * The price: a record shows in the feed once the transactions older than its own have ended
 * (milliseconds, unless something holds a transaction open). jsonb always parses, but a record
 * of the wrong shape (a hand edit) is a damaged-row marker in its place, its `StoreCorruptError`
 * naming the store and the row (see {@link auditFeedEntry}).
 *
 * @example
 * ```ts
 * const page = await readPostgresAuditFeed(pool, '7301.12', { limit: 500 }, 'postgres:db:5432/trading');
 * ```
 */
export async function readPostgresAuditFeed(
  db: pg.Pool,
  after: string | undefined,
  options: { limit: number; countUpTo?: number },
  /** The store's name (`postgres:host:port/db`), named by the errors. */
  name: string,
): Promise<AuditFeedPage> {
  const found = await db.query<{ xmin: string; tx: string | null; id: string | null }>(
    `SELECT x.xmin::text AS xmin, h.tx, h.id FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin) x
       LEFT JOIN LATERAL (SELECT feed_tx::text AS tx, feed_id::text AS id FROM audit_records
                           WHERE feed_tx < x.xmin ORDER BY feed_tx DESC, feed_id DESC LIMIT 1) h ON true`,
  );
  const { xmin, tx: headTx, id: headId } = found.rows[0];
  const head = headTx === null ? '0.0' : `${headTx}.${headId}`;
  if (after === undefined) return { rows: [], head, known: true };
  const match = CURSOR.exec(after);
  // A cursor of this database was read below some earlier xmin, which only grows; the newest
  // rows may have been deleted since (with their strategy), so it is not compared with the head.
  if (!match || BigInt(match[1]) >= BigInt(xmin)) return { rows: [], head, known: false };
  const [, tx, id] = match;
  const { rows } = await db.query<{ tx: string; id: string; strategy_id: string; seq: string; record: unknown }>(
    `SELECT feed_tx::text AS tx, feed_id::text AS id, strategy_id, seq, record FROM audit_records
      WHERE (feed_tx, feed_id) > ($1::xid8, $2::bigint) AND feed_tx < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY feed_tx, feed_id LIMIT $3`,
    [tx, id, options.limit],
  );
  const page: AuditFeedPage = {
    rows: rows.map((row) =>
      auditFeedEntry(
        { cursor: `${row.tx}.${row.id}`, feedId: row.id, strategyId: row.strategy_id, seq: Number(row.seq), record: { value: row.record } },
        name,
        'database',
      ),
    ),
    head,
    known: true,
  };
  if (options.countUpTo !== undefined) {
    const counted = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM (SELECT 1 FROM audit_records WHERE (feed_tx, feed_id) > ($1::xid8, $2::bigint) LIMIT $3) r',
      [tx, id, options.countUpTo],
    );
    page.remaining = counted.rows[0].n;
  }
  return page;
}
