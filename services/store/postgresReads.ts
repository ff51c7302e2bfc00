/**
 * The reads of a PostgreSQL store that a restore, a takeover and the audit views make: strategies
 * with their whole trail or their newest records, and one page of a trail. Each is an index scan
 * of (strategy_id, seq), so the cost is what is read, not the history stored.
 */
import type * as pg from 'pg';
import type { StoreCorruptError } from '../../machines/errors.js';
import type { TransitionRecord } from '../../machines/types.js';
import { auditPageBounds } from './auditPage.js';
import { trailDisagreement } from './trailAgreement.js';
import type { AuditTrailQuery, StoredStrategy } from './types.js';
import { WindowedStrategy } from './windowedStrategy.js';

type Queryable = pg.PoolClient | pg.Pool;

/**
 * How a restore's windowed load checks each row against its trail (see trailAgreement.ts): a row
 * that disagrees is handed to `refuse` (which may throw, refusing the whole load) and left out.
 */
export interface TrailCheck {
  /** The store's name, named by the error. */
  store: string;
  refuse(strategyId: string, error: StoreCorruptError): void;
}

/**
 * The strategies `ids` and their trails, or each one's newest `window` records: one query, a
 * LATERAL index scan of (strategy_id, seq) backwards per strategy, so the cost is the window, not
 * history. With `check` a windowed load checks every row against its trail (two more steps down the
 * same index), as SQLite's restore does; without it (tooling) rows are returned as stored.
 *
 * @example
 * ```ts
 * const stored = await loadPostgresStrategies(pool, ['spx-0dte-1'], 50, { store: name, refuse: (_id, error) => { throw error; } });
 * ```
 */
export async function loadPostgresStrategies(db: Queryable, ids: string[], window?: number, check?: TrailCheck): Promise<StoredStrategy[]> {
  if (ids.length === 0) return [];
  if (window !== undefined) return loadPostgresWindows(db, ids, window, check);
  const { rows } = await db.query<StrategyRow>(
    'SELECT strategy_id, variant, params, snapshot, seq, created_at FROM strategies WHERE strategy_id = ANY($1) ORDER BY strategy_id',
    [ids],
  );
  const records = await db.query<{ strategy_id: string; record: TransitionRecord }>(
    'SELECT strategy_id, record FROM audit_records WHERE strategy_id = ANY($1) ORDER BY strategy_id, seq',
    [ids],
  );
  const trails = new Map<string, TransitionRecord[]>();
  for (const row of records.rows) {
    let trail = trails.get(row.strategy_id);
    if (!trail) trails.set(row.strategy_id, (trail = []));
    trail.push(row.record);
  }
  return rows.map((row) => ({ ...fieldsOf(row), auditTrail: trails.get(row.strategy_id) ?? [] }));
}

/** A row of the strategies table as the driver returns it (jsonb parsed, bigint as text). */
interface StrategyRow {
  strategy_id: string;
  variant: string;
  params: Record<string, unknown>;
  snapshot: StoredStrategy['snapshot'];
  seq: string;
  created_at: string;
}

function fieldsOf(row: StrategyRow): Omit<StoredStrategy, 'auditTrail'> {
  return {
    strategyId: row.strategy_id,
    variant: row.variant,
    params: row.params,
    snapshot: row.snapshot,
    seq: Number(row.seq),
    createdAt: Number(row.created_at),
  };
}

/**
 * Each strategy with its newest `window` records as one JSON text (`json_agg`, read as text so the
 * driver does not parse it), parsed when its trail is first read: a restore that keeps most
 * strategies dormant parses only the windows somebody asks for (see {@link WindowedStrategy}).
 * `newest` and `counted` (checked with `check`) read the trail's keys again, not its records.
 */
async function loadPostgresWindows(db: Queryable, ids: string[], window: number, check?: TrailCheck): Promise<StoredStrategy[]> {
  const size = Math.max(0, Math.floor(window));
  const { rows } = await db.query<StrategyRow & { window: string | null; newest: string | null; counted: number }>(
    `SELECT s.strategy_id, s.variant, s.params, s.snapshot, s.seq, s.created_at, w.window,
            (SELECT MAX(seq) FROM audit_records WHERE strategy_id = s.strategy_id) AS newest,
            (SELECT COUNT(*)::int FROM audit_records WHERE strategy_id = s.strategy_id AND seq > s.seq - $2) AS counted
       FROM strategies s
       LEFT JOIN LATERAL (
         SELECT json_agg(a.record ORDER BY a.seq)::text AS window
           FROM (SELECT seq, record FROM audit_records WHERE strategy_id = s.strategy_id ORDER BY seq DESC LIMIT $2) a
       ) w ON true
      WHERE s.strategy_id = ANY($1)
      ORDER BY s.strategy_id`,
    [ids, size],
  );
  const stored: StoredStrategy[] = [];
  for (const row of rows) {
    const fields = fieldsOf(row);
    const refused =
      check &&
      trailDisagreement(
        check.store,
        {
          strategyId: fields.strategyId,
          seq: fields.seq,
          snapshot: () => fields.snapshot,
          newest: row.newest === null ? null : Number(row.newest),
          counted: row.counted,
          expected: Math.min(size, fields.seq),
        },
        'database',
      );
    if (refused) check.refuse(fields.strategyId, refused);
    else stored.push(new WindowedStrategy(fields, row.window));
  }
  return stored;
}

/**
 * Every stored strategy's id, whichever instance owns it (a read takes no lease).
 *
 * @example
 * ```ts
 * const ids = await allPostgresStrategyIds(pool);
 * ```
 */
export async function allPostgresStrategyIds(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ strategy_id: string }>('SELECT strategy_id FROM strategies');
  return rows.map((r) => r.strategy_id);
}

/**
 * Which of `ids` are stored, whichever instance owns them (a read takes no lease): one query.
 *
 * @example
 * ```ts
 * const stillThere = await storedPostgresStrategyIds(pool, ['spx-0dte-1', 'spx-lt112-2']);
 * ```
 */
export async function storedPostgresStrategyIds(db: Queryable, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<{ strategy_id: string }>('SELECT strategy_id FROM strategies WHERE strategy_id = ANY($1::text[])', [
    [...ids],
  ]);
  return rows.map((r) => r.strategy_id);
}

/**
 * One page of a strategy's trail, oldest first (see {@link AuditTrailQuery}): an index range scan of (strategy_id, seq).
 *
 * @example
 * ```ts
 * const newest = await readPostgresAuditPage(pool, 'spx-0dte-1', { limit: 20 });
 * ```
 */
export async function readPostgresAuditPage(db: Queryable, strategyId: string, query?: AuditTrailQuery): Promise<TransitionRecord[]> {
  const { after, before, limit, forward } = auditPageBounds(query);
  const { rows } = await db.query<{ record: TransitionRecord }>(
    `SELECT record FROM audit_records WHERE strategy_id = $1 AND seq > $2 AND seq < $3 ORDER BY seq ${forward ? 'ASC' : 'DESC'} LIMIT $4`,
    [strategyId, after, before, limit],
  );
  const records = rows.map((row) => row.record);
  return forward ? records : records.reverse();
}
