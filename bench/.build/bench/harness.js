"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.oneShotMeasurer = void 0;
exports.defineBench = defineBench;
exports.clockOfSource = clockOfSource;
exports.collectGarbage = collectGarbage;
exports.heapUsedAfterGc = heapUsedAfterGc;
exports.si = si;
exports.duration = duration;
exports.times = times;
exports.eventsPerSecond = eventsPerSecond;
exports.rateFigure = rateFigure;
exports.repoRoot = repoRoot;
/**
 * What every benchmark module shares: the row it reports, the measurer it times with, and the
 * context it runs in. A measure is one module in `bench/measures/` (one file per measure), listed
 * in `bench/measures/index.ts`; `bench/run.ts` runs them with tinybench, the smoke test runs them
 * once with tiny sizes and a one-shot measurer. Nothing here imports tinybench (ESM only), so
 * jest can load every module.
 */
const node_fs_1 = require("node:fs");
const node_path_1 = require("node:path");
const node_perf_hooks_1 = require("node:perf_hooks");
const node_v8_1 = require("node:v8");
const node_vm_1 = require("node:vm");
/** Helps TypeScript keep each module's sizes type while listing them together. */
function defineBench(module) {
    return module;
}
/** Milliseconds on the chosen time source. */
function clockOfSource(source) {
    if (source === 'wall')
        return () => node_perf_hooks_1.performance.now();
    return () => {
        const usage = process.cpuUsage();
        return (usage.user + usage.system) / 1000;
    };
}
/** A measurer that calls the function once (hooks around it): proves the code runs, times nothing useful. */
exports.oneShotMeasurer = {
    async time(_name, fn, options = {}) {
        options.beforeAll?.();
        options.beforeEach?.();
        const t0 = node_perf_hooks_1.performance.now();
        fn();
        const ms = node_perf_hooks_1.performance.now() - t0;
        options.afterEach?.();
        options.afterAll?.();
        return { meanMs: ms, p50Ms: ms, rmePct: 0, samples: 1 };
    },
};
let gcFn;
/**
 * A full garbage collection. Uses `global.gc` (node --expose-gc); without the flag (jest) it
 * turns the flag on at run time and takes `gc` from a fresh context, so the memory module
 * still runs in the smoke test.
 */
function collectGarbage() {
    if (!gcFn) {
        const exposed = globalThis.gc;
        if (exposed)
            gcFn = exposed;
        else {
            (0, node_v8_1.setFlagsFromString)('--expose-gc');
            gcFn = (0, node_vm_1.runInNewContext)('gc');
        }
    }
    gcFn();
    gcFn();
}
/** Heap used after a full GC, bytes. */
function heapUsedAfterGc() {
    collectGarbage();
    return process.memoryUsage().heapUsed;
}
/** `1234567` -> `1.23M`, `182345` -> `182k`. */
function si(n) {
    if (!Number.isFinite(n))
        return String(n);
    const abs = Math.abs(n);
    if (abs >= 1e9)
        return `${(n / 1e9).toPrecision(3)}G`;
    if (abs >= 1e6)
        return `${(n / 1e6).toPrecision(3)}M`;
    if (abs >= 1e4)
        return `${Math.round(n / 1e3)}k`;
    if (abs >= 1e3)
        return `${(n / 1e3).toPrecision(3)}k`;
    return n.toPrecision(3);
}
/** Milliseconds written with a sensible unit: `850 ns`, `5.5 µs`, `42.1 ms`, `3.20 s`. */
function duration(ms) {
    if (ms < 0.001)
        return `${(ms * 1e6).toPrecision(3)} ns`;
    if (ms < 1)
        return `${(ms * 1e3).toPrecision(3)} µs`;
    if (ms < 1000)
        return `${ms.toPrecision(3)} ms`;
    return `${(ms / 1000).toPrecision(3)} s`;
}
/** A ratio as the table prints it: `2.31x`. */
function times(ratio) {
    return ratio === null ? '—' : `${ratio.toFixed(2)}x`;
}
/** Events per second from a per-call time and the events per call. */
function eventsPerSecond(timing, eventsPerCall) {
    return (eventsPerCall * 1000) / timing.meanMs;
}
/** `events/s (µs/event)` as a figure. */
function rateFigure(timing, eventsPerCall) {
    const rate = eventsPerSecond(timing, eventsPerCall);
    return { text: `${si(rate)} events/s (${duration(timing.meanMs / eventsPerCall)}/event, ±${timing.rmePct.toFixed(1)}%)`, value: rate, unit: 'events/s' };
}
/** The package root (the folder whose package.json names strategy-lifecycle), from source or from bench/.build. */
function repoRoot() {
    let dir = __dirname;
    for (;;) {
        const manifest = (0, node_path_1.join)(dir, 'package.json');
        if ((0, node_fs_1.existsSync)(manifest) && JSON.parse((0, node_fs_1.readFileSync)(manifest, 'utf8')).name === 'strategy-lifecycle')
            return dir;
        const parent = (0, node_path_1.dirname)(dir);
        if (parent === dir)
            throw new Error(`no strategy-lifecycle package.json above ${__dirname}`);
        dir = parent;
    }
}
//# sourceMappingURL=harness.js.map