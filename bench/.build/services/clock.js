"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.realClock = void 0;
exports.createSimulatedClock = createSimulatedClock;
exports.clockOf = clockOf;
const xstate_1 = require("xstate");
/** Wall-clock time and Node's timers. The default clock of every strategy. */
exports.realClock = {
    now: () => Date.now(),
    setTimeout: (fn, ms) => {
        const handle = setTimeout(fn, Math.max(0, ms));
        // A pending deadline must not keep a finished process alive.
        handle.unref?.();
        return handle;
    },
    clearTimeout: (handle) => clearTimeout(handle),
};
/**
 * Creates a simulated clock (XState's `SimulatedClock` underneath) starting at `start`:
 * epoch milliseconds or an ISO 8601 string with its offset.
 *
 * @example
 * ```ts
 * const clock = createSimulatedClock('2026-12-01T09:30:00-05:00');
 * const strategy = createStrategyActor(createStrategyMachine(lt112), { clock });
 * clock.increment(5 * 60_000);
 * ```
 */
function createSimulatedClock(start = 0) {
    const startMs = typeof start === 'number' ? start : Date.parse(start);
    if (!Number.isFinite(startMs)) {
        throw new RangeError(`createSimulatedClock: start "${String(start)}" is not a time`);
    }
    const inner = new xstate_1.SimulatedClock();
    inner.set(startMs);
    // XState's SimulatedClock jumps straight to the target and then fires what is due, so a timer
    // armed by a firing timer would start at the target time. Stepping to each due time in turn
    // keeps every timer, and every timestamp it produces, at its exact instant.
    // `timeouts` is private in XState's typings but is the clock's only record of what is pending.
    const pending = inner.timeouts;
    const advanceTo = (target) => {
        if (!Number.isFinite(target))
            throw new RangeError(`simulated clock: ${target} is not a time`);
        for (;;) {
            let next = Infinity;
            for (const t of pending.values())
                next = Math.min(next, t.start + t.timeout);
            if (next > target)
                break;
            inner.set(Math.max(next, inner.now()));
        }
        if (target > inner.now())
            inner.set(target);
    };
    // A callback that throws inside XState's flush would leave the clock marked as flushing for
    // ever; callbacks' errors are caught here and rethrown once time has finished moving.
    const failures = [];
    const move = (target) => {
        advanceTo(target);
        if (failures.length) {
            const errors = failures.splice(0);
            throw errors.length === 1 ? errors[0] : new AggregateError(errors, `${errors.length} simulated-clock timers threw`);
        }
    };
    return {
        now: () => inner.now(),
        setTimeout: (fn, ms) => inner.setTimeout(() => {
            try {
                fn();
            }
            catch (error) {
                failures.push(error);
            }
        }, Math.max(0, ms)),
        clearTimeout: (handle) => inner.clearTimeout(handle),
        increment: (ms) => move(inner.now() + Math.max(0, ms)),
        set: (ms) => move(ms),
    };
}
/**
 * Reads "now" from the clock of the XState system an actor runs in. XState keeps the clock
 * given to `createActor` as `system._clock`; a system made without one runs on real time,
 * so real time is the only honest fallback.
 */
function clockOf(system) {
    const clock = system?._clock;
    if (clock && typeof clock.now === 'function')
        return clock;
    return exports.realClock;
}
//# sourceMappingURL=clock.js.map