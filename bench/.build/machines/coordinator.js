"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.coordinatorMachine = void 0;
const xstate_1 = require("xstate");
/**
 * The root actor of a strategy system. Strategies are its children (created with it as their
 * `parent`, registered under their id as `systemId`), so they share its clock and the inspector
 * sees the whole system from one `inspect` callback. Its context holds the trading state.
 */
exports.coordinatorMachine = (0, xstate_1.setup)({
    types: { context: {}, events: {} },
}).createMachine({
    id: 'strategySystem',
    context: { tradingState: 'ACTIVE', changes: [] },
    initial: 'running',
    states: {
        running: {
            on: {
                'system.setTradingState': {
                    actions: (0, xstate_1.assign)(({ context, event }) => ({
                        tradingState: event.tradingState,
                        changes: [...context.changes, { from: context.tradingState, to: event.tradingState, reason: event.reason, at: event.at }],
                    })),
                },
                // Only a parent may stop its children (XState refuses `stop()` on a non-root actor).
                'system.stopStrategy': { actions: (0, xstate_1.stopChild)(({ event, system }) => system.get(event.strategyId)) },
            },
        },
    },
});
//# sourceMappingURL=coordinator.js.map