import type * as pg from 'pg';
import { checkTradingState, type TradingState } from '../../guards/portfolio.js';
import type { TradingStateChange } from '../../machines/coordinator.js';
import { TradingStateRefusal } from '../../machines/errors.js';
import { statesTagged } from '../../machines/tags.js';
import { newestKillSwitch } from './killSwitchSteps.js';
import type { KillSwitchProgress, StoredSystemState, StrategyWrite, TradingStateRequest } from './types.js';

/** The NOTIFY channel of trading state changes (its own: its payload is not a strategy change). */
export const SYSTEM_CHANNEL = 'strategy_lifecycle_system';

type Queryable = pg.Pool | pg.PoolClient;

/**
 * Refuses an order-producing write inside its own transaction when the stored trading state
 * forbids it. FOR SHARE waits for a trading state change in flight and then reads it, so no
 * write can commit an order after another instance's HALTED committed.
 * @throws {TradingStateRefusal}
 */
export async function checkStoredTradingState(client: pg.PoolClient, write: StrategyWrite): Promise<void> {
  if (!write.effect) return;
  const { rows } = await client.query<{ state: TradingState }>('SELECT state FROM trading_state WHERE id = 1 FOR SHARE');
  const refusal = checkTradingState(rows[0]?.state ?? 'ACTIVE', write.effect);
  if (refusal) throw new TradingStateRefusal(write.strategyId, refusal.code as TradingStateRefusal['code'], refusal.reason);
}

/** The trading state history and the newest kill switch run with its instances' parts. */
export async function loadSystemState(db: Queryable): Promise<StoredSystemState> {
  const changes = await db.query<{ from_state: TradingState; to_state: TradingState; reason: string; operator: string; at: string }>(
    'SELECT from_state, to_state, reason, operator, at FROM trading_state_changes ORDER BY seq',
  );
  // Only the steps of the newest run: the one started after the most trading state changes, then
  // the latest start (as newestKillSwitch orders them). Not the latest start time alone: each
  // instance stamps its own clock, and a newer run pressed on a clock behind would be hidden.
  const steps = await db.query<{ progress: KillSwitchProgress }>(
    // A step written before runs carried their count (no key) counts as -1: older than any that has one.
    `SELECT progress FROM kill_switch_steps
      WHERE (COALESCE((progress->>'tradingStateChanges')::bigint, -1), started_at) = (
        SELECT COALESCE((progress->>'tradingStateChanges')::bigint, -1) AS changes, started_at FROM kill_switch_steps
         ORDER BY changes DESC, started_at DESC LIMIT 1)
      ORDER BY seq`,
  );
  return {
    tradingStateHistory: changes.rows.map((c) => ({
      from: c.from_state,
      to: c.to_state,
      reason: c.reason,
      operator: c.operator,
      at: Number(c.at),
    })),
    ...newestKillSwitch(steps.rows.map((r) => r.progress)),
  };
}

/**
 * Changes the stored trading state inside `client`'s transaction, keeps the change in the history
 * and publishes it on {@link SYSTEM_CHANNEL} (delivered to listeners when the transaction commits).
 */
export async function saveTradingState(
  client: pg.PoolClient,
  request: TradingStateRequest,
  instanceId: string,
): Promise<TradingStateChange> {
  // FOR UPDATE: changes from several instances are applied one after the other, each with its true `from`.
  const { rows } = await client.query<{ state: TradingState }>('SELECT state FROM trading_state WHERE id = 1 FOR UPDATE');
  const from = rows[0]?.state ?? 'ACTIVE';
  await client.query('UPDATE trading_state SET state = $1 WHERE id = 1', [request.to]);
  await client.query('INSERT INTO trading_state_changes (from_state, to_state, reason, operator, at) VALUES ($1, $2, $3, $4, $5)', [
    from,
    request.to,
    request.reason,
    request.operator,
    request.at,
  ]);
  const change: TradingStateChange = { from, to: request.to, reason: request.reason, at: request.at, operator: request.operator };
  await client.query('SELECT pg_notify($1, $2)', [SYSTEM_CHANNEL, JSON.stringify({ ...change, instanceId })]);
  return change;
}

/**
 * Appends one kill switch step inside `client`'s transaction and publishes it on
 * {@link SYSTEM_CHANNEL}: every instance learns at once that a kill switch started (and flattens
 * what it holds) or that a part of it moved on (and whether the whole run is complete).
 */
export async function saveKillSwitch(client: pg.PoolClient, progress: KillSwitchProgress, instanceId: string): Promise<void> {
  await client.query('INSERT INTO kill_switch_steps (started_at, at, progress) VALUES ($1, $2, $3)', [
    progress.startedAt,
    progress.at,
    progress,
  ]);
  await client.query('SELECT pg_notify($1, $2)', [SYSTEM_CHANNEL, JSON.stringify({ killSwitch: progress.startedAt, instanceId })]);
}

/** The states with an entry order working (PENDING_ENTRY, ENTERING): a fill may still open a position. */
const ENTERING_STATES = [...statesTagged('entering')];

/**
 * Ids of the stored strategies whose snapshot holds an open position, or whose entry order is still
 * working (a state tagged `entering`: it may fill yet), whoever owns them. A kill switch is complete
 * only when none is left: an entry working on an instance that died is watched, and what it fills
 * flattened, by the instance that takes it over.
 */
export async function holdingPositions(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ strategy_id: string }>(
    `SELECT strategy_id FROM strategies
      WHERE COALESCE((snapshot->'context'->'position'->>'quantity')::numeric, 0) > 0 OR state = ANY($1::text[])
      ORDER BY strategy_id`,
    [ENTERING_STATES],
  );
  return rows.map((r) => r.strategy_id);
}
