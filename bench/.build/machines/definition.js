"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.ALL_STATES = exports.BASE_GUARD_NAMES = exports.DEFAULT_STUCK_DEADLINES_MS = void 0;
exports.resolveDefinition = resolveDefinition;
const errors_js_1 = require("./errors.js");
const events_js_1 = require("./events.js");
const states_js_1 = require("./states.js");
const MINUTE = 60_000;
/** Default stuck-state deadlines from the spec. */
exports.DEFAULT_STUCK_DEADLINES_MS = {
    PENDING_ENTRY: 5 * MINUTE,
    ENTERING: 5 * MINUTE,
    PENDING_EXIT: 10 * MINUTE,
    EXITING: 10 * MINUTE,
    PARTIAL_EXIT: 10 * MINUTE,
};
/** Guard names the lifecycle itself defines; an entry guard may not reuse one. */
exports.BASE_GUARD_NAMES = [
    'hasOpenPosition', 'isFlat', 'isExitFillComplete', 'isExitFillPartial', 'isRecoveryDeadline', 'isStuckDeadline',
    'isOverrideTargetLegal', 'canAdjust', 'isDteAtOrBelowDefensive', 'isErrorLimitReached', 'areEntryConditionsMet',
];
const RESERVED_EVENTS = ['MANUAL_OVERRIDE', 'SYSTEM_ERROR', 'lifecycle.deadline', 'lifecycle.hookFailed', 'lifecycle.rejected'];
function guardRefNames(ref) {
    if (ref === undefined)
        return [];
    if (typeof ref === 'string')
        return [ref];
    if (Array.isArray(ref))
        return ref.flatMap((r) => guardRefNames(r));
    return [ref.type];
}
/** Fills defaults and checks a definition; throws {@link InvalidDefinitionError} naming the setting. */
function resolveDefinition(def) {
    const id = typeof def?.id === 'string' ? def.id : '';
    const fail = (field, problem) => {
        throw new errors_js_1.InvalidDefinitionError(id || '(no id)', field, problem);
    };
    if (!/^[A-Za-z][\w-]*$/.test(id))
        fail('id', 'must start with a letter and hold only letters, digits, _ or -');
    if (typeof def.name !== 'string' || def.name.trim() === '')
        fail('name', 'must be a non-empty string');
    const positiveInt = (field, value, fallback) => {
        const v = value ?? fallback;
        if (!Number.isInteger(v) || v < 1)
            fail(field, `must be a positive integer, got ${String(v)}`);
        return v;
    };
    const defensiveDte = def.defensiveDte === undefined ? 21 : def.defensiveDte;
    if (defensiveDte !== null && (!Number.isInteger(defensiveDte) || defensiveDte < 0)) {
        fail('defensiveDte', `must be a whole number of days >= 0 or null, got ${String(defensiveDte)}`);
    }
    const stuckDeadlinesMs = { ...exports.DEFAULT_STUCK_DEADLINES_MS, ...def.stuckDeadlinesMs };
    for (const state of Object.keys(stuckDeadlinesMs)) {
        if (!states_js_1.STUCK_STATES.includes(state))
            fail(`stuckDeadlinesMs.${state}`, 'is not a state that waits on a broker');
        positiveInt(`stuckDeadlinesMs.${state}`, stuckDeadlinesMs[state], 1);
    }
    const entryGuards = def.entryGuards ?? [];
    const names = new Set();
    for (const guard of entryGuards) {
        if (!guard || typeof guard.name !== 'string' || typeof guard.check !== 'function')
            fail('entryGuards', 'must be EntryGuard objects with a name and a check');
        if (names.has(guard.name))
            fail('entryGuards', `name "${guard.name}" is used twice`);
        if (exports.BASE_GUARD_NAMES.includes(guard.name))
            fail('entryGuards', `name "${guard.name}" is a lifecycle guard: choose another name`);
        names.add(guard.name);
    }
    for (const [i, row] of (def.extraEdges ?? []).entries()) {
        for (const s of row.from)
            if (!(0, states_js_1.isStrategyState)(s))
                fail(`extraEdges[${i}].from`, `"${String(s)}" is not a lifecycle state`);
        if (row.to !== null && !(0, states_js_1.isStrategyState)(row.to))
            fail(`extraEdges[${i}].to`, `"${String(row.to)}" is not a lifecycle state`);
        for (const name of guardRefNames(row.guard)) {
            if (!exports.BASE_GUARD_NAMES.includes(name) && !names.has(name))
                fail(`extraEdges[${i}].guard`, `"${name}" is neither a lifecycle guard nor one of this definition's entry guards`);
        }
        for (const e of row.on) {
            if (!events_js_1.STRATEGY_EVENT_TYPES.includes(e))
                fail(`extraEdges[${i}].on`, `"${String(e)}" is not an event type`);
            if (RESERVED_EVENTS.includes(e))
                fail(`extraEdges[${i}].on`, `${e} edges are fixed by the lifecycle and cannot be extended`);
        }
    }
    for (const [state, sub] of Object.entries(def.substates ?? {})) {
        if (!(0, states_js_1.isStrategyState)(state))
            fail(`substates.${state}`, 'is not a lifecycle state');
        if (!sub || !sub.states.includes(sub.initial))
            fail(`substates.${state}.initial`, 'must be one of its states');
        for (const edge of sub.edges) {
            if (!sub.states.includes(edge.from) || !sub.states.includes(edge.to))
                fail(`substates.${state}.edges`, `${edge.from} -> ${edge.to} names a substate that does not exist`);
        }
    }
    return {
        id,
        name: def.name,
        description: def.description ?? '',
        entryGuards,
        defensiveDte,
        maxErrors: positiveInt('maxErrors', def.maxErrors, 3),
        errorRecoveryMs: positiveInt('errorRecoveryMs', def.errorRecoveryMs, 30 * MINUTE),
        maxAutoRecoveries: positiveInt('maxAutoRecoveries', def.maxAutoRecoveries, 3),
        stuckDeadlinesMs,
        canAdjust: def.canAdjust ?? false,
        extraEdges: def.extraEdges ?? [],
        substates: def.substates ?? {},
        hooks: def.hooks ?? {},
        eventIdWindow: positiveInt('eventIdWindow', def.eventIdWindow, 1000),
        correlationGroup: def.correlationGroup,
    };
}
/** Every top-level state, for callers that iterate (docs, tests). */
exports.ALL_STATES = states_js_1.STRATEGY_STATES;
//# sourceMappingURL=definition.js.map