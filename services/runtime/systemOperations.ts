import type { StrategyEvent } from '../../machines/events.js';
import type { StrategyState } from '../../machines/states.js';
import { hasStateTag, statesTagged } from '../../machines/tags.js';
import type { StrategyActor, TriggerResult } from './strategyActor.js';

/** Which strategies a system-wide operation moved and which it left alone, with why. */
export interface SystemOperationResult {
  changed: Array<{ strategyId: string; to: StrategyState }>;
  skipped: Array<{ strategyId: string; state: StrategyState; reason: string }>;
}

/**
 * Whether a broadcast reaches `strategy`: EARNINGS_APPROACHING with a `symbol` concerns only the
 * strategies whose `params.underlying` is that symbol; every other event concerns all.
 */
export function isConcernedBy(event: StrategyEvent, strategy: StrategyActor): boolean {
  if (event?.type !== 'EARNINGS_APPROACHING' || typeof event.symbol !== 'string') return true;
  return String(strategy.getSnapshot().context.params.underlying ?? '').toUpperCase() === event.symbol.toUpperCase();
}

/**
 * What `suspendAll` does to a strategy in `state`: the event to send, or why it is skipped. The
 * states it may be suspended from are the ones tagged `suspendable` in the lifecycle.
 */
export function suspensionOf(state: StrategyState, reason: string): { event: StrategyEvent } | { skip: string } {
  if (!hasStateTag(state, 'suspendable')) return { skip: `${state} cannot be suspended (only ${statesTagged('suspendable').join(', ')})` };
  return { event: { type: 'MANUAL_OVERRIDE', target: 'SUSPENDED', reason: `system-wide suspension: ${reason}`, operator: 'system' } };
}

/** What `resumeAll` does to a strategy in `state`: RESUME when suspended, nothing otherwise. */
export function resumptionOf(state: StrategyState): StrategyEvent | null {
  return state === 'SUSPENDED' ? { type: 'RESUME' } : null;
}

/** Adds one strategy's outcome to a system-wide operation's result. */
export function recordOutcome(result: SystemOperationResult, strategyId: string, state: StrategyState, outcome: TriggerResult): void {
  if (outcome.accepted) result.changed.push({ strategyId, to: outcome.to });
  else result.skipped.push({ strategyId, state, reason: outcome.reason ?? 'rejected' });
}
