import type { StrategyActor } from '../services/strategyActor.js';
import { toMarketIso } from '../services/time.js';
import type { StrategyState } from '../machines/states.js';

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
  params: Record<string, unknown>;
}

/** The view of one strategy at `now`. */
export function strategyView(strategy: StrategyActor, now: number): StrategyView {
  const snapshot = strategy.getSnapshot();
  const { context } = snapshot;
  const position = context.position && context.position.quantity > 0 ? context.position : null;
  return {
    id: strategy.id,
    variant: context.variant,
    state: strategy.state,
    value: snapshot.value,
    enteredAt: toMarketIso(context.enteredAt),
    timeInStateMs: Math.max(0, now - context.enteredAt),
    position: position ? { quantity: position.quantity, ...(position.expiry ? { expiry: position.expiry } : {}), ...(position.underlying ? { underlying: position.underlying } : {}) } : null,
    errorCount: context.errorCount,
    lastError: strategy.state === 'ERROR' && context.lastError ? { reason: context.lastError.reason, at: toMarketIso(context.lastError.at) } : null,
    deadline: context.deadline ? { kind: context.deadline.kind, at: toMarketIso(context.deadline.at) } : null,
    params: context.params,
  };
}
