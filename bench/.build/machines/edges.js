"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.BASE_EVENT_TYPES = exports.BASE_EDGES = void 0;
const states_js_1 = require("./states.js");
const ALL = states_js_1.STRATEGY_STATES;
const except = (...states) => ALL.filter((s) => !states.includes(s));
/** The base edges every variant shares, in the spec's order. */
exports.BASE_EDGES = [
    { from: ['INITIALIZING'], on: ['MARKET_OPEN'], to: 'READY', why: 'seed' },
    { from: ['READY'], on: ['TIME_WINDOW_START'], to: 'ANALYZING', why: 'seed' },
    { from: ['ANALYZING'], on: ['ENTRY_CONDITIONS_MET'], to: 'PENDING_ENTRY', guard: 'areEntryConditionsMet', why: 'seed (guarded by the variant\'s entry guards)' },
    { from: ['ANALYZING'], on: ['ENTRY_CONDITIONS_FAILED', 'TIME_WINDOW_END', 'MARKET_CLOSE'], to: 'READY', why: 'completes the flow' },
    { from: ['PENDING_ENTRY'], on: ['ORDER_SUBMITTED'], to: 'ENTERING', why: 'completes the flow' },
    { from: ['PENDING_ENTRY'], on: ['TIME_WINDOW_END', 'MARKET_CLOSE', 'ENTRY_CONDITIONS_FAILED'], to: 'READY', why: 'completes the flow' },
    { from: ['ENTERING'], on: ['ORDER_FILLED'], to: 'POSITION_OPEN', actions: ['applyEntryFill'], why: 'seed; records the position' },
    { from: ['ENTERING'], on: ['ORDER_REJECTED'], to: 'POSITION_OPEN', guard: 'hasOpenPosition', why: 'safety: earlier partial fills opened a position' },
    { from: ['ENTERING'], on: ['ORDER_REJECTED'], to: 'READY', why: 'no position was opened' },
    { from: ['ENTERING'], on: ['ORDER_PARTIALLY_FILLED'], to: 'ENTERING', actions: ['applyEntryFill'], reenter: true, why: 'position grows; the broker answered, so the stuck deadline restarts' },
    { from: ['POSITION_OPEN'], on: ['MARKET_OPEN'], to: 'MANAGING', why: 'seed' },
    { from: ['MANAGING'], on: ['DEFENSIVE_EXIT_DTE'], to: 'PENDING_EXIT', guard: 'isDteAtOrBelowDefensive', why: 'seed: the 21-DTE rule' },
    { from: ['MANAGING'], on: ['RISK_LIMIT_EXCEEDED', 'CORRELATION_LIMIT', 'VIX_SPIKE'], to: 'ADJUSTING', guard: 'canAdjust', why: 'the variant can adjust' },
    { from: ['MANAGING'], on: ['RISK_LIMIT_EXCEEDED', 'CORRELATION_LIMIT', 'VIX_SPIKE'], to: 'PENDING_EXIT', why: 'the variant cannot adjust: exit' },
    { from: ['MANAGING'], on: ['MARGIN_CALL'], to: 'PENDING_EXIT', why: 'safety' },
    { from: ['ADJUSTING'], on: ['ORDER_FILLED', 'ORDER_REJECTED'], to: 'MANAGING', actions: ['applyAdjustmentFill'], why: 'adjustment done or abandoned' },
    // The seed sends ANALYZING to EXITING; ANALYZING is always flat, so like PENDING_ENTRY it
    // goes to READY when nothing is held (see docs/lifecycle.md, "Refinements of the seed").
    { from: ['ANALYZING'], on: ['EMERGENCY_EXIT'], to: 'EXITING', guard: 'hasOpenPosition', why: 'seed' },
    { from: ['ANALYZING'], on: ['EMERGENCY_EXIT'], to: 'READY', why: 'safety: nothing to exit' },
    { from: ['MANAGING', 'ADJUSTING'], on: ['EMERGENCY_EXIT'], to: 'EXITING', why: 'seed' },
    { from: ['POSITION_OPEN', 'PENDING_EXIT', 'PARTIAL_EXIT'], on: ['EMERGENCY_EXIT'], to: 'EXITING', why: 'safety: every state that holds a position can be flattened' },
    { from: ['SUSPENDED'], on: ['EMERGENCY_EXIT'], to: 'EXITING', guard: 'hasOpenPosition', why: 'safety: a suspended position can be flattened' },
    { from: ['PENDING_ENTRY'], on: ['EMERGENCY_EXIT'], to: 'READY', why: 'safety: nothing filled' },
    { from: ['ENTERING'], on: ['EMERGENCY_EXIT'], to: 'EXITING', guard: 'hasOpenPosition', why: 'safety: something filled' },
    { from: ['ENTERING'], on: ['EMERGENCY_EXIT'], to: 'READY', why: 'safety: nothing filled' },
    { from: ['PENDING_EXIT'], on: ['ORDER_SUBMITTED'], to: 'EXITING', why: 'completes the flow' },
    { from: ['EXITING', 'PARTIAL_EXIT'], on: ['ORDER_FILLED'], to: 'CLOSED', guard: 'isExitFillComplete', actions: ['applyExitFill'], why: 'the position becomes flat' },
    { from: ['EXITING', 'PARTIAL_EXIT'], on: ['ORDER_FILLED', 'ORDER_PARTIALLY_FILLED'], to: 'PARTIAL_EXIT', guard: 'isExitFillPartial', actions: ['applyExitFill'], reenter: true, why: 'remaining quantity shrinks' },
    { from: ['EXITING', 'PARTIAL_EXIT'], on: ['ORDER_REJECTED'], to: 'PENDING_EXIT', why: 'retry the exit' },
    { from: ['READY', 'ANALYZING', 'PENDING_ENTRY'], on: ['EARNINGS_APPROACHING', 'FOMC_MEETING', 'VIX_SPIKE'], to: 'SUSPENDED', why: 'the seed\'s system-wide suspension' },
    { from: ['SUSPENDED'], on: ['RESUME'], to: 'MANAGING', guard: 'hasOpenPosition', why: 'resume with a position' },
    { from: ['SUSPENDED'], on: ['RESUME'], to: 'READY', why: 'resume flat' },
    { from: ['CLOSED'], on: ['MARKET_OPEN', 'TIME_WINDOW_START'], to: 'READY', why: 'next cycle' },
    { from: ['READY', 'CLOSED'], on: ['TERMINATE'], to: 'TERMINATED', why: 'end of life' },
    { from: ['SUSPENDED'], on: ['TERMINATE'], to: 'TERMINATED', guard: 'isFlat', why: 'a strategy with a position cannot be terminated: exit first' },
    { from: except('ERROR', 'TERMINATED'), on: ['SYSTEM_ERROR'], to: 'ERROR', why: 'seed' },
    { from: ['ERROR'], on: ['lifecycle.deadline'], to: 'MANAGING', guard: ['isRecoveryDeadline', 'hasOpenPosition'], actions: ['countAutoRecovery'], why: 'seed\'s auto-recovery, made position-safe' },
    { from: ['ERROR'], on: ['lifecycle.deadline'], to: 'READY', guard: 'isRecoveryDeadline', actions: ['countAutoRecovery'], why: 'seed\'s auto-recovery' },
    { from: ['ERROR'], on: ['RESET'], to: 'MANAGING', guard: 'hasOpenPosition', why: 'operator reset with a position' },
    { from: ['ERROR'], on: ['RESET'], to: 'READY', why: 'operator reset' },
    { from: states_js_1.STUCK_STATES, on: ['lifecycle.deadline'], to: 'ERROR', guard: 'isStuckDeadline', why: 'stuck-state deadline: no answer from the broker' },
    ...ALL.map((target) => ({
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
exports.BASE_EVENT_TYPES = [
    ...new Set(exports.BASE_EDGES.flatMap((row) => row.on).filter((t) => !t.startsWith('lifecycle.'))),
];
//# sourceMappingURL=edges.js.map