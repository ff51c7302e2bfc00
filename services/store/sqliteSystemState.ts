/**
 * The shared trading state and the kill switch's steps in a SQLite store: their reads and their
 * writes, each write one transaction. The store confirms its file after each (see sqliteStore.ts).
 */
import type * as Database from 'better-sqlite3';
import type { TradingState } from '../../guards/portfolio.js';
import type { TradingStateChange } from '../../machines/coordinator.js';
import { StoreCorruptError } from '../../machines/errors.js';
import { killSwitchStepProblem, newestKillSwitch } from './killSwitchSteps.js';
import { parseStoredJson } from './sqliteIntegrity.js';
import type { KillSwitchProgress, StoredSystemState, TradingStateRequest } from './types.js';

/** How a kill switch step's value is named in an error: the table, the row, the column. */
const stepName = (seq: number) => `kill_switch_steps row seq ${seq}: its progress column`;

/** A stored step as a {@link KillSwitchProgress}. @throws {StoreCorruptError} naming the row and what is wrong. */
function storedStep(path: string, row: { seq: number; progress: string }): KillSwitchProgress {
  const step = parseStoredJson(path, row.progress, stepName(row.seq));
  const problem = killSwitchStepProblem(step);
  if (problem) throw new StoreCorruptError(path, `${stepName(row.seq)} is not a kill switch step: ${problem}`);
  return step as KillSwitchProgress;
}

/**
 * The trading state's history and the newest kill switch run, as a restore reads them.
 *
 * @example
 * ```ts
 * const { tradingStateHistory } = loadSqliteSystemState(db, './data/x.db');
 * ```
 * @throws {StoreCorruptError} naming the file and the row of a step that is not JSON or not a step.
 */
export function loadSqliteSystemState(db: Database.Database, path: string): StoredSystemState {
  const changes = db.prepare('SELECT from_state, to_state, reason, operator, at FROM trading_state_changes ORDER BY seq').all() as Array<{
    from_state: TradingState;
    to_state: TradingState;
    reason: string;
    operator: string;
    at: number;
  }>;
  // A step that is not JSON would fail the selection below with SQLite's "malformed JSON", and one
  // that is not an object, or whose count is not a number, would be taken for the oldest (or the
  // newest) run: found first, and reported as the damage it is (the table is one row per step).
  const odd = db
    .prepare(
      `SELECT seq, progress FROM kill_switch_steps
        WHERE CASE WHEN json_valid(progress)
                   THEN json_type(progress) != 'object' OR COALESCE(json_type(progress, '$.tradingStateChanges'), 'integer') != 'integer'
                   ELSE 1 END
        ORDER BY seq LIMIT 1`,
    )
    .get() as { seq: number; progress: string } | undefined;
  if (odd) {
    storedStep(path, odd);
    throw new StoreCorruptError(path, `${stepName(odd.seq)} is not JSON SQLite reads`);
  }
  // The newest run's steps: started after the most trading state changes, then the latest start
  // (as newestKillSwitch orders them), not the latest start time alone (a clock set behind).
  const steps = db
    .prepare(
      // A step written before runs carried their count (no key) counts as -1: older than any that has one.
      `SELECT seq, progress FROM kill_switch_steps
        WHERE (COALESCE(json_extract(progress, '$.tradingStateChanges'), -1), started_at) = (
          SELECT COALESCE(json_extract(progress, '$.tradingStateChanges'), -1) AS changes, started_at FROM kill_switch_steps
           ORDER BY changes DESC, started_at DESC LIMIT 1)
        ORDER BY seq`,
    )
    .all() as Array<{ seq: number; progress: string }>;
  return {
    tradingStateHistory: changes.map((c) => ({ from: c.from_state, to: c.to_state, reason: c.reason, operator: c.operator, at: c.at })),
    ...newestKillSwitch(steps.map((row) => storedStep(path, row))),
  };
}

/**
 * Sets the trading state and records the change, in one transaction; `current` is the open
 * connection's prepared read of the state.
 *
 * @example
 * ```ts
 * const change = saveSqliteTradingState(db, statements.tradingState, { to: 'HALTED', reason, operator, at });
 * ```
 */
export function saveSqliteTradingState(
  db: Database.Database,
  current: Database.Statement,
  request: TradingStateRequest,
): TradingStateChange {
  return db.transaction((): TradingStateChange => {
    const from = (current.get() as { state: TradingState }).state;
    db.prepare('UPDATE trading_state SET state = ? WHERE id = 1').run(request.to);
    db.prepare('INSERT INTO trading_state_changes (from_state, to_state, reason, operator, at) VALUES (?, ?, ?, ?, ?)').run(
      from,
      request.to,
      request.reason,
      request.operator,
      request.at,
    );
    return { from, to: request.to, reason: request.reason, at: request.at, operator: request.operator };
  })();
}

/**
 * Records one step of a kill switch run.
 *
 * @example
 * ```ts
 * saveSqliteKillSwitch(db, progress);
 * ```
 */
export function saveSqliteKillSwitch(db: Database.Database, progress: KillSwitchProgress): void {
  db.prepare('INSERT INTO kill_switch_steps (started_at, at, progress) VALUES (?, ?, ?)').run(
    progress.startedAt,
    progress.at,
    JSON.stringify(progress),
  );
}
