import { definitionOf } from '../machines/createStrategyMachine.js';
import type { CommittedStrategy } from '../services/runtime/handleTypes.js';
import type { ScheduledExit } from '../services/day/tradingDay.js';
import { toMarketIso } from '../services/market/time.js';
import type { StrategyState } from '../machines/states.js';

/** What is due next for a strategy: its recovery or stuck-state deadline, or the exit the DTE monitor armed. */
export interface ScheduledItem {
  kind: 'ERROR_RECOVERY' | 'STUCK' | 'DEFENSIVE_EXIT_DTE' | 'SAME_DAY_EXIT';
  /** In the operator's words: "error recovery", "stuck in PENDING_ENTRY", "21-DTE exit", "same-day exit". */
  label: string;
  /** New York time with its offset (`2026-12-28T09:30:00.000-05:00`). */
  at: string;
}

/** A strategy as the API and the dashboard show it. */
export interface StrategyView {
  id: string;
  variant: string;
  state: StrategyState;
  /** XState's state value (substates included). */
  value: unknown;
  enteredAt: string;
  timeInStateMs: number;
  position: { quantity: number; expiry?: string; underlying?: string } | null;
  errorCount: number;
  lastError: { reason: string; at: string } | null;
  deadline: { kind: string; at: string } | null;
  /** Everything scheduled for this strategy, soonest first (the first is "next" on the dashboard). */
  schedule: ScheduledItem[];
  /** The instance serving it (PostgreSQL: the lease owner); null for a single-instance store. */
  instance: string | null;
  params: Record<string, unknown>;
}

/** What a view needs besides the strategy: who serves it and what the market driver has armed. */
export interface ViewContext {
  instance?: string | null;
  /** The trading day's armed exit of a strategy (`TradingDay.scheduledExit`). */
  scheduledExit?: (id: string) => ScheduledExit | null;
}

/** The strategy's deadline and its armed exit, soonest first. */
function scheduleOf(strategy: CommittedStrategy, context: ViewContext): ScheduledItem[] {
  const items: Array<{ item: ScheduledItem; at: number }> = [];
  const { deadline } = strategy.snapshot.context;
  if (deadline) {
    const label = deadline.kind === 'ERROR_RECOVERY' ? 'error recovery' : `stuck in ${deadline.state}`;
    items.push({ at: deadline.at, item: { kind: deadline.kind, label, at: toMarketIso(deadline.at) } });
  }
  const exit = context.scheduledExit?.(strategy.id);
  if (exit) {
    const dte = definitionOf(strategy.machine)?.defensiveDte;
    const item: ScheduledItem =
      exit.event === 'DEFENSIVE_EXIT_DTE'
        ? { kind: 'DEFENSIVE_EXIT_DTE', label: typeof dte === 'number' ? `${dte}-DTE exit` : 'defensive exit', at: toMarketIso(exit.at) }
        : { kind: 'SAME_DAY_EXIT', label: 'same-day exit', at: toMarketIso(exit.at) };
    items.push({ at: exit.at, item });
  }
  return items.sort((a, b) => a.at - b.at).map((x) => x.item);
}

/**
 * The view of one strategy at `now`, from its committed state only (`PersistentStrategySystem.peek`):
 * making it never wakes a dormant strategy, and a dormant and a live strategy in the same state
 * have the same view.
 *
 * @example
 * ```ts
 * const views = system.ids().map((id) => strategyView(system.peek(id), system.clock.now()));
 * ```
 */
export function strategyView(strategy: CommittedStrategy, now: number, context: ViewContext = {}): StrategyView {
  const { snapshot } = strategy;
  const { context: ctx } = snapshot;
  const position = ctx.position && ctx.position.quantity > 0 ? ctx.position : null;
  return {
    id: strategy.id,
    variant: ctx.variant,
    state: strategy.state,
    value: snapshot.value,
    enteredAt: toMarketIso(ctx.enteredAt),
    timeInStateMs: Math.max(0, now - ctx.enteredAt),
    position: position
      ? {
          quantity: position.quantity,
          ...(position.expiry ? { expiry: position.expiry } : {}),
          ...(position.underlying ? { underlying: position.underlying } : {}),
        }
      : null,
    errorCount: ctx.errorCount,
    lastError: strategy.state === 'ERROR' && ctx.lastError ? { reason: ctx.lastError.reason, at: toMarketIso(ctx.lastError.at) } : null,
    deadline: ctx.deadline ? { kind: ctx.deadline.kind, at: toMarketIso(ctx.deadline.at) } : null,
    schedule: scheduleOf(strategy, context),
    instance: context.instance ?? null,
    params: ctx.params,
  };
}
