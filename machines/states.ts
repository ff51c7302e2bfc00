/**
 * The 15 lifecycle states of every strategy, in lifecycle order (see docs/lifecycle.md).
 * A variant may nest substates inside one of them, never add a top-level state.
 */
export const STRATEGY_STATES = [
  'INITIALIZING',
  'READY',
  'ANALYZING',
  'PENDING_ENTRY',
  'ENTERING',
  'POSITION_OPEN',
  'MANAGING',
  'ADJUSTING',
  'PENDING_EXIT',
  'EXITING',
  'PARTIAL_EXIT',
  'CLOSED',
  'ERROR',
  'SUSPENDED',
  'TERMINATED',
] as const;

/** One of the 15 top-level lifecycle states. */
export type StrategyState = (typeof STRATEGY_STATES)[number];

/** States that wait on a broker and therefore carry a stuck-state deadline. */
export const STUCK_STATES = ['PENDING_ENTRY', 'ENTERING', 'PENDING_EXIT', 'EXITING', 'PARTIAL_EXIT'] as const;

/** A state with a stuck-state deadline. */
export type StuckState = (typeof STUCK_STATES)[number];

/**
 * States that may hold an open position. A strategy holding one is never in any other state
 * (READY, CLOSED and TERMINATED in particular), which MANUAL_OVERRIDE enforces too.
 */
export const POSITION_STATES: readonly StrategyState[] = [
  'ENTERING',
  'POSITION_OPEN',
  'MANAGING',
  'ADJUSTING',
  'PENDING_EXIT',
  'EXITING',
  'PARTIAL_EXIT',
  'ERROR',
  'SUSPENDED',
];

/** States a flat strategy (no position) may be in. */
export const FLAT_STATES: readonly StrategyState[] = [
  'INITIALIZING',
  'READY',
  'ANALYZING',
  'PENDING_ENTRY',
  'ENTERING',
  'CLOSED',
  'ERROR',
  'SUSPENDED',
  'TERMINATED',
];

/** True when `value` names one of the 15 states. */
export function isStrategyState(value: unknown): value is StrategyState {
  return typeof value === 'string' && (STRATEGY_STATES as readonly string[]).includes(value);
}

/**
 * The top-level state of an XState state value: `'READY'` or `{ ADJUSTING: 'ROLLING' }` give
 * `'READY'` and `'ADJUSTING'`.
 */
export function topLevelState(value: string | Record<string, unknown>): StrategyState {
  return (typeof value === 'string' ? value : Object.keys(value)[0]) as StrategyState;
}

/** The top-level state a strategy is in, read from its context: the one its last audit record ended in. */
export function stateOf(context: { lastRecord?: { currentState: StrategyState } | null }): StrategyState {
  return context.lastRecord?.currentState ?? 'INITIALIZING';
}
