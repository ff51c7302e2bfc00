/**
 * The shape of a variant's extra edges (`extraEdges`): rows of (states, events) -> target that
 * `createStrategyMachine` adds before the lifecycle's own edges (written out in
 * `machines/lifecycle.ts`), so for one (state, event) the first row whose guard passes wins.
 */
import type { MachineEvent } from './events.js';
import type { StrategyState } from './states.js';

/** Any event type the machine handles: public or internal. */
export type EdgeEventType = MachineEvent['type'];

/** A guard reference: a guard name, all of several names, or a parameterised guard. */
export type GuardRef = string | readonly string[] | { type: string; params: Record<string, unknown> };

/** A named action run on the edge, before the audit record is written. */
export type EdgeAction = 'applyEntryFill' | 'applyExitFill' | 'applyAdjustmentFill';

/** One row of the edge table. */
export interface EdgeRow {
  from: readonly StrategyState[];
  on: readonly EdgeEventType[];
  /** Target state; `null` keeps the state (the trigger is recorded, nothing moves). */
  to: StrategyState | null;
  guard?: GuardRef;
  actions?: readonly EdgeAction[];
  /** Leave and re-enter the state even when `to` equals `from` (re-arms its deadline). */
  reenter?: boolean;
  /** How the audit records it: an accepted transition (default) or a failed hook. */
  record?: 'transition' | 'hookFailure';
  /**
   * Why the edge exists, in the trader's words; the audit record's message ends with it (an edge
   * into ERROR says instead why, and when it recovers, as SYSTEM_ERROR does).
   */
  why: string;
}
