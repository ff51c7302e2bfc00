"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.summarize = summarize;
const time_js_1 = require("./time.js");
/** Builds the summary of a set of strategies at `now`. */
function summarize(strategies, now, tradingState, slots) {
    const summary = {
        at: (0, time_js_1.toMarketIso)(now),
        tradingState,
        totalStrategies: 0,
        countByState: {},
        countByVariant: {},
        active: 0,
        inError: 0,
        suspended: 0,
        errors: [],
        openPositions: [],
        timeInState: [],
        portfolio: { slotsUsed: slots.size, byGroup: {} },
    };
    for (const strategy of strategies) {
        const { context } = strategy.getSnapshot();
        const state = strategy.state;
        summary.totalStrategies++;
        summary.countByState[state] = (summary.countByState[state] ?? 0) + 1;
        summary.countByVariant[context.variant] = (summary.countByVariant[context.variant] ?? 0) + 1;
        if (state === 'MANAGING' || state === 'ADJUSTING')
            summary.active++;
        if (state === 'SUSPENDED')
            summary.suspended++;
        if (state === 'ERROR') {
            summary.inError++;
            summary.errors.push({ strategyId: strategy.id, reason: context.lastError?.reason ?? 'unknown', since: (0, time_js_1.toMarketIso)(context.enteredAt) });
        }
        const position = context.position;
        if (position && position.quantity > 0) {
            const open = { strategyId: strategy.id, variant: context.variant, state, quantity: position.quantity };
            if (position.expiry)
                open.expiry = position.expiry;
            const underlying = position.underlying ?? context.params.underlying;
            if (typeof underlying === 'string')
                open.underlying = underlying;
            summary.openPositions.push(open);
        }
        summary.timeInState.push({ strategyId: strategy.id, state, ms: Math.max(0, now - context.enteredAt) });
    }
    for (const group of slots.values()) {
        const key = group ?? '(none)';
        summary.portfolio.byGroup[key] = (summary.portfolio.byGroup[key] ?? 0) + 1;
    }
    return summary;
}
//# sourceMappingURL=systemSummary.js.map