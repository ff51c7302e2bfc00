import type { StrategySnapshot } from '../../machines/createStrategyMachine.js';
import { STRATEGY_STATES, topLevelState, type StrategyState } from '../../machines/states.js';
import type { StrategyContext } from '../../machines/types.js';
import type { StrategyActor } from './strategyActor.js';

/** The seed's statistics of one strategy, all durations in milliseconds of its clock. */
export interface StrategyStatistics {
  strategyId: string;
  currentState: StrategyState;
  timeInCurrentStateMs: number;
  /** Accepted triggers. */
  totalTransitions: number;
  rejectedTriggers: number;
  errorCount: number;
  /** Total time in each of the 15 states, the current stay included. Sums to the strategy's age. */
  timeInStateMs: Record<StrategyState, number>;
  /** Contracts open (0 when flat). */
  openQuantity: number;
}

/** What the statistics read of a snapshot: a full one, or a strategy's committed state (`CommittedStrategy.snapshot`). */
type SnapshotLike = Pick<StrategySnapshot, 'value' | 'context'>;

function isActor(value: StrategyActor | SnapshotLike): value is StrategyActor {
  return typeof (value as StrategyActor).trigger === 'function';
}

/**
 * Statistics of a strategy from its actor (time read from the actor's clock) or from a snapshot,
 * its value and context being enough (time `now`, default the snapshot's last record). Constant work: the totals are kept as it runs.
 *
 * @example
 * ```ts
 * const stats = getStatistics(strategy);
 * console.log(stats.currentState, stats.timeInStateMs.MANAGING);
 * ```
 */
export function getStatistics(source: StrategyActor | SnapshotLike, now?: number): StrategyStatistics {
  const snapshot = isActor(source) ? source.getSnapshot() : source;
  const context: StrategyContext = snapshot.context;
  const at = now ?? (isActor(source) ? source.clock.now() : (context.lastRecord?.at ?? context.enteredAt));
  const currentState = topLevelState(snapshot.value);
  const current = Math.max(0, at - context.enteredAt);
  const timeInStateMs = {} as Record<StrategyState, number>;
  for (const state of STRATEGY_STATES) timeInStateMs[state] = context.stats.timeInState[state] ?? 0;
  timeInStateMs[currentState] += current;
  return {
    strategyId: context.strategyId,
    currentState,
    timeInCurrentStateMs: current,
    totalTransitions: context.stats.transitions,
    rejectedTriggers: context.stats.rejected,
    errorCount: context.errorCount,
    timeInStateMs,
    openQuantity: context.position?.quantity ?? 0,
  };
}
