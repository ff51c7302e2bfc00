"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.payloadOf = payloadOf;
exports.appendRecord = appendRecord;
exports.noEdgeRecord = noEdgeRecord;
const types_js_1 = require("../guards/types.js");
const time_js_1 = require("../services/time.js");
const NOT_PAYLOAD = new Set(['type', 'at', 'eventId']);
/** The event's payload as the audit keeps it: every field but `type`, `at` and `eventId`. */
function payloadOf(event) {
    const data = {};
    for (const key in event) {
        if (!NOT_PAYLOAD.has(key))
            data[key] = event[key];
    }
    return data;
}
/**
 * Appends one audit record: the context update that writes `lastRecord`, the statistics and
 * the applied event ids. Constant work per record, whatever the length of the trail.
 */
function appendRecord(context, event, spec, eventIdWindow) {
    const at = (0, types_js_1.eventTime)(event);
    const record = {
        seq: (context.lastRecord?.seq ?? 0) + 1,
        timestamp: (0, time_js_1.toMarketIso)(at),
        at,
        previousState: spec.from,
        currentState: spec.to,
        trigger: spec.trigger ?? event.type,
        data: spec.data ?? payloadOf(event),
        message: spec.message,
        accepted: spec.accepted,
    };
    if (spec.reason !== undefined)
        record.reason = spec.reason;
    if (spec.code !== undefined)
        record.code = spec.code;
    if (event.eventId !== undefined)
        record.eventId = event.eventId;
    if (spec.reentered === true && spec.to === spec.from)
        record.reentered = true;
    const update = { lastRecord: record };
    const stats = context.stats;
    const moved = spec.to !== spec.from || spec.reentered === true;
    update.stats = {
        transitions: stats.transitions + (spec.accepted ? 1 : 0),
        rejected: stats.rejected + (spec.accepted ? 0 : 1),
        timeInState: moved
            ? { ...stats.timeInState, [spec.from]: (stats.timeInState[spec.from] ?? 0) + Math.max(0, at - context.enteredAt) }
            : stats.timeInState,
    };
    // A clock that jumps backwards never yields a negative duration: the interval restarts at the later time.
    if (moved)
        update.enteredAt = Math.max(at, context.enteredAt);
    if (spec.accepted && event.eventId !== undefined) {
        const ids = context.recentEventIds.length >= eventIdWindow ? context.recentEventIds.slice(1 - eventIdWindow) : context.recentEventIds.slice();
        ids.push(event.eventId);
        update.recentEventIds = ids;
    }
    return update;
}
/** The rejection record of an event that no edge of `state` takes. */
function noEdgeRecord(state, event) {
    if (event.type === 'lifecycle.rejected') {
        return {
            from: state,
            to: state,
            accepted: false,
            trigger: event.trigger,
            data: event.data ?? {},
            reason: event.reason,
            code: event.code,
            message: `rejected ${event.trigger} in ${state}`,
        };
    }
    return {
        from: state,
        to: state,
        accepted: false,
        reason: `${state} has no edge for ${event.type}`,
        code: 'NO_EDGE',
        message: `rejected ${event.type} in ${state}`,
    };
}
//# sourceMappingURL=audit.js.map