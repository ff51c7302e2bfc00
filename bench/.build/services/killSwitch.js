"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.killSwitch = killSwitch;
const direct = (handle, event) => handle.triggerGated(event, undefined);
/** States with an EMERGENCY_EXIT edge while holding a position. */
const EXITABLE = ['ENTERING', 'POSITION_OPEN', 'MANAGING', 'ADJUSTING', 'PENDING_EXIT', 'SUSPENDED'];
const EXITING = ['EXITING', 'PARTIAL_EXIT'];
const openQuantity = (handle) => handle.getSnapshot().context.position?.quantity ?? 0;
/** Flattens one strategy: exits now, retries each rejected exit, gives up into ERROR. */
function flatten(handle, reason, clock, options, deliver) {
    return new Promise((resolve) => {
        let attempts = 0;
        let timer;
        let settled = false;
        const finish = (outcome) => {
            if (settled)
                return;
            settled = true;
            unsubscribe();
            if (timer !== undefined)
                clock.clearTimeout(timer);
            resolve(outcome);
        };
        const fail = () => finish({ strategyId: handle.id, flat: false, reason: handle.getSnapshot().context.lastError?.reason ?? `${handle.state}` });
        // The kill switch's own exits pass the HALTED trading state: they are sent without the gate.
        const attempt = () => {
            timer = undefined;
            const state = handle.state;
            if (openQuantity(handle) === 0)
                return finish({ strategyId: handle.id, flat: true });
            if (EXITING.includes(state))
                return; // an exit order is working: wait for the broker's answer
            attempts++;
            const event = EXITABLE.includes(state)
                ? { type: 'EMERGENCY_EXIT', reason: `kill switch: ${reason}` }
                : { type: 'MANUAL_OVERRIDE', target: 'EXITING', reason: `kill switch: ${reason}`, operator: 'kill-switch' };
            void Promise.resolve(deliver(handle, event)).then(async (result) => {
                if (result.accepted || settled)
                    return;
                await deliver(handle, { type: 'SYSTEM_ERROR', reason: `kill switch could not start an exit from ${state}: ${result.reason}` });
                fail();
            }, (error) => finish({ strategyId: handle.id, flat: false, reason: `kill switch could not start an exit: ${error?.message ?? String(error)}` }));
        };
        const retryAfterRejection = (why) => {
            if (attempts > options.maxRetries) {
                // From inside a listener a trigger must be deferred: a zero delay on the clock does it.
                timer = clock.setTimeout(() => {
                    timer = undefined;
                    void Promise.resolve(deliver(handle, { type: 'SYSTEM_ERROR', reason: `kill switch: exit rejected ${attempts} times, last: ${why}` })).catch((error) => finish({ strategyId: handle.id, flat: false, reason: `kill switch: exit rejected ${attempts} times and ERROR could not be written: ${error?.message ?? String(error)}` }));
                }, 0);
                return;
            }
            timer = clock.setTimeout(attempt, Math.min(options.maxBackoffMs, options.backoffMs * 2 ** (attempts - 1)));
        };
        const unsubscribe = handle.subscribe(({ record }) => {
            if (settled)
                return;
            if (openQuantity(handle) === 0)
                return finish({ strategyId: handle.id, flat: true });
            if (record.currentState === 'ERROR' && record.previousState !== 'ERROR')
                return fail();
            if (record.accepted && record.currentState === 'PENDING_EXIT' && EXITING.includes(record.previousState)) {
                retryAfterRejection(String(record.data.reason ?? 'ORDER_REJECTED'));
            }
        });
        attempt();
    });
}
/**
 * Flattens every strategy holding a position (the caller has set the trading state to HALTED).
 * Resolves when each one is flat or has failed.
 */
async function killSwitch(handles, reason, clock, options = {}, deliver = direct) {
    const policy = { maxRetries: 5, backoffMs: 1000, maxBackoffMs: 60_000, ...options };
    const result = { reason, flattened: [], alreadyFlat: [], failed: [] };
    const pending = [];
    for (const handle of handles) {
        if (openQuantity(handle) === 0)
            result.alreadyFlat.push(handle.id);
        else
            pending.push(flatten(handle, reason, clock, policy, deliver));
    }
    for (const outcome of await Promise.all(pending)) {
        if (outcome.flat)
            result.flattened.push(outcome.strategyId);
        else
            result.failed.push({ strategyId: outcome.strategyId, reason: outcome.reason });
    }
    return result;
}
//# sourceMappingURL=killSwitch.js.map