/**
 * The PostgreSQL store's writes: the group commit its appends go through (see postgresBatch.ts for
 * a batch's statement), a new strategy's row (owned by the instance that creates it, fencing token
 * 1) and a strategy's deletion under its owner's lock.
 */
import type * as pg from 'pg';
import { createGroupCommit, type BatchReport, type GroupCommit, type GroupCommitOptions } from './groupCommit.js';
import { commitPostgresBatch, type PgBatchContext, type PgQueuedWrite } from './postgresBatch.js';
import { lockOwned, type Owner } from './postgresOwnership.js';
import type { NewStrategy } from './types.js';

/**
 * The group commit of a PostgreSQL store (`false`: none, each append its own transaction): two
 * batches side by side, one committing while the next one's writes are made; never two writes of
 * one strategy in flight. `context` is read per batch; `fail` types a batch's failure.
 *
 * @example
 * ```ts
 * const group = postgresGroupCommit(() => context, {}, undefined, fail);
 * await group?.submit({ write, token: 3 });
 * ```
 */
export function postgresGroupCommit(
  context: () => PgBatchContext,
  grouping: GroupCommitOptions | false | undefined,
  onBatch: ((report: BatchReport) => void) | undefined,
  fail: (error: unknown) => never,
): GroupCommit<PgQueuedWrite> | undefined {
  if (grouping === false) return undefined;
  return createGroupCommit(
    (entries) => commitPostgresBatch(context(), entries).catch(fail),
    { concurrency: 2, ...grouping },
    onBatch,
    (entry) => entry.write.strategyId,
  );
}

/**
 * Inserts `strategy`'s row, leased to `instanceId` until `leaseExpiresAt`, with fencing token 1.
 * Returns false (nothing written) when a strategy of that id is already stored.
 *
 * @example
 * ```ts
 * if (!(await insertStrategy(client, strategy, 'node-a', now + leaseMs))) throw new StoreConflictError(id, 'already stored');
 * ```
 */
export async function insertStrategy(
  client: pg.PoolClient,
  strategy: NewStrategy,
  instanceId: string,
  leaseExpiresAt: number,
): Promise<boolean> {
  const { rowCount } = await client.query(
    `INSERT INTO strategies (strategy_id, variant, params, snapshot, seq, state, created_at, updated_at, owner, lease_expires_at, fencing_token)
     VALUES ($1, $2, $3, $4, 0, $5, $6, $6, $7, $8, 1) ON CONFLICT (strategy_id) DO NOTHING`,
    [strategy.strategyId, strategy.variant, strategy.params, strategy.snapshot, strategy.state, strategy.at, instanceId, leaseExpiresAt],
  );
  return rowCount === 1;
}

/**
 * Deletes a strategy and its trail, with its row locked and its owner checked first (in the
 * caller's transaction).
 * @throws {OwnershipLostError} when `owner` no longer owns it: nothing is deleted.
 */
export async function deleteOwnedStrategy(client: pg.PoolClient, strategyId: string, owner: Owner): Promise<void> {
  await lockOwned(client, strategyId, owner, 'remove');
  await client.query('DELETE FROM audit_records WHERE strategy_id = $1', [strategyId]);
  await client.query('DELETE FROM strategies WHERE strategy_id = $1', [strategyId]);
}
