import type { TradingState } from '../../guards/portfolio.js';
import { topLevelState, type StrategyState } from '../../machines/states.js';
import type { StrategyActor } from './strategyActor.js';
import { toMarketIso } from '../market/time.js';

/** The seed's all-strategies summary, and what an operator needs beside it. */
export interface SystemSummary {
  /** When it was taken (system clock, New York time). */
  at: string;
  tradingState: TradingState;
  totalStrategies: number;
  countByState: Partial<Record<StrategyState, number>>;
  countByVariant: Record<string, number>;
  /** The seed's counters: MANAGING or ADJUSTING, ERROR, SUSPENDED. */
  active: number;
  inError: number;
  suspended: number;
  errors: Array<{ strategyId: string; reason: string; since: string }>;
  openPositions: Array<{
    strategyId: string;
    variant: string;
    state: StrategyState;
    quantity: number;
    expiry?: string;
    underlying?: string;
  }>;
  timeInState: Array<{ strategyId: string; state: StrategyState; ms: number }>;
  portfolio: { slotsUsed: number; byGroup: Record<string, number> };
}

/** A strategy that can tell its committed snapshot without being woken (a runtime handle). */
interface Peekable {
  peekSnapshot(): Pick<ReturnType<StrategyActor['getSnapshot']>, 'value' | 'context'>;
}

/** Builds the summary of a set of strategies at `now`; dormant strategies stay dormant. */
export function summarize(
  strategies: Iterable<StrategyActor>,
  now: number,
  tradingState: TradingState,
  slots: ReadonlyMap<string, string | undefined>,
): SystemSummary {
  const summary: SystemSummary = {
    at: toMarketIso(now),
    tradingState,
    totalStrategies: 0,
    countByState: {},
    countByVariant: {},
    active: 0,
    inError: 0,
    suspended: 0,
    errors: [],
    openPositions: [],
    timeInState: [],
    portfolio: { slotsUsed: slots.size, byGroup: {} },
  };
  for (const strategy of strategies) {
    // A dormant strategy (restored, not started yet) answers from its stored snapshot.
    const snapshot = (strategy as Partial<Peekable>).peekSnapshot?.() ?? strategy.getSnapshot();
    const { context } = snapshot;
    const state = topLevelState(snapshot.value);
    summary.totalStrategies++;
    summary.countByState[state] = (summary.countByState[state] ?? 0) + 1;
    summary.countByVariant[context.variant] = (summary.countByVariant[context.variant] ?? 0) + 1;
    if (state === 'MANAGING' || state === 'ADJUSTING') summary.active++;
    if (state === 'SUSPENDED') summary.suspended++;
    if (state === 'ERROR') {
      summary.inError++;
      summary.errors.push({
        strategyId: strategy.id,
        reason: context.lastError?.reason ?? 'unknown',
        since: toMarketIso(context.enteredAt),
      });
    }
    const position = context.position;
    if (position && position.quantity > 0) {
      const open: SystemSummary['openPositions'][number] = {
        strategyId: strategy.id,
        variant: context.variant,
        state,
        quantity: position.quantity,
      };
      if (position.expiry) open.expiry = position.expiry;
      const underlying = position.underlying ?? context.params.underlying;
      if (typeof underlying === 'string') open.underlying = underlying;
      summary.openPositions.push(open);
    }
    summary.timeInState.push({ strategyId: strategy.id, state, ms: Math.max(0, now - context.enteredAt) });
  }
  for (const group of slots.values()) {
    const key = group ?? '(none)';
    summary.portfolio.byGroup[key] = (summary.portfolio.byGroup[key] ?? 0) + 1;
  }
  return summary;
}
