"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.memoryPerActor = void 0;
/**
 * Memory per strategy actor: heap used after a full GC with N LT112 strategies alive (created
 * with createStrategyActor on one simulated clock, each past MARKET_OPEN so it holds one audit
 * record), minus the heap before, over N; the same for N bare XState actors of the same
 * 15-state machine. Not a tinybench measure: heap figures come from process.memoryUsage().
 */
const node_perf_hooks_1 = require("node:perf_hooks");
const xstate_1 = require("xstate");
const createStrategyMachine_js_1 = require("../../machines/createStrategyMachine.js");
const index_js_1 = require("../../machines/variants/index.js");
const clock_js_1 = require("../../services/clock.js");
const strategyActor_js_1 = require("../../services/strategyActor.js");
const bareMachine_js_1 = require("../fixtures/bareMachine.js");
const drivers_js_1 = require("../fixtures/drivers.js");
const mixedStream_js_1 = require("../fixtures/mixedStream.js");
const harness_js_1 = require("../harness.js");
const KB = 1024;
const GB = 1024 ** 3;
const TARGET_KB = 20;
const TARGET_TOTAL_AT = 100_000;
/** Heap used by `count` live objects made by `make`, per object, after GC; `release` stops them. */
function heapPer(count, make, release) {
    const before = (0, harness_js_1.heapUsedAfterGc)();
    const items = new Array(count);
    const t0 = node_perf_hooks_1.performance.now();
    for (let i = 0; i < count; i++)
        items[i] = make(i);
    const createMs = node_perf_hooks_1.performance.now() - t0;
    const after = (0, harness_js_1.heapUsedAfterGc)();
    for (const item of items)
        release(item);
    items.length = 0;
    (0, harness_js_1.heapUsedAfterGc)();
    return { perItem: (after - before) / count, total: after - before, createMs };
}
const kb = (bytes) => `${(bytes / KB).toFixed(1)} KB`;
const mb = (bytes) => (bytes >= GB ? `${(bytes / GB).toFixed(2)} GB` : `${(bytes / KB / KB).toFixed(0)} MB`);
exports.memoryPerActor = (0, harness_js_1.defineBench)({
    id: 'memory-per-actor',
    title: 'memory per strategy actor',
    full: { counts: [10_000, 100_000], trailEvents: 20_000 },
    smoke: { counts: [50], trailEvents: 60 },
    async run(ctx, sizes) {
        const machine = (0, createStrategyMachine_js_1.createStrategyMachine)(index_js_1.lt112);
        const bare = (0, bareMachine_js_1.createBareMachine)();
        const rows = [];
        // What the in-memory audit trail adds: one actor, the mixed stream, heap per retained record.
        const stream = (0, mixedStream_js_1.mixedStream)(sizes.trailEvents);
        const trailBefore = (0, harness_js_1.heapUsedAfterGc)();
        const { strategy: long, clock: longClock } = (0, drivers_js_1.newStrategy)(machine, stream);
        (0, drivers_js_1.driveStrategy)(long, longClock, stream);
        const perRecord = ((0, harness_js_1.heapUsedAfterGc)() - trailBefore) / long.getAuditTrail().length;
        long.stop();
        for (const count of sizes.counts) {
            const clock = (0, clock_js_1.createSimulatedClock)('2026-01-05T09:00:00-05:00');
            ctx.log(`memory: ${count} strategy actors`);
            const ours = heapPer(count, (i) => {
                const s = (0, strategyActor_js_1.createStrategyActor)(machine, { id: `lt112-${i}`, clock, params: { underlying: 'SPX' } });
                s.trigger({ type: 'MARKET_OPEN' });
                return s;
            }, (s) => s.stop());
            ctx.log(`memory: ${count} bare XState actors`);
            const bareRun = heapPer(count, () => {
                const a = (0, xstate_1.createActor)(bare, { clock }).start();
                a.send({ type: 'MARKET_OPEN' });
                return a;
            }, (a) => a.stop());
            const perKb = ours.perItem / KB;
            const atTarget = (ours.perItem * TARGET_TOTAL_AT) / GB;
            const n = count >= 1000 ? `${count / 1000}k` : String(count);
            rows.push({
                measure: `memory per strategy actor, ${n} actors (heap used after GC)`,
                ours: { text: `${kb(ours.perItem)}/actor (${mb(ours.total)} in all)`, value: perKb, unit: 'KB/actor' },
                referenceName: 'bare XState actors of the same machine',
                reference: { text: `${kb(bareRun.perItem)}/actor (${mb(bareRun.total)} in all)`, value: bareRun.perItem / KB, unit: 'KB/actor' },
                ratio: ours.perItem / bareRun.perItem,
                target: `≤ ${TARGET_KB} KB each; 100k in < 2 GB`,
                met: perKb <= TARGET_KB && atTarget < 2,
                notes: [
                    `memory ${n}: each actor started and past MARKET_OPEN (one audit record); creating them took ${(0, harness_js_1.duration)(ours.createMs)} (bare: ${(0, harness_js_1.duration)(bareRun.createMs)}); 100k at this size: ${atTarget.toFixed(2)} GB` +
                        (count === sizes.counts[sizes.counts.length - 1]
                            ? `; every further audit record kept in memory adds ${perRecord.toFixed(0)} B (mixed stream, one actor, ${long.getAuditTrail().length} records): one full lifecycle (${mixedStream_js_1.CYCLE_EVENTS} records) brings an actor to ~${((ours.perItem + (mixedStream_js_1.CYCLE_EVENTS - 1) * perRecord) / KB).toFixed(1)} KB`
                            : ''),
                ],
            });
        }
        return rows;
    },
});
//# sourceMappingURL=memoryPerActor.js.map