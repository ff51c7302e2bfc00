import type * as pg from 'pg';
import { checkSlotCounts, type PortfolioLimits } from '../../guards/portfolio.js';
import { OwnershipLostError, PortfolioLimitRefusal } from '../../machines/errors.js';

/**
 * The SQL of leases, ownership and portfolio slots on PostgreSQL, shared by the statements of
 * {@link PostgresStore}. Every lock taken here is either skipped when held (`SKIP LOCKED`: leases
 * are never worth waiting for) or waited for under the transaction's `lock_timeout`, so one
 * paused instance holding a row lock can never stall another's failover or renewals.
 */

/** Who may act on a strategy: this instance, under the fencing token it holds. */
export interface Owner {
  instanceId: string;
  /** The fencing token this instance holds for the strategy, if any. */
  token: number | undefined;
}

/** Key of the advisory lock that serialises portfolio-slot takers across instances. */
const PORTFOLIO_LOCK = 728015;

type Queryable = pg.PoolClient | pg.Pool;

/**
 * What a restore reads of a strategy (`s`), as one text: its variant, params, snapshot and seq, and
 * its trail's length and newest seq (a trail repaired by putting its missing records back changes
 * it). Ownership columns are left out: a claim or a release is no repair.
 */
const ROW_VERSION = `md5(concat_ws('|', s.variant, s.params::text, s.snapshot::text, s.seq::text,
  (SELECT count(*)::text || ':' || coalesce(max(a.seq), 0)::text FROM audit_records a WHERE a.strategy_id = s.strategy_id)))`;

/**
 * Claims every strategy with no live lease, this instance's own expired ones included (a lease it
 * let go of or no longer holds a token for), and, with `adoptOwn`, every one an earlier run of this
 * instance id held; each fencing token is bumped so any older holder is fenced off. A row this
 * instance holds under a token in `held` is never claimed again, even with its lease run out (its
 * renewal skipped the row while a write of this instance had it locked): the bump would fence off
 * this instance's own writes in flight. Its renewal extends it. Rows another transaction has
 * locked are skipped, not waited for: they are claimed on a later round. A row in `setAside` (id ->
 * its {@link ROW_VERSION} when this instance refused it) is skipped while its version is the same:
 * refused as it is, it would be refused again; once changed (repaired), it is claimed as any other.
 */
export async function claimFree(
  db: Queryable,
  instanceId: string,
  now: number,
  leaseMs: number,
  adoptOwn: boolean,
  held: ReadonlyMap<string, number> = new Map(),
  setAside: ReadonlyMap<string, string> = new Map(),
): Promise<Map<string, number>> {
  const { rows } = await db.query<{ strategy_id: string; fencing_token: string }>(
    `WITH free AS (
       SELECT s.strategy_id FROM strategies s
         LEFT JOIN unnest($5::text[], $6::bigint[]) AS h(id, token) ON s.strategy_id = h.id AND s.fencing_token = h.token AND s.owner = $1
        WHERE (s.owner IS NULL OR s.lease_expires_at <= $3 OR ($4 AND s.owner = $1)) AND h.id IS NULL
          AND NOT EXISTS (SELECT 1 FROM unnest($7::text[], $8::text[]) AS q(id, version) WHERE q.id = s.strategy_id AND q.version = ${ROW_VERSION})
        FOR UPDATE OF s SKIP LOCKED)
     UPDATE strategies s SET owner = $1, lease_expires_at = $2, fencing_token = s.fencing_token + 1
       FROM free WHERE s.strategy_id = free.strategy_id
     RETURNING s.strategy_id, s.fencing_token`,
    [instanceId, now + leaseMs, now, adoptOwn, [...held.keys()], [...held.values()], [...setAside.keys()], [...setAside.values()]],
  );
  return new Map(rows.map((r) => [r.strategy_id, Number(r.fencing_token)]));
}

/**
 * Gives up one lease, as {@link releaseLease} does, and returns the row's {@link ROW_VERSION} for
 * {@link claimFree} to skip it by (undefined when the lease was already taken over: nothing to set
 * aside). The caller refused the row: its version is read under the row lock of the release.
 */
export async function setAsideLease(
  db: Queryable,
  strategyId: string,
  owner: { instanceId: string; token: number },
): Promise<string | undefined> {
  const { rows } = await db.query<{ version: string }>(
    `UPDATE strategies s SET owner = NULL, lease_expires_at = 0 WHERE strategy_id = $1 AND owner = $2 AND fencing_token = $3
     RETURNING ${ROW_VERSION} AS version`,
    [strategyId, owner.instanceId, owner.token],
  );
  return rows[0]?.version;
}

/**
 * Of the rows set aside (id -> version), the ids still stored at the same version: the others were
 * removed or changed since, and are forgotten (the set stays as small as what is refused now).
 */
export async function stillSetAside(db: Queryable, setAside: ReadonlyMap<string, string>): Promise<string[]> {
  if (setAside.size === 0) return [];
  const { rows } = await db.query<{ strategy_id: string }>(
    `SELECT s.strategy_id FROM strategies s JOIN unnest($1::text[], $2::text[]) AS q(id, version)
         ON s.strategy_id = q.id WHERE q.version = ${ROW_VERSION}`,
    [[...setAside.keys()], [...setAside.values()]],
  );
  return rows.map((r) => r.strategy_id);
}

/**
 * Gives up one lease under the token it was held by, so another instance claims the strategy at
 * once; a lease already taken over (another owner or token) is left alone.
 *
 * @example
 * ```ts
 * await releaseLease(client, 'spx-0dte-1', { instanceId: 'node-a', token: 7 });
 * ```
 */
export async function releaseLease(db: Queryable, strategyId: string, owner: { instanceId: string; token: number }): Promise<void> {
  await db.query('UPDATE strategies SET owner = NULL, lease_expires_at = 0 WHERE strategy_id = $1 AND owner = $2 AND fencing_token = $3', [
    strategyId,
    owner.instanceId,
    owner.token,
  ]);
}

/**
 * Gives up every lease of `tokens` (id -> fencing token) this instance holds under that token (a
 * graceful shutdown). Rows locked elsewhere are left to expire rather than waited for. The token
 * is checked, not only the owner's name: a process started with the same `instanceId` before this
 * one closed (a rolling deploy with a fixed id) may have claimed a row since, under a newer token,
 * and must not lose it to the old process's shutdown.
 *
 * @example
 * ```ts
 * await releaseLeases(pool, 'node-a', new Map([['spx-0dte-1', 3], ['rut-lt112-2', 7]]));
 * ```
 */
export async function releaseLeases(db: Queryable, instanceId: string, tokens: ReadonlyMap<string, number>): Promise<void> {
  await db.query(
    `WITH mine AS (
       SELECT s.strategy_id FROM strategies s
         JOIN unnest($2::text[], $3::bigint[]) AS t(id, token) ON s.strategy_id = t.id AND s.fencing_token = t.token
        WHERE s.owner = $1 FOR UPDATE OF s SKIP LOCKED)
     UPDATE strategies s SET owner = NULL, lease_expires_at = 0 FROM mine WHERE s.strategy_id = mine.strategy_id`,
    [instanceId, [...tokens.keys()], [...tokens.values()]],
  );
}

/**
 * Extends the leases of `tokens` (id -> fencing token) this instance still holds and returns the
 * ids it lost (another owner, another token, or gone). A row locked elsewhere (this instance's own
 * write in flight, or anyone's) is skipped and checked without a lock: not lost, renewed next round.
 */
export async function renewLeases(
  db: Queryable,
  instanceId: string,
  tokens: ReadonlyMap<string, number>,
  now: number,
  leaseMs: number,
): Promise<string[]> {
  const ids = [...tokens.keys()];
  if (ids.length === 0) return [];
  const renewed = await db.query<{ strategy_id: string; fencing_token: string }>(
    // Under this instance's token too: a row another process of the same instanceId claimed since is not extended.
    `WITH mine AS (
       SELECT s.strategy_id FROM strategies s
         JOIN unnest($3::text[], $4::bigint[]) AS t(id, token) ON s.strategy_id = t.id AND s.fencing_token = t.token
        WHERE s.owner = $1 FOR UPDATE OF s SKIP LOCKED)
     UPDATE strategies s SET lease_expires_at = $2 FROM mine WHERE s.strategy_id = mine.strategy_id
     RETURNING s.strategy_id, s.fencing_token`,
    [instanceId, now + leaseMs, ids, ids.map((id) => tokens.get(id))],
  );
  const held = new Map(renewed.rows.map((r) => [r.strategy_id, { owner: instanceId, token: Number(r.fencing_token) }]));
  const unrenewed = ids.filter((id) => !held.has(id));
  if (unrenewed.length) {
    const seen = await db.query<{ strategy_id: string; owner: string | null; fencing_token: string }>(
      'SELECT strategy_id, owner, fencing_token FROM strategies WHERE strategy_id = ANY($1)',
      [unrenewed],
    );
    for (const r of seen.rows) held.set(r.strategy_id, { owner: r.owner ?? '', token: Number(r.fencing_token) });
  }
  return ids.filter((id) => held.get(id)?.owner !== instanceId || held.get(id)?.token !== tokens.get(id));
}

/** Why `owner` may not act on a stored row (null when it may). */
export function ownershipProblem(owner: Owner, row: { owner: string | null; fencing_token: string } | undefined): string | null {
  if (!row) return 'it is not stored';
  if (row.owner !== owner.instanceId) return `it is owned by ${row.owner ?? 'no instance'} now (fencing token ${row.fencing_token})`;
  if (owner.token === undefined || Number(row.fencing_token) !== owner.token)
    return `fencing token ${owner.token ?? 'none'} is stale (now ${row.fencing_token})`;
  return null;
}

/**
 * Reads a strategy's ownership inside a transaction, locking the row (`FOR UPDATE`, under the
 * transaction's lock timeout) so it cannot change hands before the commit.
 * @throws {OwnershipLostError} unless `owner` owns it under its token.
 */
export async function lockOwned(
  client: pg.PoolClient,
  strategyId: string,
  owner: Owner,
  what: string,
): Promise<{ holdsSlot: boolean; seq: number }> {
  const { rows } = await client.query<{ owner: string | null; fencing_token: string; holds_slot: boolean; seq: string }>(
    'SELECT owner, fencing_token, holds_slot, seq FROM strategies WHERE strategy_id = $1 FOR UPDATE',
    [strategyId],
  );
  const problem = ownershipProblem(owner, rows[0]);
  if (problem) throw new OwnershipLostError(strategyId, owner.instanceId, `${what} refused: ${problem}`);
  return { holdsSlot: rows[0].holds_slot, seq: Number(rows[0].seq) };
}

/**
 * Checks, in the write's transaction, that taking a slot keeps every portfolio limit across all
 * instances: one advisory lock serialises the takers, then the slots other strategies hold are
 * counted (committed rows only, after the lock, so two instances never both see the last slot).
 * @throws {PortfolioLimitRefusal}
 */
export async function checkSlotLimits(
  client: pg.PoolClient,
  strategyId: string,
  group: string | undefined,
  limits: PortfolioLimits,
): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [PORTFOLIO_LOCK]);
  const { rows } = await client.query<{ overall: number; in_group: number }>(
    'SELECT count(*)::int AS overall, count(*) FILTER (WHERE slot_group = $2)::int AS in_group FROM strategies WHERE holds_slot AND strategy_id <> $1',
    [strategyId, group ?? null],
  );
  const refusal = checkSlotCounts({ overall: rows[0].overall, inGroup: rows[0].in_group }, limits, group, '(all instances)');
  if (refusal) throw new PortfolioLimitRefusal(strategyId, refusal.reason);
}

/** True when `limits` limits anything a strategy of `group` takes. */
export function limitsApply(limits: PortfolioLimits | undefined, group: string | undefined): limits is PortfolioLimits {
  return (
    limits !== undefined && (limits.maxOpenPositions !== undefined || (group !== undefined && limits.maxPerGroup?.[group] !== undefined))
  );
}
