"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.simulatedYear = void 0;
/**
 * A simulated year: `runSimulation` (services/simulation.ts) drives 100 strategies (0DTE, LT112
 * and strangles on five underlyings, as in its own test) through every NYSE trading day of 2026
 * on a simulated clock, with the example event calendar when it is present. No reference.
 */
const node_fs_1 = require("node:fs");
const node_path_1 = require("node:path");
const index_js_1 = require("../../machines/variants/index.js");
const eventCalendar_js_1 = require("../../services/eventCalendar.js");
const simulation_js_1 = require("../../services/simulation.js");
const harness_js_1 = require("../harness.js");
const TARGET_MS = 10_000;
const DEFS = [index_js_1.zeroDte, index_js_1.lt112, index_js_1.strangle];
const UNDERLYINGS = ['SPX', 'SPY', 'QQQ', 'AAPL', 'MSFT'];
function strategies(n) {
    return Array.from({ length: n }, (_, i) => ({ id: `${DEFS[i % 3].id}-${i}`, definition: DEFS[i % 3], params: { underlying: UNDERLYINGS[i % 5], quantity: 1 + (i % 4) } }));
}
exports.simulatedYear = (0, harness_js_1.defineBench)({
    id: 'simulated-year',
    title: 'simulated year',
    full: { strategies: 100, from: '2026-01-01', to: '2026-12-31', iterations: 3 },
    smoke: { strategies: 3, from: '2026-03-02', to: '2026-03-06', iterations: 1 },
    async run(ctx, sizes) {
        const calendarPath = (0, node_path_1.join)((0, harness_js_1.repoRoot)(), 'examples', 'event-calendar.example.json');
        const eventCalendar = (0, node_fs_1.existsSync)(calendarPath) ? (0, eventCalendar_js_1.loadEventCalendar)(calendarPath) : undefined;
        let result;
        ctx.log(`simulated year: ${sizes.strategies} strategies, ${sizes.from} to ${sizes.to}`);
        const timing = await ctx.measurer.time('runSimulation', () => {
            result = (0, simulation_js_1.runSimulation)({ from: sizes.from, to: sizes.to, strategies: strategies(sizes.strategies), seed: 42, ...(eventCalendar ? { eventCalendar } : {}) });
        }, { iterations: sizes.iterations, timeMs: 0, warmup: false });
        const records = Object.values(result.auditTrails).reduce((sum, trail) => sum + trail.length, 0);
        const transitions = result.statistics.reduce((sum, s) => sum + s.totalTransitions, 0);
        return [{
                measure: `simulated year, ${sizes.strategies} strategies (runSimulation)`,
                ours: { text: `${(0, harness_js_1.duration)(timing.meanMs)} (${result.tradingDays} trading days, ${(0, harness_js_1.si)(records)} audit records)`, value: timing.meanMs, unit: 'ms' },
                referenceName: 'none',
                reference: null,
                ratio: null,
                target: `< ${TARGET_MS / 1000} s`,
                met: timing.meanMs < TARGET_MS,
                notes: [`simulated year: mean of ${timing.samples} runs, no warm-up; ${(0, harness_js_1.si)(transitions)} accepted transitions; event calendar: ${eventCalendar ? 'examples/event-calendar.example.json' : 'none (file absent)'}`],
            }];
    },
});
//# sourceMappingURL=simulatedYear.js.map