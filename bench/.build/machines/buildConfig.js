"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.buildStrategyConfig = buildStrategyConfig;
const xstate_1 = require("xstate");
const edges_js_1 = require("./edges.js");
const states_js_1 = require("./states.js");
/** Guard names a row may use, expanded: `areEntryConditionsMet` is the variant's entry guards. */
function guardNames(ref, def) {
    if (typeof ref === 'string')
        return ref === 'areEntryConditionsMet' ? def.entryGuards.map((g) => g.name) : [ref];
    if (Array.isArray(ref))
        return ref.flatMap((r) => guardNames(r, def));
    return [ref.type];
}
/** The XState guard of a row (`and` of several names), or undefined for an unguarded row. */
function toXGuard(ref, def) {
    if (ref === undefined)
        return undefined;
    if (typeof ref === 'object' && !Array.isArray(ref))
        return ref;
    const names = guardNames(ref, def);
    if (names.length === 0)
        return undefined;
    return names.length === 1 ? names[0] : (0, xstate_1.and)(names);
}
function isStuck(state) {
    return state !== null && states_js_1.STUCK_STATES.includes(state);
}
function toTransition(row, from, def) {
    const to = row.to ?? from;
    const moves = row.to !== null && (row.to !== from || row.reenter === true);
    const actions = [...(row.actions ?? [])];
    if (moves && to === 'ERROR')
        actions.push({ type: 'enterError', params: { from } });
    if (moves && isStuck(to))
        actions.push({ type: 'armStuckDeadline', params: { state: to } });
    const params = { from, to, why: row.why, mode: row.record ?? 'transition', reentered: moves && to === from };
    actions.push({ type: 'recordTransition', params }, 'emitRecord');
    const transition = { actions };
    if (moves) {
        transition.target = to;
        if (to === from)
            transition.reenter = true;
    }
    const guard = toXGuard(row.guard, def);
    if (guard !== undefined)
        transition.guard = guard;
    return transition;
}
/** Groups the rows that leave `state` by event, variant rows first, then base rows, in order. */
function transitionsOf(state, def) {
    const on = {};
    const guardsByEvent = {};
    for (const row of [...def.extraEdges, ...edges_js_1.BASE_EDGES]) {
        if (!row.from.includes(state))
            continue;
        for (const type of row.on) {
            (on[type] ??= []).push(toTransition(row, state, def));
            if (row.guard !== undefined)
                (guardsByEvent[type] ??= []).push(row.guard);
        }
    }
    for (const [type, candidates] of Object.entries(on)) {
        // When every candidate is guarded and all guards fail, the trigger is rejected with the
        // guards' own reasons instead of bubbling to the catch-all.
        if (candidates[candidates.length - 1].guard !== undefined) {
            const params = { state, guards: guardsByEvent[type] };
            candidates.push({ actions: [{ type: 'rejectGuarded', params }, 'emitRecord'] });
        }
    }
    on['*'] = [{ actions: [{ type: 'rejectNoEdge', params: { state } }, 'emitRecord'] }];
    return on;
}
function substatesOf(state, def) {
    const sub = def.substates[state];
    if (!sub)
        return undefined;
    const states = {};
    for (const name of sub.states)
        states[name] = { on: {} };
    for (const edge of sub.edges) {
        for (const type of edge.on) {
            const params = { from: state, to: state, why: edge.why, mode: 'transition', reentered: false, detail: `${state}.${edge.from} -> ${state}.${edge.to}` };
            (states[edge.from].on[type] ??= []).push({ target: edge.to, actions: [{ type: 'recordTransition', params }, 'emitRecord'] });
        }
    }
    return { initial: sub.initial, states };
}
/**
 * Builds the XState config of a variant from the one edge table ({@link BASE_EDGES}) plus the
 * variant's extra edges and substates. Pure data; `createStrategyMachine` gives it to `setup()`.
 */
function buildStrategyConfig(def) {
    const states = {};
    for (const state of states_js_1.STRATEGY_STATES) {
        const node = { on: transitionsOf(state, def) };
        if (state === 'ERROR' || isStuck(state)) {
            node.invoke = { id: 'deadline', src: 'deadlineTimer', input: ({ context }) => context.deadline };
            node.exit = state === 'ERROR' ? ['clearDeadline', 'resetErrors'] : ['clearDeadline'];
        }
        if (state === 'TERMINATED') {
            // Terminal by having no way out. Not an XState final state: a final root state stops the
            // actor, and events sent to it afterwards would vanish without an audit record.
            node.tags = ['terminal'];
        }
        Object.assign(node, substatesOf(state, def));
        states[state] = node;
    }
    return { id: def.id, initial: 'INITIALIZING', states };
}
//# sourceMappingURL=buildConfig.js.map