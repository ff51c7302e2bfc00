import type { StrategyState } from '../machines/states.js';

/** The colour family of a state: the diagram and the dashboard colour states by it. */
export type StateFamily = 'idle' | 'entry' | 'position' | 'exit' | 'closed' | 'error' | 'suspended';

/**
 * The family of each of the 15 states. Its own file, free of Node and layout code, so the
 * dashboard's browser bundle can import it as well as the SVG diagram.
 *
 * @example
 * ```ts
 * STATE_FAMILIES.MANAGING; // 'position'
 * ```
 */
export const STATE_FAMILIES: Readonly<Record<StrategyState, StateFamily>> = {
  INITIALIZING: 'idle',
  READY: 'idle',
  ANALYZING: 'entry',
  PENDING_ENTRY: 'entry',
  ENTERING: 'entry',
  POSITION_OPEN: 'position',
  MANAGING: 'position',
  ADJUSTING: 'position',
  PENDING_EXIT: 'exit',
  EXITING: 'exit',
  PARTIAL_EXIT: 'exit',
  CLOSED: 'closed',
  ERROR: 'error',
  SUSPENDED: 'suspended',
  TERMINATED: 'closed',
};
