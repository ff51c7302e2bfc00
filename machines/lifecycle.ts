/**
 * THE lifecycle every strategy shares, written out as an XState config (its edges are listed in
 * docs/lifecycle.md). States are in lifecycle order, each with its own `on`, `after` and
 * `tags`; guards, actions and delays are referenced by name and implemented in
 * `createStrategyMachine`'s `setup()`, so `machine.provide()` can replace any of them. Events that
 * mean the same thing in many states (SYSTEM_ERROR, MANUAL_OVERRIDE, EMERGENCY_EXIT, a failed
 * hook, a rejection) are declared once, on the root. `{}` is XState's forbidden transition: the
 * state refuses the event instead of letting it reach the root's handler.
 *
 * Variants add edges (`extraEdges`, tried first) and substates; they never copy this config.
 */
import { and } from 'xstate';
import { invokeActor } from './actors.js';
import { STRATEGY_STATES, type StrategyState } from './states.js';

/** Params of the `recordTransition` action: what the audit record of an edge says. */
export interface RecordParams {
  /** The state the edge leads to (the state it leaves is the one the last record ended in). */
  to: StrategyState;
  /** Why the edge exists, in the trader's words; the record's message ends with it. */
  why: string;
  /** The record's message when it is not `FROM -> TO (why)` (substate edges). */
  message?: string;
  /** The edge stays in its state (targetless or a substate edge): nothing is left or re-entered. */
  stays?: true;
}

/** The audit action of an edge that leads to `to`. */
export const record = (to: StrategyState, why: string, extra: Pick<RecordParams, 'message' | 'stays'> = {}) =>
  ({ type: 'recordTransition', params: { to, why, ...extra } }) as const;

/** Facts about states that code asks with `snapshot.hasTag(...)` instead of keeping state lists. */
export const STATE_TAGS = {
  /** A state a strategy may be in while holding a position (MANUAL_OVERRIDE's legality). */
  holdsPosition: 'holdsPosition',
  /** A state a flat strategy may be in. */
  flat: 'flat',
  /** Waits on a broker: a stuck-state deadline runs. */
  stuck: 'stuck',
  /** An exit order is working: wait for the broker's answer. */
  exiting: 'exiting',
  /** An entry order may be working: a fill can still open a position (the kill switch waits for the broker's answer). */
  entering: 'entering',
  /** EMERGENCY_EXIT starts an exit from here when a position is held. */
  exitable: 'exitable',
  /** May be moved to SUSPENDED by a system-wide suspension. */
  suspendable: 'suspendable',
  /** Holds a portfolio slot whatever the position (from PENDING_ENTRY until flat again). */
  takesSlot: 'takesSlot',
  /** Reaching it returns the portfolio slot. */
  releasesSlot: 'releasesSlot',
  /** No way out. */
  terminal: 'terminal',
} as const;

const MANUAL_OVERRIDE_WHY = 'operator action; the target must be legal for the position';

/** The base config; `createStrategyMachine` adds the variant's edges and substates. */
export const lifecycleConfig = {
  initial: 'INITIALIZING',
  on: {
    SYSTEM_ERROR: { target: '.ERROR', actions: ['enterError', record('ERROR', 'system error: held for recovery')] },
    EMERGENCY_EXIT: {
      guard: 'hasOpenPosition',
      target: '.EXITING',
      actions: record('EXITING', 'safety: every state that holds a position can be flattened'),
    },
    // One edge per target: the guard checks that the event names it and that it is legal for the position.
    MANUAL_OVERRIDE: STRATEGY_STATES.map((target) => ({
      guard: { type: 'isOverrideTargetLegal', params: { target } },
      target: `.${target}`,
      actions: target === 'ERROR' ? ['enterError', record(target, MANUAL_OVERRIDE_WHY)] : [record(target, MANUAL_OVERRIDE_WHY)],
    })),
    'lifecycle.hookFailed': [
      {
        guard: 'isErrorLimitReached',
        target: '.ERROR',
        actions: ['countError', 'enterError', { type: 'recordHookFailure', params: { forced: true } }],
      },
      { actions: ['countError', 'recordHookFailure'] },
    ],
    // What the runtime refused (no edge, failed guard, invalid, duplicate, gated): audited, nothing moves.
    'lifecycle.rejected': { actions: 'recordRejection' },
    // An invoked actor's report: announced for the runtime to trigger like any caller; nothing moves here.
    'lifecycle.request': { actions: 'emitRequest' },
  },
  states: {
    INITIALIZING: {
      tags: ['flat', 'releasesSlot'],
      on: {
        MARKET_OPEN: { target: 'READY', actions: record('READY', 'market open: ready to trade') },
        EMERGENCY_EXIT: {},
      },
    },
    READY: {
      tags: ['flat', 'suspendable', 'releasesSlot'],
      on: {
        TIME_WINDOW_START: { target: 'ANALYZING', actions: record('ANALYZING', 'entry window open: looking for an entry') },
        EARNINGS_APPROACHING: { target: 'SUSPENDED', actions: record('SUSPENDED', 'suspended: market event ahead, no new entries') },
        FOMC_MEETING: { target: 'SUSPENDED', actions: record('SUSPENDED', 'suspended: market event ahead, no new entries') },
        VIX_SPIKE: { target: 'SUSPENDED', actions: record('SUSPENDED', 'suspended: market event ahead, no new entries') },
        TERMINATE: { target: 'TERMINATED', actions: record('TERMINATED', 'end of life') },
        EMERGENCY_EXIT: {},
      },
    },
    ANALYZING: {
      tags: ['flat', 'suspendable', 'releasesSlot'],
      invoke: invokeActor('entryAnalyzer', 'ANALYZING'),
      on: {
        ENTRY_CONDITIONS_MET: {
          guard: 'areEntryConditionsMet',
          target: 'PENDING_ENTRY',
          actions: record('PENDING_ENTRY', "entry conditions pass the variant's rules: place the entry order"),
        },
        ENTRY_CONDITIONS_FAILED: { target: 'READY', actions: record('READY', 'no entry this time: wait for the next window') },
        TIME_WINDOW_END: { target: 'READY', actions: record('READY', 'no entry this time: wait for the next window') },
        MARKET_CLOSE: { target: 'READY', actions: record('READY', 'no entry this time: wait for the next window') },
        // The seed sends ANALYZING to EXITING; ANALYZING is flat, so like PENDING_ENTRY it goes to
        // READY (see docs/lifecycle.md, "Refinements of the seed"); a position would reach the root.
        EMERGENCY_EXIT: { guard: 'isFlat', target: 'READY', actions: record('READY', 'safety: nothing to exit') },
        EARNINGS_APPROACHING: { target: 'SUSPENDED', actions: record('SUSPENDED', 'suspended: market event ahead, no new entries') },
        FOMC_MEETING: { target: 'SUSPENDED', actions: record('SUSPENDED', 'suspended: market event ahead, no new entries') },
        VIX_SPIKE: { target: 'SUSPENDED', actions: record('SUSPENDED', 'suspended: market event ahead, no new entries') },
      },
    },
    PENDING_ENTRY: {
      tags: ['flat', 'suspendable', 'stuck', 'entering', 'takesSlot'],
      // Every stuck state arms its deadline on entry; the audit record that leaves it ends it.
      entry: { type: 'armStuckDeadline', params: { state: 'PENDING_ENTRY' } },
      after: {
        stuckPendingEntry: { target: 'ERROR', actions: ['enterError', record('ERROR', 'stuck-state deadline: no answer from the broker')] },
      },
      on: {
        ORDER_SUBMITTED: { target: 'ENTERING', actions: record('ENTERING', 'entry order working at the broker') },
        TIME_WINDOW_END: { target: 'READY', actions: record('READY', 'entry abandoned before the order was placed') },
        MARKET_CLOSE: { target: 'READY', actions: record('READY', 'entry abandoned before the order was placed') },
        ENTRY_CONDITIONS_FAILED: { target: 'READY', actions: record('READY', 'entry abandoned before the order was placed') },
        EMERGENCY_EXIT: { target: 'READY', actions: record('READY', 'safety: nothing filled') },
        EARNINGS_APPROACHING: { target: 'SUSPENDED', actions: record('SUSPENDED', 'suspended: market event ahead, no new entries') },
        FOMC_MEETING: { target: 'SUSPENDED', actions: record('SUSPENDED', 'suspended: market event ahead, no new entries') },
        VIX_SPIKE: { target: 'SUSPENDED', actions: record('SUSPENDED', 'suspended: market event ahead, no new entries') },
      },
    },
    ENTERING: {
      tags: ['flat', 'holdsPosition', 'stuck', 'entering', 'exitable', 'takesSlot'],
      entry: { type: 'armStuckDeadline', params: { state: 'ENTERING' } },
      after: {
        stuckEntering: { target: 'ERROR', actions: ['enterError', record('ERROR', 'stuck-state deadline: no answer from the broker')] },
      },
      on: {
        ORDER_FILLED: {
          target: 'POSITION_OPEN',
          actions: ['applyEntryFill', record('POSITION_OPEN', 'entry filled: the position is open')],
        },
        ORDER_REJECTED: [
          {
            guard: 'hasOpenPosition',
            target: 'POSITION_OPEN',
            actions: record('POSITION_OPEN', 'safety: earlier partial fills opened a position'),
          },
          { target: 'READY', actions: record('READY', 'no position was opened') },
        ],
        // The broker answered, so the stuck deadline restarts: leave and enter ENTERING again.
        ORDER_PARTIALLY_FILLED: {
          target: 'ENTERING',
          reenter: true,
          actions: ['applyEntryFill', record('ENTERING', 'position grows; the broker answered, so the stuck deadline restarts')],
        },
        // Flat: nothing to exit. Something filled: the root's EMERGENCY_EXIT flattens it.
        EMERGENCY_EXIT: { guard: 'isFlat', target: 'READY', actions: record('READY', 'safety: nothing filled') },
      },
    },
    POSITION_OPEN: {
      tags: ['holdsPosition', 'exitable', 'takesSlot'],
      on: {
        MARKET_OPEN: { target: 'MANAGING', actions: record('MANAGING', 'market open: managing the position') },
      },
    },
    MANAGING: {
      tags: ['holdsPosition', 'exitable', 'takesSlot'],
      invoke: invokeActor('positionMonitor', 'MANAGING'),
      on: {
        DEFENSIVE_EXIT_DTE: {
          guard: 'isDteAtOrBelowDefensive',
          target: 'PENDING_EXIT',
          actions: record('PENDING_EXIT', 'defensive exit: the position reached the DTE rule (21 DTE by default)'),
        },
        RISK_LIMIT_EXCEEDED: [
          { guard: 'canAdjust', target: 'ADJUSTING', actions: record('ADJUSTING', 'the variant can adjust') },
          { target: 'PENDING_EXIT', actions: record('PENDING_EXIT', 'the variant cannot adjust: exit') },
        ],
        CORRELATION_LIMIT: [
          { guard: 'canAdjust', target: 'ADJUSTING', actions: record('ADJUSTING', 'the variant can adjust') },
          { target: 'PENDING_EXIT', actions: record('PENDING_EXIT', 'the variant cannot adjust: exit') },
        ],
        VIX_SPIKE: [
          { guard: 'canAdjust', target: 'ADJUSTING', actions: record('ADJUSTING', 'the variant can adjust') },
          { target: 'PENDING_EXIT', actions: record('PENDING_EXIT', 'the variant cannot adjust: exit') },
        ],
        MARGIN_CALL: { target: 'PENDING_EXIT', actions: record('PENDING_EXIT', 'margin call: exit the position') },
      },
    },
    ADJUSTING: {
      tags: ['holdsPosition', 'exitable', 'takesSlot'],
      invoke: invokeActor('positionMonitor', 'ADJUSTING'),
      on: {
        ORDER_FILLED: { target: 'MANAGING', actions: ['applyAdjustmentFill', record('MANAGING', 'adjustment done or abandoned')] },
        ORDER_REJECTED: { target: 'MANAGING', actions: ['applyAdjustmentFill', record('MANAGING', 'adjustment done or abandoned')] },
      },
    },
    PENDING_EXIT: {
      tags: ['holdsPosition', 'stuck', 'exitable', 'takesSlot'],
      entry: { type: 'armStuckDeadline', params: { state: 'PENDING_EXIT' } },
      after: {
        stuckPendingExit: { target: 'ERROR', actions: ['enterError', record('ERROR', 'stuck-state deadline: no answer from the broker')] },
      },
      on: {
        ORDER_SUBMITTED: { target: 'EXITING', actions: record('EXITING', 'exit order working at the broker') },
      },
    },
    EXITING: {
      tags: ['holdsPosition', 'stuck', 'exiting', 'takesSlot'],
      entry: { type: 'armStuckDeadline', params: { state: 'EXITING' } },
      after: {
        stuckExiting: { target: 'ERROR', actions: ['enterError', record('ERROR', 'stuck-state deadline: no answer from the broker')] },
      },
      on: {
        ORDER_FILLED: [
          { guard: 'isExitFillComplete', target: 'CLOSED', actions: ['applyExitFill', record('CLOSED', 'the position becomes flat')] },
          {
            guard: 'isExitFillPartial',
            target: 'PARTIAL_EXIT',
            actions: ['applyExitFill', record('PARTIAL_EXIT', 'remaining quantity shrinks')],
          },
        ],
        ORDER_PARTIALLY_FILLED: {
          guard: 'isExitFillPartial',
          target: 'PARTIAL_EXIT',
          actions: ['applyExitFill', record('PARTIAL_EXIT', 'remaining quantity shrinks')],
        },
        ORDER_REJECTED: { target: 'PENDING_EXIT', actions: record('PENDING_EXIT', 'retry the exit') },
        // The exit is already working.
        EMERGENCY_EXIT: {},
      },
    },
    PARTIAL_EXIT: {
      tags: ['holdsPosition', 'stuck', 'exiting', 'takesSlot'],
      entry: { type: 'armStuckDeadline', params: { state: 'PARTIAL_EXIT' } },
      after: {
        stuckPartialExit: { target: 'ERROR', actions: ['enterError', record('ERROR', 'stuck-state deadline: no answer from the broker')] },
      },
      on: {
        ORDER_FILLED: [
          { guard: 'isExitFillComplete', target: 'CLOSED', actions: ['applyExitFill', record('CLOSED', 'the position becomes flat')] },
          {
            guard: 'isExitFillPartial',
            target: 'PARTIAL_EXIT',
            reenter: true,
            actions: ['applyExitFill', record('PARTIAL_EXIT', 'remaining quantity shrinks')],
          },
        ],
        ORDER_PARTIALLY_FILLED: {
          guard: 'isExitFillPartial',
          target: 'PARTIAL_EXIT',
          reenter: true,
          actions: ['applyExitFill', record('PARTIAL_EXIT', 'remaining quantity shrinks')],
        },
        ORDER_REJECTED: { target: 'PENDING_EXIT', actions: record('PENDING_EXIT', 'retry the exit') },
      },
    },
    CLOSED: {
      tags: ['flat', 'releasesSlot'],
      on: {
        MARKET_OPEN: { target: 'READY', actions: record('READY', 'next cycle') },
        TIME_WINDOW_START: { target: 'READY', actions: record('READY', 'next cycle') },
        TERMINATE: { target: 'TERMINATED', actions: record('TERMINATED', 'end of life') },
        EMERGENCY_EXIT: {},
      },
    },
    ERROR: {
      // Either: flat or holding. With a position, the root's EMERGENCY_EXIT flattens it.
      tags: ['flat', 'holdsPosition', 'exitable'],
      invoke: invokeActor('errorAlert', 'ERROR'),
      // Leaving ERROR by any route disarms recovery and clears the error count.
      exit: ['clearDeadline', 'resetErrors'],
      after: {
        errorRecovery: [
          {
            guard: and(['isRecoveryArmed', 'hasOpenPosition']),
            target: 'MANAGING',
            actions: ['countAutoRecovery', record('MANAGING', 'recovered after the error delay: back to managing the position')],
          },
          {
            guard: 'isRecoveryArmed',
            target: 'READY',
            actions: ['countAutoRecovery', record('READY', 'recovered after the error delay: ready to trade')],
          },
        ],
      },
      on: {
        RESET: [
          { guard: 'hasOpenPosition', target: 'MANAGING', actions: record('MANAGING', 'operator reset with a position') },
          { target: 'READY', actions: record('READY', 'operator reset') },
        ],
        SYSTEM_ERROR: {},
        // A failed hook counts here but forces nothing: the strategy is in ERROR already.
        'lifecycle.hookFailed': { actions: ['countError', 'recordHookFailure'] },
      },
    },
    SUSPENDED: {
      tags: ['flat', 'holdsPosition', 'exitable'],
      on: {
        RESUME: [
          { guard: 'hasOpenPosition', target: 'MANAGING', actions: record('MANAGING', 'resume with a position') },
          { target: 'READY', actions: record('READY', 'resume flat') },
        ],
        TERMINATE: {
          guard: 'isFlat',
          target: 'TERMINATED',
          actions: record('TERMINATED', 'a strategy with a position cannot be terminated: exit first'),
        },
      },
    },
    TERMINATED: {
      // Terminal by having no way out. Not an XState final state: a final root state stops the
      // actor, and events sent to it afterwards could not be audited.
      tags: ['flat', 'terminal', 'releasesSlot'],
      on: {
        SYSTEM_ERROR: {},
        MANUAL_OVERRIDE: {},
        EMERGENCY_EXIT: {},
        'lifecycle.hookFailed': { actions: ['countError', 'recordHookFailure'] },
      },
    },
  },
} as const;
