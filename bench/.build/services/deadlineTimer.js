"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.deadlineTimer = void 0;
exports.createDeadlineTimer = createDeadlineTimer;
const xstate_1 = require("xstate");
const clock_js_1 = require("./clock.js");
/**
 * The actor invoked by every state with a durable deadline. Its input is the absolute deadline
 * kept in the context, so when XState restores a persisted snapshot it restarts this actor with
 * the same input and the timer is armed for the time that is left: a deadline that passed while
 * the process was down fires at once. (XState's own `after` timers are not restored:
 * statelyai/xstate issue 5331.)
 */
exports.deadlineTimer = createDeadlineTimer();
/**
 * Makes the deadline actor. By default a due deadline is sent back to its strategy at once;
 * `route` hands it to someone else instead (the persistent system writes it first).
 */
function createDeadlineTimer(route) {
    return (0, xstate_1.fromCallback)(({ input, system, self, sendBack }) => {
        if (!input)
            return undefined;
        const clock = (0, clock_js_1.clockOf)(system);
        const fire = (at) => {
            const event = { type: 'lifecycle.deadline', kind: input.kind, dueAt: input.at, at };
            const strategyId = self._parent?.id;
            if (route && strategyId !== undefined)
                route(strategyId, event);
            else
                sendBack(event);
        };
        const remaining = input.at - clock.now();
        if (remaining <= 0) {
            // Passed while the process was down: fire now, stamped with the time it actually happens.
            fire(clock.now());
            return undefined;
        }
        const handle = clock.setTimeout(() => fire(input.at), remaining);
        return () => clock.clearTimeout(handle);
    });
}
//# sourceMappingURL=deadlineTimer.js.map