"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.errorReason = errorReason;
exports.enterError = enterError;
exports.errorMessage = errorMessage;
exports.countError = countError;
exports.countAutoRecovery = countAutoRecovery;
exports.armStuckDeadline = armStuckDeadline;
const types_js_1 = require("../guards/types.js");
const time_js_1 = require("../services/time.js");
/** Why the strategy is entering ERROR, in the words the audit and the summary show. */
function errorReason(context, event, from) {
    switch (event.type) {
        case 'SYSTEM_ERROR':
            return event.reason ?? 'system error';
        case 'lifecycle.hookFailed':
            return `hook ${event.hook} threw: ${event.message}`;
        case 'lifecycle.deadline':
            return `stuck in ${from} for ${(0, time_js_1.formatDuration)(event.dueAt - context.enteredAt)}`;
        case 'MANUAL_OVERRIDE':
            return `manual override by ${event.operator}: ${event.reason}`;
        default:
            return `${event.type} in ${from}`;
    }
}
/**
 * Entering ERROR: remember why, and arm the durable recovery deadline unless the circuit
 * breaker is open (`maxAutoRecoveries` already used on this New York trading day).
 */
function enterError(context, event, from, def) {
    const at = (0, types_js_1.eventTime)(event);
    const reason = errorReason(context, event, from);
    const today = (0, time_js_1.marketDate)(at);
    const used = context.autoRecoveries.day === today ? context.autoRecoveries.count : 0;
    // A SYSTEM_ERROR with `hold` (a position mismatch, say) waits for an operator: no auto-recovery.
    const held = (event.type === 'SYSTEM_ERROR' || event.type === 'MANUAL_OVERRIDE') && event.hold === true;
    const circuitOpen = used >= def.maxAutoRecoveries;
    return {
        lastError: { reason, at },
        deadline: circuitOpen || held ? null : { kind: 'ERROR_RECOVERY', state: 'ERROR', at: at + def.errorRecoveryMs },
    };
}
/** The message of a record that enters ERROR: the reason and what happens next. */
function errorMessage(context, event, from, def) {
    const reason = context.lastError?.reason ?? 'unknown error';
    if (context.deadline?.kind === 'ERROR_RECOVERY') {
        return `${from} -> ERROR: ${reason}; auto-recovery at ${(0, time_js_1.toMarketIso)(context.deadline.at)}`;
    }
    if ((event.type === 'SYSTEM_ERROR' || event.type === 'MANUAL_OVERRIDE') && event.hold === true)
        return `${from} -> ERROR: ${reason}; held for an operator: RESET or MANUAL_OVERRIDE`;
    return `${from} -> ERROR: ${reason}; circuit breaker open (${def.maxAutoRecoveries} auto-recoveries today): waiting for RESET or MANUAL_OVERRIDE`;
}
/** A failed hook counts one error; the count never passes `maxErrors`. */
function countError(context, event, maxErrors) {
    const reason = event.type === 'lifecycle.hookFailed' ? `hook ${event.hook} threw: ${event.message}` : `${event.type} failed`;
    return { errorCount: Math.min(context.errorCount + 1, maxErrors), lastError: { reason, at: (0, types_js_1.eventTime)(event) } };
}
/** One more auto-recovery on the event's New York trading day, for the circuit breaker. */
function countAutoRecovery(context, event) {
    const day = (0, time_js_1.marketDate)((0, types_js_1.eventTime)(event));
    const count = context.autoRecoveries.day === day ? context.autoRecoveries.count + 1 : 1;
    return { autoRecoveries: { day, count } };
}
/** Arms the stuck-state deadline of a state that waits on a broker. */
function armStuckDeadline(event, state, def) {
    return { deadline: { kind: 'STUCK', state, at: (0, types_js_1.eventTime)(event) + def.stuckDeadlinesMs[state] } };
}
//# sourceMappingURL=errors.js.map