import type * as pg from 'pg';
import { checkTradingState, type TradingState } from '../../guards/portfolio.js';
import { OwnershipLostError, PortfolioLimitRefusal, StoreConflictError, TradingStateRefusal } from '../../machines/errors.js';
import type { BatchOutcome } from './groupCommit.js';
import { checkSlotLimits, limitsApply, lockOwned, ownershipProblem, type Owner } from './postgresOwnership.js';
import { releaseAfter } from './postgresConnections.js';
import { checkStoredTradingState } from './postgresSystemState.js';
import type { StrategyWrite } from './types.js';

/**
 * Group commit on PostgreSQL. A batch of appends is, where it can be, ONE statement and one round
 * trip: a fenced multi-row UPDATE of the strategies (joined on id, expected seq, owner and fencing
 * token, and for order-producing writes on the stored trading state read FOR SHARE), the INSERT of
 * the audit records of the rows that passed, and their NOTIFYs, all run as one implicit
 * transaction. Writes that take a portfolio slot under limits count slots across instances and go
 * one by one, each in a savepoint of the batch's explicit transaction.
 */

/** One queued append and the fencing token it was made under. */
export interface PgQueuedWrite {
  write: StrategyWrite;
  token: number;
}

/** What a batch needs from its store. */
export interface PgBatchContext {
  pool: pg.Pool;
  instanceId: string;
  channel: string;
  /** `BEGIN` plus the store's bounded lock and idle waits. */
  begin: string;
  /**
   * A write renews the lease of what it writes to this instant (now plus the lease), never
   * shortening it: the owner's fenced write proves it alive, and the lease round's renewal skips a
   * row while a write holds it locked, so a strategy written without pause would otherwise lapse.
   */
  leaseUntil: number;
}

/** lock_not_available: a row stayed locked elsewhere past `lock_timeout`. */
const LOCK_TIMEOUT = '55P03';
/** Errors of the server or the connection: the batch fails, and is not worth a retry write by write. */
const CONNECTION_CLASSES = ['08', '53', '57', '58', 'XX'];
const TRADING_STATES: TradingState[] = ['ACTIVE', 'REDUCING', 'HALTED'];

function sqlState(error: unknown): string {
  return String((error as { code?: unknown })?.code ?? '');
}

/**
 * True for an error that refuses one write and leaves the transaction usable after a rollback to
 * the write's savepoint: the store's refusals, a lock held elsewhere, a constraint the write broke.
 */
function refusesOneWrite(error: unknown): boolean {
  if (error instanceof StoreConflictError || error instanceof TradingStateRefusal || error instanceof PortfolioLimitRefusal) return true;
  const code = sqlState(error);
  // 23: integrity (a constraint); 22: data (a value the server cannot store, such as a NUL in JSON);
  // 54: a limit (a value too large). Each is this write's content, not the batch's.
  return code === LOCK_TIMEOUT || code.startsWith('23') || code.startsWith('22') || code.startsWith('54');
}

/** True when a statement of the server refused the batch's content (not the connection): retry the writes one by one. */
function isStatementError(error: unknown): boolean {
  const code = sqlState(error);
  return /^[0-9A-Z]{5}$/.test(code) && !CONNECTION_CLASSES.some((c) => code.startsWith(c));
}

/** A write that counts portfolio slots across instances: it takes the portfolio lock, alone. */
function goesAlone({ write }: PgQueuedWrite): boolean {
  return write.slot?.holds === true && limitsApply(write.limits, write.slot.group);
}

type Step = { kind: 'bulk'; indexes: number[] } | { kind: 'alone'; index: number };

/** The batch in order: runs of bulk writes (one statement each, one write per strategy), and the writes that go alone. */
function planOf(entries: readonly PgQueuedWrite[], everyAlone: boolean): Step[] {
  const steps: Step[] = [];
  let bulk: { kind: 'bulk'; indexes: number[] } | undefined;
  let ids = new Set<string>();
  entries.forEach((entry, index) => {
    if (everyAlone || goesAlone(entry)) {
      steps.push({ kind: 'alone', index });
      bulk = undefined;
      return;
    }
    // A second write of one strategy goes in the next statement: one UPDATE changes a row once.
    if (!bulk || ids.has(entry.write.strategyId)) {
      steps.push((bulk = { kind: 'bulk', indexes: [] }));
      ids = new Set();
    }
    bulk.indexes.push(index);
    ids.add(entry.write.strategyId);
  });
  return steps;
}

const seqAfter = (write: StrategyWrite) => (write.records.length ? write.records[write.records.length - 1].seq : write.expectedSeq);

/**
 * The one statement of a run of bulk writes, as a named prepared statement: each connection parses
 * it once, and the server can keep a generic plan instead of planning the CTE on every batch.
 */
function bulkQuery(checksTradingState: boolean): { name: string; text: string } {
  return checksTradingState ? BULK_CHECKING_TRADING_STATE : BULK;
}

/**
 * Bytes of changes one NOTIFY of a bulk statement lists before the next one starts: a payload holds
 * at most this plus one row and its header, under PostgreSQL's 8000-byte limit for rows up to
 * about 1,900 bytes (a row is a strategy id, its seq and its state).
 */
const NOTIFY_BYTES = 6000;

/**
 * The one statement of a run of bulk writes. `$1` is the writes and `$2` their records, each one
 * JSON document (see {@link bulkInput}); `$3` is this instance, `$4` the channel, `$5` the lease's
 * new end.
 */
function bulkStatement(checksTradingState: boolean): string {
  return `WITH input AS (
      SELECT * FROM json_to_recordset($1::json)
        AS t(strategy_id text, expected_seq bigint, seq bigint, snapshot jsonb, state text, at bigint, token bigint, holds boolean, slot_group text, allowed text)),
    ts AS (${checksTradingState ? 'SELECT state FROM trading_state WHERE id = 1 FOR SHARE' : 'SELECT NULL::text AS state WHERE false'}),
    updated AS (
      UPDATE strategies s SET snapshot = i.snapshot, seq = i.seq, state = i.state, updated_at = i.at, lease_expires_at = GREATEST(s.lease_expires_at, $5),
             holds_slot = COALESCE(i.holds, s.holds_slot), slot_group = CASE WHEN i.holds IS NULL THEN s.slot_group ELSE i.slot_group END
        FROM input i
       WHERE s.strategy_id = i.strategy_id AND s.seq = i.expected_seq AND s.owner = $3 AND s.fencing_token = i.token
         AND (i.allowed IS NULL OR COALESCE((SELECT state FROM ts), 'ACTIVE') = ANY(string_to_array(i.allowed, ',')))
      RETURNING s.strategy_id, s.seq, s.state),
    recorded AS (
      INSERT INTO audit_records (strategy_id, seq, at, record)
      SELECT r.strategy_id, r.seq, r.at, r.record FROM json_to_recordset($2::json) AS r(strategy_id text, seq bigint, at bigint, record jsonb)
       WHERE r.strategy_id IN (SELECT strategy_id FROM updated)),
    -- A few NOTIFYs per statement, not one per row: each payload lists its rows, up to about
    -- ${NOTIFY_BYTES} bytes of them (PostgreSQL refuses a payload of 8000 bytes or more).
    notified AS (
      SELECT count(pg_notify($4, c.payload)) AS n FROM (
        SELECT json_build_object('instanceId', $3::text, 'changes', json_agg(u.change))::text AS payload
          FROM (SELECT json_build_array(strategy_id, seq, state) AS change,
                       sum(octet_length(json_build_array(strategy_id, seq, state)::text) + 1) OVER (ROWS UNBOUNDED PRECEDING) / ${NOTIFY_BYTES} AS chunk
                  FROM updated) u
         GROUP BY u.chunk) c)
    SELECT (SELECT array_agg(strategy_id) FROM updated) AS updated, (SELECT n FROM notified) AS notified, COALESCE((SELECT state FROM ts), 'ACTIVE') AS trading_state`;
}

const BULK = { name: 'strategy_lifecycle_bulk_append_json', text: bulkStatement(false) };
const BULK_CHECKING_TRADING_STATE = { name: 'strategy_lifecycle_bulk_append_json_ts', text: bulkStatement(true) };

/** The states in which an order-producing write may commit, as the statement reads them (null: any). */
function allowedStates(write: StrategyWrite): string | null {
  const effect = write.effect;
  if (!effect) return null;
  return TRADING_STATES.filter((state) => !checkTradingState(state, effect)).join(',');
}

/**
 * The writes of a bulk statement and their records as two JSON documents (arrays of objects keyed
 * by the statement's column names), each made by one `JSON.stringify`. Passed as `text[]`/`jsonb[]`
 * arrays instead, every snapshot's JSON text is escaped again into PostgreSQL's array syntax by the
 * driver (a quote in every key): that escaping alone was 13% of the CPU of 100 strategies sending
 * at once (measured 2026-12-03).
 */
function bulkInput(entries: readonly PgQueuedWrite[]): { writes: string; records: string } {
  const writes: object[] = [];
  const records: object[] = [];
  for (const { write, token } of entries) {
    writes.push({
      strategy_id: write.strategyId,
      expected_seq: write.expectedSeq,
      seq: seqAfter(write),
      snapshot: write.snapshot,
      state: write.state,
      at: write.at,
      token,
      holds: write.slot?.holds ?? null,
      slot_group: write.slot?.group ?? null,
      allowed: allowedStates(write),
    });
    for (const record of write.records) records.push({ strategy_id: write.strategyId, seq: record.seq, at: record.at, record });
  }
  return { writes: JSON.stringify(writes), records: JSON.stringify(records) };
}

/** Runs one bulk statement; returns each write's outcome (diagnosing the ones it did not write). */
async function writeBulk(db: pg.Pool | pg.PoolClient, context: PgBatchContext, entries: readonly PgQueuedWrite[]): Promise<unknown[]> {
  const writes = entries.map((e) => e.write);
  const input = bulkInput(entries);
  const { rows } = await db.query<{ updated: string[] | null; trading_state: TradingState }>({
    ...bulkQuery(writes.some((w) => w.effect)),
    values: [input.writes, input.records, context.instanceId, context.channel, context.leaseUntil],
  });
  const written = new Set(rows[0].updated ?? []);
  const tradingState = rows[0].trading_state;
  const outcome: unknown[] = entries.map(() => undefined);
  const unwritten = entries.map((entry, i) => ({ entry, i })).filter(({ entry }) => !written.has(entry.write.strategyId));
  if (unwritten.length === 0) return outcome;
  // Why each was not written, in the order the single-write path checks: trading state, owner, seq.
  let stored: pg.QueryResult<{ strategy_id: string; owner: string | null; fencing_token: string }>;
  try {
    stored = await db.query('SELECT strategy_id, owner, fencing_token FROM strategies WHERE strategy_id = ANY($1)', [
      unwritten.map((u) => u.entry.write.strategyId),
    ]);
  } catch (error) {
    // Inside the batch's transaction, its failure fails the batch: nothing is committed yet.
    if (db !== context.pool) throw error;
    // Run on the pool, the statement has committed its writes: they stay acknowledged, and only the
    // writes it did not make fail, with what stopped their diagnosis (they were not written).
    for (const { i } of unwritten) outcome[i] = error;
    return outcome;
  }
  const rowOf = new Map(stored.rows.map((r) => [r.strategy_id, r]));
  for (const { entry, i } of unwritten) {
    const { write, token } = entry;
    const refusal = write.effect ? checkTradingState(tradingState, write.effect) : null;
    const problem = ownershipProblem({ instanceId: context.instanceId, token }, rowOf.get(write.strategyId));
    outcome[i] = refusal
      ? new TradingStateRefusal(write.strategyId, refusal.code as TradingStateRefusal['code'], refusal.reason)
      : problem
        ? new OwnershipLostError(write.strategyId, context.instanceId, `write refused: ${problem}`)
        : new StoreConflictError(write.strategyId, `write refused: the stored strategy is not at seq ${write.expectedSeq}`);
  }
  return outcome;
}

/**
 * One write on its own inside the batch's transaction: the trading state, the row locked with its
 * ownership, the slot count across instances, then the fenced UPDATE, its records and its NOTIFY.
 * @throws {TradingStateRefusal} {@link PortfolioLimitRefusal} {@link OwnershipLostError} {@link StoreConflictError}
 */
export async function writeAlone(client: pg.PoolClient, context: PgBatchContext, { write, token }: PgQueuedWrite): Promise<void> {
  const id = write.strategyId;
  const owner: Owner = { instanceId: context.instanceId, token };
  const slot = write.slot;
  await checkStoredTradingState(client, write);
  if (slot?.holds && limitsApply(write.limits, slot.group)) {
    const stored = await lockOwned(client, id, owner, 'write');
    if (!stored.holdsSlot) await checkSlotLimits(client, id, slot.group, write.limits);
  }
  const { rowCount } = await client.query(
    `UPDATE strategies SET snapshot = $1, seq = $2, state = $3, updated_at = $4, lease_expires_at = GREATEST(lease_expires_at, $11),
            holds_slot = COALESCE($9, holds_slot), slot_group = CASE WHEN $9::boolean IS NULL THEN slot_group ELSE $10 END
      WHERE strategy_id = $5 AND seq = $6 AND owner = $7 AND fencing_token = $8`,
    [
      write.snapshot,
      seqAfter(write),
      write.state,
      write.at,
      id,
      write.expectedSeq,
      context.instanceId,
      token,
      slot?.holds ?? null,
      slot?.group ?? null,
      context.leaseUntil,
    ],
  );
  if (rowCount !== 1) {
    await lockOwned(client, id, owner, 'write');
    throw new StoreConflictError(id, `write refused: the stored strategy is not at seq ${write.expectedSeq}`);
  }
  await client.query(
    'INSERT INTO audit_records (strategy_id, seq, at, record) SELECT $1, r.seq, r.at, r.record FROM unnest($2::bigint[], $3::bigint[], $4::jsonb[]) AS r(seq, at, record)',
    [id, write.records.map((r) => r.seq), write.records.map((r) => r.at), write.records.map((r) => JSON.stringify(r))],
  );
  await client.query('SELECT pg_notify($1, $2)', [
    context.channel,
    JSON.stringify({ strategyId: id, seq: seqAfter(write), state: write.state, instanceId: context.instanceId }),
  ]);
}

/** The steps in one explicit transaction: bulk statements as they are, lone writes each in a savepoint. */
async function inTransaction(context: PgBatchContext, entries: readonly PgQueuedWrite[], steps: Step[]): Promise<unknown[]> {
  const client = await context.pool.connect();
  const ignore = () => undefined;
  // A connection dropping mid-batch is reported by the failing query; unheard, it would crash the process.
  client.on('error', ignore);
  let failed = false;
  let failure: unknown;
  try {
    await client.query(context.begin);
    const outcome: unknown[] = entries.map(() => undefined);
    for (const step of steps) {
      if (step.kind === 'bulk') {
        const part = await writeBulk(
          client,
          context,
          step.indexes.map((i) => entries[i]),
        );
        step.indexes.forEach((index, k) => (outcome[index] = part[k]));
        continue;
      }
      await client.query('SAVEPOINT one_write');
      try {
        await writeAlone(client, context, entries[step.index]);
        await client.query('RELEASE SAVEPOINT one_write');
      } catch (error) {
        if (!refusesOneWrite(error)) throw error;
        await client.query('ROLLBACK TO SAVEPOINT one_write');
        outcome[step.index] = error;
      }
    }
    await client.query('COMMIT');
    return outcome;
  } catch (error) {
    failed = true;
    failure = error;
    throw error;
  } finally {
    await releaseAfter(client, failed, failure, ignore);
  }
}

/**
 * Commits a batch: one implicit-transaction statement when every write can go in it (the common
 * case: one round trip for the batch), otherwise one explicit transaction. A statement the server
 * refuses for its content (a duplicate audit record, a lock held elsewhere) is retried write by
 * write, each in its savepoint, so only the writes at fault fail.
 *
 * @example
 * ```ts
 * const outcome = await commitPostgresBatch(context, [{ write, token: 3 }]); // [undefined]
 * ```
 * @throws the error that failed the batch (connection lost, server down, disk full): nothing committed.
 */
export async function commitPostgresBatch(context: PgBatchContext, entries: readonly PgQueuedWrite[]): Promise<BatchOutcome> {
  const steps = planOf(entries, false);
  try {
    if (steps.length === 1 && steps[0].kind === 'bulk') return await writeBulk(context.pool, context, entries);
    return await inTransaction(context, entries, steps);
  } catch (error) {
    if (!isStatementError(error)) throw error;
    return inTransaction(context, entries, planOf(entries, true));
  }
}
