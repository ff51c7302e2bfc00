"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.FLAT_STATES = exports.POSITION_STATES = exports.STUCK_STATES = exports.STRATEGY_STATES = void 0;
exports.isStrategyState = isStrategyState;
exports.topLevelState = topLevelState;
/**
 * The 15 lifecycle states of every strategy, in lifecycle order (spec: shared/spec/LIFECYCLE.md).
 * A variant may nest substates inside one of them, never add a top-level state.
 */
exports.STRATEGY_STATES = [
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
];
/** States that wait on a broker and therefore carry a stuck-state deadline. */
exports.STUCK_STATES = ['PENDING_ENTRY', 'ENTERING', 'PENDING_EXIT', 'EXITING', 'PARTIAL_EXIT'];
/**
 * States that may hold an open position. A strategy holding one is never in any other state
 * (READY, CLOSED and TERMINATED in particular), which MANUAL_OVERRIDE enforces too.
 */
exports.POSITION_STATES = [
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
exports.FLAT_STATES = [
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
function isStrategyState(value) {
    return typeof value === 'string' && exports.STRATEGY_STATES.includes(value);
}
/**
 * The top-level state of an XState state value: `'READY'` or `{ ADJUSTING: 'ROLLING' }` give
 * `'READY'` and `'ADJUSTING'`.
 */
function topLevelState(value) {
    return (typeof value === 'string' ? value : Object.keys(value)[0]);
}
//# sourceMappingURL=states.js.map