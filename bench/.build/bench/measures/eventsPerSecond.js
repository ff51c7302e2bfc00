"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.eventsPerSecond = void 0;
/**
 * Events/s through one strategy actor (LT112, audit trail and guards on) on the realistic mixed
 * stream, against the same stream through a bare XState v5 machine with the same 15 states and
 * edges, and through a plain transition table (the floor). Also: the same actor with one
 * `onTransition` hook (the pre-commit `getNextSnapshot` path), and the trail-growth check:
 * the cost per event of events 90k-100k of one long run against its first 10k.
 */
const createStrategyMachine_js_1 = require("../../machines/createStrategyMachine.js");
const index_js_1 = require("../../machines/variants/index.js");
const bareMachine_js_1 = require("../fixtures/bareMachine.js");
const drivers_js_1 = require("../fixtures/drivers.js");
const mixedStream_js_1 = require("../fixtures/mixedStream.js");
const harness_js_1 = require("../harness.js");
const trailGrowth_js_1 = require("./trailGrowth.js");
const TARGET_RATIO = 1.5;
const TARGET_RATE = 100_000;
exports.eventsPerSecond = (0, harness_js_1.defineBench)({
    id: 'events-per-second',
    title: 'events/s through one strategy actor',
    full: { events: 10_000, iterations: 10, timeMs: 2000, longRun: 100_000, segment: 10_000, block: 1000, longRuns: 3 },
    smoke: { events: 60, iterations: 1, timeMs: 0, longRun: 400, segment: 40, block: 10, longRuns: 1 },
    async run(ctx, sizes) {
        const { measurer, log } = ctx;
        const machine = (0, createStrategyMachine_js_1.createStrategyMachine)(index_js_1.lt112);
        const bare = (0, bareMachine_js_1.createBareMachine)();
        const table = (0, bareMachine_js_1.createPlainTable)();
        const stream = (0, mixedStream_js_1.mixedStream)(sizes.events);
        const n = stream.length;
        const mix = (0, mixedStream_js_1.expectedMix)(stream);
        const check = (0, drivers_js_1.checkStream)(machine, stream);
        const pct = (k) => `${((100 * k) / n).toFixed(0)}%`;
        const streamNote = `stream: ${n} events per timed call (fresh actor each, created outside the timing), ${pct(mix.accepted)} accepted, ${pct(mix.NO_EDGE)} no edge, ${pct(mix.GUARD_FAILED)} guard failed, ${pct(mix.DUPLICATE_EVENT)} duplicate eventId; every result as expected: ${check.mismatches.length === 0 ? 'yes' : `NO (${check.mismatches.length} differ, first: ${JSON.stringify(check.mismatches[0])})`}; ERROR entered: ${check.enteredError ? 'YES' : 'no'}`;
        if (check.mismatches.length > 0)
            log(`WARNING ${streamNote}`);
        const opts = (o) => ({ iterations: sizes.iterations, timeMs: sizes.timeMs, ...o });
        let ours;
        log(`events/s: ours (${n} events per call)`);
        const oursTiming = await measurer.time('strategy actor: trigger()', () => (0, drivers_js_1.driveStrategy)(ours.strategy, ours.clock, stream), opts({
            beforeEach: () => void (ours = (0, drivers_js_1.newStrategy)(machine, stream)),
            afterEach: () => ours.strategy.stop(),
        }));
        let hooked;
        log('events/s: ours with an onTransition hook');
        const hookTiming = await measurer.time('strategy actor with onTransition hook', () => (0, drivers_js_1.driveStrategy)(hooked.strategy, hooked.clock, stream), opts({
            beforeEach: () => void (hooked = (0, drivers_js_1.newStrategy)(machine, stream, { onTransition: () => undefined })),
            afterEach: () => hooked.strategy.stop(),
        }));
        let bareRun;
        log('events/s: bare XState');
        const bareTiming = await measurer.time('bare XState actor: send()', () => (0, drivers_js_1.driveBare)(bareRun.actor, bareRun.clock, stream), opts({
            beforeEach: () => void (bareRun = (0, drivers_js_1.newBareActor)(bare, stream)),
            afterEach: () => bareRun.actor.stop(),
        }));
        let clock = (0, drivers_js_1.newClock)(stream);
        let sink = '';
        log('events/s: plain table');
        const plainTiming = await measurer.time('plain Map table', () => void (sink = (0, drivers_js_1.drivePlain)(table, clock, stream)), opts({ beforeEach: () => void (clock = (0, drivers_js_1.newClock)(stream)) }));
        log('events/s: harness only (clock.set loop)');
        const loopTiming = await measurer.time('harness: clock.set loop', () => void (sink += (0, drivers_js_1.driveClockOnly)(clock, stream)), opts({ beforeEach: () => void (clock = (0, drivers_js_1.newClock)(stream)) }));
        if (sink === '')
            throw new Error('plain table loop did not run');
        const oursFig = (0, harness_js_1.rateFigure)(oursTiming, n);
        const harness = `harness alone (loop + simulated clock.set, included in every figure): ${(0, harness_js_1.duration)(loopTiming.meanMs / n)}/event`;
        const ratioBare = oursTiming.meanMs / bareTiming.meanMs;
        const rows = [
            {
                measure: 'events/s, one strategy actor (audit + guards), mixed stream',
                ours: oursFig,
                referenceName: 'bare XState v5 machine, same 15 states and edges',
                reference: (0, harness_js_1.rateFigure)(bareTiming, n),
                ratio: ratioBare,
                target: `≤ ${TARGET_RATIO}x bare cost/event; ≥ 100k events/s`,
                met: ratioBare <= TARGET_RATIO && oursFig.value >= TARGET_RATE,
                notes: [streamNote, harness],
            },
            {
                measure: 'the same',
                ours: oursFig,
                referenceName: 'plain JS transition table (the floor)',
                reference: (0, harness_js_1.rateFigure)(plainTiming, n),
                ratio: oursTiming.meanMs / plainTiming.meanMs,
                target: 'report',
                met: null,
            },
            {
                measure: 'the same, with one onTransition hook (pre-commit getNextSnapshot)',
                ours: (0, harness_js_1.rateFigure)(hookTiming, n),
                referenceName: 'bare XState v5 machine',
                reference: (0, harness_js_1.rateFigure)(bareTiming, n),
                ratio: hookTiming.meanMs / bareTiming.meanMs,
                target: 'report',
                met: null,
            },
        ];
        rows.push(await (0, trailGrowth_js_1.measureTrailGrowth)(ctx, machine, sizes));
        return rows;
    },
});
//# sourceMappingURL=eventsPerSecond.js.map