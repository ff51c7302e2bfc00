/**
 * THE edge table: every transition of every strategy comes from the rows below (spec:
 * shared/spec/LIFECYCLE.md). Variants add rows (`extraEdges`) and guards; they never copy or
 * edit these. `buildStrategyConfig` turns the rows into the XState config, in row order, so
 * for one (state, event) the first row whose guard passes wins.
 */
import type { MachineEvent, StrategyEventType } from './events.js';
import { STRATEGY_STATES, STUCK_STATES, type StrategyState } from './states.js';

/** Any event type the machine handles: public or internal. */
export type EdgeEventType = MachineEvent['type'];

/** A guard reference: a guard name, all of several names, or a parameterised guard. */
export type GuardRef = string | readonly string[] | { type: string; params: Record<string, unknown> };

/** A named action run on the edge, before the audit record is written. */
export type EdgeAction = 'applyEntryFill' | 'applyExitFill' | 'applyAdjustmentFill' | 'countError' | 'countAutoRecovery';

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
  /** Why the edge exists, in the trader's words; the audit record's message ends with it. */
  why: string;
}

const ALL = STRATEGY_STATES;
const except = (...states: StrategyState[]) => ALL.filter((s) => !states.includes(s));

/** The base edges every variant shares, in the spec's order. */
export const BASE_EDGES: readonly EdgeRow[] = [
  { from: ['INITIALIZING'], on: ['MARKET_OPEN'], to: 'READY', why: 'market open: ready to trade' },
  { from: ['READY'], on: ['TIME_WINDOW_START'], to: 'ANALYZING', why: 'entry window open: looking for an entry' },
  { from: ['ANALYZING'], on: ['ENTRY_CONDITIONS_MET'], to: 'PENDING_ENTRY', guard: 'areEntryConditionsMet', why: 'entry conditions pass the variant\'s rules: place the entry order' },
  { from: ['ANALYZING'], on: ['ENTRY_CONDITIONS_FAILED', 'TIME_WINDOW_END', 'MARKET_CLOSE'], to: 'READY', why: 'no entry this time: wait for the next window' },
  { from: ['PENDING_ENTRY'], on: ['ORDER_SUBMITTED'], to: 'ENTERING', why: 'entry order working at the broker' },
  { from: ['PENDING_ENTRY'], on: ['TIME_WINDOW_END', 'MARKET_CLOSE', 'ENTRY_CONDITIONS_FAILED'], to: 'READY', why: 'entry abandoned before the order was placed' },
  { from: ['ENTERING'], on: ['ORDER_FILLED'], to: 'POSITION_OPEN', actions: ['applyEntryFill'], why: 'entry filled: the position is open' },
  { from: ['ENTERING'], on: ['ORDER_REJECTED'], to: 'POSITION_OPEN', guard: 'hasOpenPosition', why: 'safety: earlier partial fills opened a position' },
  { from: ['ENTERING'], on: ['ORDER_REJECTED'], to: 'READY', why: 'no position was opened' },
  { from: ['ENTERING'], on: ['ORDER_PARTIALLY_FILLED'], to: 'ENTERING', actions: ['applyEntryFill'], reenter: true, why: 'position grows; the broker answered, so the stuck deadline restarts' },
  { from: ['POSITION_OPEN'], on: ['MARKET_OPEN'], to: 'MANAGING', why: 'market open: managing the position' },
  { from: ['MANAGING'], on: ['DEFENSIVE_EXIT_DTE'], to: 'PENDING_EXIT', guard: 'isDteAtOrBelowDefensive', why: 'defensive exit: the position reached the DTE rule (21 DTE by default)' },
  { from: ['MANAGING'], on: ['RISK_LIMIT_EXCEEDED', 'CORRELATION_LIMIT', 'VIX_SPIKE'], to: 'ADJUSTING', guard: 'canAdjust', why: 'the variant can adjust' },
  { from: ['MANAGING'], on: ['RISK_LIMIT_EXCEEDED', 'CORRELATION_LIMIT', 'VIX_SPIKE'], to: 'PENDING_EXIT', why: 'the variant cannot adjust: exit' },
  { from: ['MANAGING'], on: ['MARGIN_CALL'], to: 'PENDING_EXIT', why: 'margin call: exit the position' },
  { from: ['ADJUSTING'], on: ['ORDER_FILLED', 'ORDER_REJECTED'], to: 'MANAGING', actions: ['applyAdjustmentFill'], why: 'adjustment done or abandoned' },
  // The seed sends ANALYZING to EXITING; ANALYZING is always flat, so like PENDING_ENTRY it
  // goes to READY when nothing is held (see docs/lifecycle.md, "Refinements of the seed").
  { from: ['ANALYZING'], on: ['EMERGENCY_EXIT'], to: 'EXITING', guard: 'hasOpenPosition', why: 'emergency exit: flatten the position' },
  { from: ['ANALYZING'], on: ['EMERGENCY_EXIT'], to: 'READY', why: 'safety: nothing to exit' },
  { from: ['MANAGING', 'ADJUSTING'], on: ['EMERGENCY_EXIT'], to: 'EXITING', why: 'emergency exit: flatten the position' },
  { from: ['POSITION_OPEN', 'PENDING_EXIT', 'PARTIAL_EXIT'], on: ['EMERGENCY_EXIT'], to: 'EXITING', why: 'safety: every state that holds a position can be flattened' },
  { from: ['SUSPENDED'], on: ['EMERGENCY_EXIT'], to: 'EXITING', guard: 'hasOpenPosition', why: 'safety: a suspended position can be flattened' },
  { from: ['ERROR'], on: ['EMERGENCY_EXIT'], to: 'EXITING', guard: 'hasOpenPosition', why: 'safety: a position held in ERROR can be flattened' },
  { from: ['PENDING_ENTRY'], on: ['EMERGENCY_EXIT'], to: 'READY', why: 'safety: nothing filled' },
  { from: ['ENTERING'], on: ['EMERGENCY_EXIT'], to: 'EXITING', guard: 'hasOpenPosition', why: 'safety: something filled' },
  { from: ['ENTERING'], on: ['EMERGENCY_EXIT'], to: 'READY', why: 'safety: nothing filled' },
  { from: ['PENDING_EXIT'], on: ['ORDER_SUBMITTED'], to: 'EXITING', why: 'exit order working at the broker' },
  { from: ['EXITING', 'PARTIAL_EXIT'], on: ['ORDER_FILLED'], to: 'CLOSED', guard: 'isExitFillComplete', actions: ['applyExitFill'], why: 'the position becomes flat' },
  { from: ['EXITING', 'PARTIAL_EXIT'], on: ['ORDER_FILLED', 'ORDER_PARTIALLY_FILLED'], to: 'PARTIAL_EXIT', guard: 'isExitFillPartial', actions: ['applyExitFill'], reenter: true, why: 'remaining quantity shrinks' },
  { from: ['EXITING', 'PARTIAL_EXIT'], on: ['ORDER_REJECTED'], to: 'PENDING_EXIT', why: 'retry the exit' },
  { from: ['READY', 'ANALYZING', 'PENDING_ENTRY'], on: ['EARNINGS_APPROACHING', 'FOMC_MEETING', 'VIX_SPIKE'], to: 'SUSPENDED', why: 'suspended: market event ahead, no new entries' },
  { from: ['SUSPENDED'], on: ['RESUME'], to: 'MANAGING', guard: 'hasOpenPosition', why: 'resume with a position' },
  { from: ['SUSPENDED'], on: ['RESUME'], to: 'READY', why: 'resume flat' },
  { from: ['CLOSED'], on: ['MARKET_OPEN', 'TIME_WINDOW_START'], to: 'READY', why: 'next cycle' },
  { from: ['READY', 'CLOSED'], on: ['TERMINATE'], to: 'TERMINATED', why: 'end of life' },
  { from: ['SUSPENDED'], on: ['TERMINATE'], to: 'TERMINATED', guard: 'isFlat', why: 'a strategy with a position cannot be terminated: exit first' },
  { from: except('ERROR', 'TERMINATED'), on: ['SYSTEM_ERROR'], to: 'ERROR', why: 'system error: held for recovery' },
  { from: ['ERROR'], on: ['lifecycle.deadline'], to: 'MANAGING', guard: ['isRecoveryDeadline', 'hasOpenPosition'], actions: ['countAutoRecovery'], why: 'recovered after the error delay: back to managing the position' },
  { from: ['ERROR'], on: ['lifecycle.deadline'], to: 'READY', guard: 'isRecoveryDeadline', actions: ['countAutoRecovery'], why: 'recovered after the error delay: ready to trade' },
  { from: ['ERROR'], on: ['RESET'], to: 'MANAGING', guard: 'hasOpenPosition', why: 'operator reset with a position' },
  { from: ['ERROR'], on: ['RESET'], to: 'READY', why: 'operator reset' },
  { from: STUCK_STATES, on: ['lifecycle.deadline'], to: 'ERROR', guard: 'isStuckDeadline', why: 'stuck-state deadline: no answer from the broker' },
  ...ALL.map((target): EdgeRow => ({
    from: except('TERMINATED'),
    on: ['MANUAL_OVERRIDE'],
    to: target,
    guard: { type: 'isOverrideTargetLegal', params: { target } },
    reenter: true,
    why: 'operator action; the target must be legal for the position',
  })),
  { from: except('ERROR', 'TERMINATED'), on: ['lifecycle.hookFailed'], to: 'ERROR', guard: 'isErrorLimitReached', actions: ['countError'], record: 'hookFailure', why: 'maxErrors reached: forced into ERROR' },
  { from: ALL, on: ['lifecycle.hookFailed'], to: null, actions: ['countError'], record: 'hookFailure', why: 'a hook threw: the transition is aborted' },
];

/** The public event types the base table uses (every one of them appears). */
export const BASE_EVENT_TYPES: readonly StrategyEventType[] = [
  ...new Set(BASE_EDGES.flatMap((row) => row.on).filter((t): t is StrategyEventType => !t.startsWith('lifecycle.'))),
];
