/** `strategy-lifecycle status`: what a database holds, read without running a strategy or writing. */
import { STRATEGY_STATES, topLevelState, type StrategyState } from '../../machines/states.js';
import type { StrategyContext } from '../../machines/types.js';
import { haltedSince, withInterruptedKillSwitch } from '../../services/store/killSwitchSteps.js';
import type { StoredStrategy, StoredSystemState } from '../../services/store/types.js';
import { toMarketIso } from '../../services/market/time.js';
import { PROGRAM, UsageError, parse, type Command } from './args.js';
import { databaseIn, openExistingStore } from './database.js';
import { countRows, table } from './table.js';
import { VARIANT_IDS } from './variants.js';

const usage = `Usage: ${PROGRAM} status [--data-dir <dir> | --db <file>] [--json] [--check-integrity]

Summary of a database without starting the service: the trading state and the newest kill
switch (finished or not), strategies per state and variant, those in ERROR with the reason,
open positions. Reads the stored snapshots; runs no strategy and
writes nothing (safe while the service runs).

Options:
  --data-dir <dir>  the service's data directory (default ./data): <dir>/strategy-lifecycle.db
  --db <file>       a database file instead
  --json            the summary as JSON on stdout
  --check-integrity also check the whole file with SQLite's quick_check (the audit trail
                    included, which the service's open does not check); a damaged file fails
                    the command. Takes as long as reading the file.
  -h, --help        this text`;

/** What `status` reports. */
export interface DatabaseStatus {
  database: string;
  totalStrategies: number;
  countByState: Partial<Record<StrategyState, number>>;
  countByVariant: Record<string, number>;
  errors: Array<{ strategyId: string; variant: string; since: string; reason: string; errorCount: number }>;
  openPositions: Array<{
    strategyId: string;
    variant: string;
    state: StrategyState;
    quantity: number;
    expiry?: string;
    underlying?: string;
  }>;
  /** The newest audit record's time, New York. */
  lastActivity: string | null;
  /** `ok` after a whole-file integrity check passed (`--check-integrity`); absent without one. */
  integrity?: 'ok';
  /** The system's trading state and its last change (none: ACTIVE since the start). */
  tradingState: { state: string; since: string | null; reason: string | null; operator: string | null };
  /** The newest kill switch run, or null when none ever ran. */
  killSwitch: {
    reason: string;
    operator: string;
    startedAt: string;
    finishedAt: string | null;
    /** A later change to ACTIVE or REDUCING overruled it (HALTED again does not): a restarted service does not carry it on. */
    overruled: boolean;
    pending: string[];
    flattened: number;
    failed: Array<{ strategyId: string; reason: string }>;
    /**
     * Present when the process was killed after the kill switch stored HALTED and before it stored
     * its run: no progress is stored, and the service starts the run (flattens every position) when it starts.
     */
    interruptedStart?: true;
  } | null;
}

/** The trading state and kill switch part of the status, from the stored system state. */
export function systemStatusOf(state: StoredSystemState): Pick<DatabaseStatus, 'tradingState' | 'killSwitch'> {
  const last = state.tradingStateHistory.at(-1);
  // HALTED by a kill switch whose run was never stored (killed between the two writes): shown as the run it is.
  const run = withInterruptedKillSwitch(state).killSwitch;
  const interrupted = run !== state.killSwitch;
  return {
    tradingState: last
      ? { state: last.to, since: toMarketIso(last.at), reason: last.reason, operator: last.operator ?? null }
      : { state: 'ACTIVE', since: null, reason: null, operator: null },
    killSwitch: run
      ? {
          reason: run.reason,
          operator: run.operator,
          startedAt: toMarketIso(run.startedAt),
          finishedAt: run.finishedAt === null ? null : toMarketIso(run.finishedAt),
          overruled: run.finishedAt === null && !haltedSince(state.tradingStateHistory, run.tradingStateChanges),
          pending: [...run.pending],
          flattened: run.flattened.length,
          failed: [...run.failed],
          ...(interrupted ? { interruptedStart: true as const } : {}),
        }
      : null,
  };
}

/** Summarises stored strategies from their snapshots. */
export function statusOf(
  database: string,
  stored: readonly StoredStrategy[],
  system: StoredSystemState = { tradingStateHistory: [], killSwitch: null, killSwitchParts: [] },
): DatabaseStatus {
  const status: DatabaseStatus = {
    database,
    ...systemStatusOf(system),
    totalStrategies: stored.length,
    countByState: {},
    countByVariant: {},
    errors: [],
    openPositions: [],
    lastActivity: null,
  };
  let last = -Infinity;
  for (const s of stored) {
    // A stored snapshot is XState's persisted snapshot of a strategy machine.
    const snapshot = s.snapshot as unknown as { value: string | Record<string, unknown>; context: StrategyContext };
    const state = topLevelState(snapshot.value);
    const context = snapshot.context;
    status.countByState[state] = (status.countByState[state] ?? 0) + 1;
    status.countByVariant[s.variant] = (status.countByVariant[s.variant] ?? 0) + 1;
    if (state === 'ERROR') {
      status.errors.push({
        strategyId: s.strategyId,
        variant: s.variant,
        since: toMarketIso(context.enteredAt),
        reason: context.lastError?.reason ?? 'unknown',
        errorCount: context.errorCount,
      });
    }
    const position = context.position;
    if (position && position.quantity > 0) {
      const underlying = position.underlying ?? context.params?.underlying;
      status.openPositions.push({
        strategyId: s.strategyId,
        variant: s.variant,
        state,
        quantity: position.quantity,
        ...(position.expiry ? { expiry: position.expiry } : {}),
        ...(typeof underlying === 'string' ? { underlying } : {}),
      });
    }
    last = Math.max(last, s.auditTrail.at(-1)?.at ?? -Infinity);
  }
  if (Number.isFinite(last)) status.lastActivity = toMarketIso(last);
  return status;
}

/** The status as text tables. */
export function renderStatus(status: DatabaseStatus, stored: readonly StoredStrategy[]): string {
  const lines = [
    `Database ${status.database}: ${status.totalStrategies} ${status.totalStrategies === 1 ? 'strategy' : 'strategies'}${status.lastActivity ? `, last transition ${status.lastActivity}` : ''}`,
  ];
  if (status.integrity) lines.push(`Integrity: ${status.integrity} (SQLite quick_check of the whole file)`);
  const trading = status.tradingState;
  lines.push(
    `Trading state: ${trading.state}${trading.since ? ` since ${trading.since}` : ''}${trading.reason ? ` (${trading.reason}${trading.operator ? `, by ${trading.operator}` : ''})` : ''}`,
  );
  const run = status.killSwitch;
  if (run?.interruptedStart) {
    lines.push(
      `Kill switch: "${run.reason}" by ${run.operator}, started ${run.startedAt}, NOT FINISHED: interrupted before its first step was stored (nothing flattened yet); the service starts it when it starts and flattens every position`,
    );
  } else if (run) {
    lines.push(
      run.finishedAt
        ? `Kill switch: "${run.reason}" by ${run.operator}, started ${run.startedAt}, finished ${run.finishedAt}: ${run.flattened} flattened, ${run.failed.length} failed`
        : `Kill switch: "${run.reason}" by ${run.operator}, started ${run.startedAt}, NOT FINISHED: ${run.pending.length} pending (${run.pending.join(', ') || 'none'}), ${run.flattened} flattened, ${run.failed.length} failed; ${run.overruled ? 'OVERRULED by a later trading state change: the service will NOT carry it on (flatten what is pending yourself)' : 'the service carries it on when it starts'}`,
    );
    for (const f of run.failed) lines.push(`  failed: ${f.strategyId}: ${f.reason}`);
  }
  if (status.totalStrategies === 0) return lines.join('\n');
  const variants = countRows(status.countByVariant, VARIANT_IDS).map(([v]) => v);
  const cell = new Map<string, number>();
  for (const s of stored) {
    const key = `${topLevelState((s.snapshot as unknown as { value: string }).value)}|${s.variant}`;
    cell.set(key, (cell.get(key) ?? 0) + 1);
  }
  const rows = countRows(status.countByState, STRATEGY_STATES).map(([state, n]) => [
    state,
    ...variants.map((v) => cell.get(`${state}|${v}`) ?? 0),
    n,
  ]);
  rows.push(['total', ...variants.map((v) => status.countByVariant[v]), status.totalStrategies]);
  lines.push('', table(['state', ...variants, 'total'], rows));
  lines.push('', `In ERROR: ${status.errors.length}`);
  if (status.errors.length)
    lines.push(
      table(
        ['strategy', 'variant', 'since', 'errors', 'reason'],
        status.errors.map((e) => [e.strategyId, e.variant, e.since, e.errorCount, e.reason]),
      ),
    );
  lines.push('', `Open positions: ${status.openPositions.length}`);
  if (status.openPositions.length) {
    lines.push(
      table(
        ['strategy', 'variant', 'state', 'quantity', 'expiry', 'underlying'],
        status.openPositions.map((p) => [p.strategyId, p.variant, p.state, p.quantity, p.expiry ?? '-', p.underlying ?? '-']),
      ),
    );
  }
  return lines.join('\n');
}

/** The `status` command. */
export const statusCommand: Command = {
  name: 'status',
  usage,
  async run(argv, io) {
    const { values } = parse(argv, {
      'data-dir': { type: 'string' },
      db: { type: 'string' },
      json: { type: 'boolean' },
      'check-integrity': { type: 'boolean' },
    });
    if (values['data-dir'] !== undefined && values.db !== undefined) throw new UsageError('give --data-dir or --db, not both');
    if (values['data-dir'] === '' || values.db === '') throw new UsageError(`${values.db === '' ? '--db' : '--data-dir'} needs a path`);
    const path = values.db ?? databaseIn(values['data-dir'] ?? './data');
    const store = await openExistingStore(path);
    let stored: StoredStrategy[];
    let system: StoredSystemState;
    const checkIntegrity = values['check-integrity'] === true;
    try {
      // The whole file, audit trail included (the open checked only the tables it reads whole).
      if (checkIntegrity) await store.checkIntegrity({ full: true });
      // The newest record of each strategy is all the status shows (its last activity).
      stored = await store.loadAll({ claim: false, window: 1 });
      system = await store.loadSystemState();
    } finally {
      await store.close();
    }
    const status = statusOf(path, stored, system);
    if (checkIntegrity) status.integrity = 'ok';
    io.out(values.json ? JSON.stringify(status, null, 2) : renderStatus(status, stored));
    return 0;
  },
};
