"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.getStatistics = getStatistics;
const states_js_1 = require("../machines/states.js");
function isActor(value) {
    return typeof value.trigger === 'function';
}
/**
 * Statistics of a strategy from its actor (time read from the actor's clock) or from a snapshot
 * (time `now`, default the snapshot's last record). Constant work: the totals are kept as it runs.
 *
 * @example
 * ```ts
 * const stats = getStatistics(strategy);
 * console.log(stats.currentState, stats.timeInStateMs.MANAGING);
 * ```
 */
function getStatistics(source, now) {
    const snapshot = isActor(source) ? source.getSnapshot() : source;
    const context = snapshot.context;
    const at = now ?? (isActor(source) ? source.clock.now() : (context.lastRecord?.at ?? context.enteredAt));
    const currentState = (0, states_js_1.topLevelState)(snapshot.value);
    const current = Math.max(0, at - context.enteredAt);
    const timeInStateMs = {};
    for (const state of states_js_1.STRATEGY_STATES)
        timeInStateMs[state] = context.stats.timeInState[state] ?? 0;
    timeInStateMs[currentState] += current;
    return {
        strategyId: context.strategyId,
        currentState,
        timeInCurrentStateMs: current,
        totalTransitions: context.stats.transitions,
        rejectedTriggers: context.stats.rejected,
        errorCount: context.errorCount,
        timeInStateMs,
        openQuantity: context.position?.quantity ?? 0,
    };
}
//# sourceMappingURL=statistics.js.map