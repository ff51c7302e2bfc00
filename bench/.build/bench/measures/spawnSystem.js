"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.spawnSystem = void 0;
/**
 * Spawning: 10k LT112 strategies added to one system (`createStrategySystem().add`, as a user
 * does it: from the definition; the system builds the machine once), against 10k bare XState
 * actors of the same 15-state machine created and started with `createActor(...).start()`.
 */
const xstate_1 = require("xstate");
const index_js_1 = require("../../machines/variants/index.js");
const clock_js_1 = require("../../services/clock.js");
const strategySystem_js_1 = require("../../services/strategySystem.js");
const bareMachine_js_1 = require("../fixtures/bareMachine.js");
const harness_js_1 = require("../harness.js");
function spawnFigure(timing, count) {
    return { text: `${(0, harness_js_1.duration)(timing.meanMs)} (${(0, harness_js_1.duration)(timing.meanMs / count)}/strategy)`, value: timing.meanMs, unit: 'ms' };
}
exports.spawnSystem = (0, harness_js_1.defineBench)({
    id: 'spawn-system',
    title: 'spawn strategies into one system',
    full: { strategies: 10_000, iterations: 5 },
    smoke: { strategies: 20, iterations: 1 },
    async run(ctx, sizes) {
        const count = sizes.strategies;
        const clock = (0, clock_js_1.createSimulatedClock)('2026-01-05T09:00:00-05:00');
        const bare = (0, bareMachine_js_1.createBareMachine)();
        let system;
        ctx.log(`spawn: ${count} strategies with system.add`);
        const ours = await ctx.measurer.time('createStrategySystem().add x N', () => {
            for (let i = 0; i < count; i++)
                system.add(index_js_1.lt112, { id: `lt112-${i}`, params: { underlying: 'SPX' } });
        }, {
            iterations: sizes.iterations,
            timeMs: 0,
            beforeEach: () => void (system = (0, strategySystem_js_1.createStrategySystem)({ clock })),
            afterEach: () => {
                if (system.ids().length !== count)
                    throw new Error(`spawn: ${system.ids().length} strategies added, ${count} expected`);
                system.stop();
                system = undefined;
            },
        });
        let actors = [];
        ctx.log(`spawn: ${count} bare XState actors`);
        const bareTiming = await ctx.measurer.time('bare createActor().start() x N', () => {
            for (let i = 0; i < count; i++)
                actors.push((0, xstate_1.createActor)(bare, { clock }).start());
        }, {
            iterations: sizes.iterations,
            timeMs: 0,
            afterEach: () => {
                for (const a of actors)
                    a.stop();
                actors = [];
            },
        });
        const n = count >= 1000 ? `${count / 1000}k` : String(count);
        return [{
                measure: `spawn ${n} strategies into one system (system.add)`,
                ours: spawnFigure(ours, count),
                referenceName: `bare XState createActor().start() x ${n}`,
                reference: spawnFigure(bareTiming, count),
                ratio: ours.meanMs / bareTiming.meanMs,
                target: 'report',
                met: null,
            }];
    },
});
//# sourceMappingURL=spawnSystem.js.map