"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.isStuckDeadline = exports.isRecoveryDeadline = void 0;
exports.isErrorLimitReached = isErrorLimitReached;
/** Passes when one more error reaches the strategy's `maxErrors`. */
function isErrorLimitReached(maxErrors) {
    return (context) => context.errorCount + 1 >= maxErrors ? null : `error ${context.errorCount + 1} of ${maxErrors}`;
}
/** Passes for the durable deadline of the ERROR state (auto-recovery). */
const isRecoveryDeadline = (context, event) => event.type === 'lifecycle.deadline' && event.kind === 'ERROR_RECOVERY' && context.deadline?.kind === 'ERROR_RECOVERY'
    ? null
    : 'no auto-recovery deadline is armed';
exports.isRecoveryDeadline = isRecoveryDeadline;
/** Passes for the durable deadline of a state waiting on a broker. */
const isStuckDeadline = (context, event) => event.type === 'lifecycle.deadline' && event.kind === 'STUCK' && context.deadline?.kind === 'STUCK'
    ? null
    : 'no stuck-state deadline is armed';
exports.isStuckDeadline = isStuckDeadline;
//# sourceMappingURL=errors.js.map