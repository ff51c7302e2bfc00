"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.createStrategySystem = createStrategySystem;
exports.createSystemCore = createSystemCore;
const xstate_1 = require("xstate");
const portfolio_js_1 = require("../guards/portfolio.js");
const coordinator_js_1 = require("../machines/coordinator.js");
const createStrategyMachine_js_1 = require("../machines/createStrategyMachine.js");
const errors_js_1 = require("../machines/errors.js");
const clock_js_1 = require("./clock.js");
const killSwitch_js_1 = require("./killSwitch.js");
const strategyActor_js_1 = require("./strategyActor.js");
const systemSummary_js_1 = require("./systemSummary.js");
/** States a strategy may be suspended from (spec: the seed's system-wide suspension). */
const SUSPENDABLE = ['READY', 'ANALYZING', 'PENDING_ENTRY'];
/** Reaching these returns a portfolio slot. */
const RELEASES_SLOT = ['INITIALIZING', 'READY', 'ANALYZING', 'CLOSED', 'TERMINATED'];
/** Reaching these takes a slot (PENDING_ENTRY, or holding a position after an override or restore). */
const TAKES_SLOT = ['PENDING_ENTRY', 'ENTERING', 'POSITION_OPEN', 'MANAGING', 'ADJUSTING', 'PENDING_EXIT', 'EXITING', 'PARTIAL_EXIT'];
/**
 * Creates a system that runs many strategies at once: one coordinator actor (the XState system's
 * root) whose children are the strategies, registered under their ids as `systemId`, all on one
 * clock. It adds the seed's all-strategies summary, system-wide suspension, a trading state
 * (ACTIVE / REDUCING / HALTED), portfolio limits and a kill switch.
 *
 * @example
 * ```ts
 * const system = createStrategySystem({ clock, limits: { maxPerGroup: { 'us-equity-index': 2 } } });
 * system.add(lt112, { id: 'lt112-spx', params: { underlying: 'SPX' } });
 * system.broadcast({ type: 'MARKET_OPEN' });
 * system.suspendAll('FOMC at 14:00');
 * console.log(system.summary().countByState);
 * ```
 */
function createStrategySystem(options = {}) {
    return createSystemCore(options).system;
}
/** Builds a strategy system and the internals other layers build on. */
function createSystemCore(options = {}) {
    const clock = options.clock ?? clock_js_1.realClock;
    const limits = options.limits ?? {};
    const coordinator = (0, xstate_1.createActor)(coordinator_js_1.coordinatorMachine, { clock, ...(options.inspect ? { inspect: options.inspect } : {}) });
    coordinator.start();
    const strategies = new Map();
    const machines = new Map();
    const listeners = new Set();
    /** Strategy id -> correlation group, for every strategy holding a portfolio slot. */
    const slots = new Map();
    const handleOf = (id) => {
        const handle = strategies.get(id);
        if (!handle)
            throw new errors_js_1.UnknownStrategyError(id);
        return handle;
    };
    const groupOf = (handle) => (0, createStrategyMachine_js_1.definitionOf)(handle.machine)?.correlationGroup;
    const syncSlot = (handle, state) => {
        if (RELEASES_SLOT.includes(state))
            slots.delete(handle.id);
        else if (TAKES_SLOT.includes(state) || (handle.getSnapshot().context.position?.quantity ?? 0) > 0)
            slots.set(handle.id, groupOf(handle));
    };
    /** The system's checks between validation and the strategy's own edges. */
    const gateFor = (handle) => (state, event, context) => {
        const effect = (0, portfolio_js_1.orderEffectOf)(state, event, context, (0, createStrategyMachine_js_1.definitionOf)(handle.machine)?.canAdjust ?? false);
        const refusal = (0, portfolio_js_1.checkTradingState)(coordinator.getSnapshot().context.tradingState, effect);
        if (refusal)
            return refusal;
        return effect === 'entry' && event.type === 'ENTRY_CONDITIONS_MET' ? (0, portfolio_js_1.checkPortfolioLimits)(slots, limits, handle.id, groupOf(handle)) : null;
    };
    const notifyAll = (notice) => {
        for (const listener of listeners) {
            try {
                listener(notice);
            }
            catch (error) {
                (options.onListenerError ?? ((e) => console.error('strategy system: listener threw', e)))(error);
            }
        }
    };
    const provided = new Map();
    const machineOf = (source) => {
        let machine;
        if ((0, createStrategyMachine_js_1.definitionOf)(source) || typeof source.transition === 'function') {
            machine = source;
        }
        else {
            const def = source;
            const known = machines.get(def);
            if (!known)
                machines.set(def, (machine = (0, createStrategyMachine_js_1.createStrategyMachine)(def)));
            else
                machine = known;
        }
        if (!options.provideMachine)
            return machine;
        let adapted = provided.get(machine);
        if (!adapted)
            provided.set(machine, (adapted = options.provideMachine(machine)));
        return adapted;
    };
    const system = {
        clock,
        actorRef: coordinator,
        get tradingState() {
            return coordinator.getSnapshot().context.tradingState;
        },
        add(source, addOptions) {
            const { id } = addOptions;
            if (typeof id !== 'string' || id.length === 0)
                throw new errors_js_1.UnknownStrategyError(String(id));
            if (strategies.has(id))
                throw new errors_js_1.DuplicateStrategyError(id);
            const machine = machineOf(source);
            if (addOptions.snapshot)
                (0, strategyActor_js_1.checkPersistedStrategy)(machine, addOptions.snapshot);
            // A child of the coordinator: same system, clock and inspector; addressable by systemId.
            const actorRef = (0, xstate_1.createActor)(machine, {
                parent: coordinator,
                systemId: id,
                id,
                input: { strategyId: id, params: addOptions.params, createdAt: clock.now() },
                ...(addOptions.snapshot ? { snapshot: addOptions.snapshot.snapshot } : {}),
            });
            const handle = (0, strategyActor_js_1.attachStrategy)(machine, actorRef, {
                id,
                clock,
                hooks: addOptions.hooks,
                auditTrail: addOptions.snapshot ? addOptions.snapshot.auditTrail.slice() : [],
                listeners: [
                    (notice) => {
                        syncSlot(handle, notice.record.currentState);
                        notifyAll(notice);
                    },
                ],
                onListenerError: options.onListenerError,
                stop: () => coordinator.send({ type: 'system.stopStrategy', strategyId: id }),
                directTrigger: options.directTrigger,
            });
            actorRef.subscribe({ error: (error) => console.error(`strategy ${id}: actor failed`, error) });
            strategies.set(id, handle);
            actorRef.start();
            syncSlot(handle, handle.state);
            return handle;
        },
        get: handleOf,
        has: (id) => strategies.has(id),
        ids: () => [...strategies.keys()],
        remove(id) {
            const handle = handleOf(id);
            const quantity = handle.getSnapshot().context.position?.quantity ?? 0;
            if (quantity > 0)
                throw new errors_js_1.StrategyNotFlatError(id, handle.state, quantity);
            handle.stop();
            strategies.delete(id);
            slots.delete(id);
        },
        send(id, event) {
            const handle = handleOf(id);
            return handle.triggerGated(event, gateFor(handle));
        },
        broadcast(event, filter) {
            const results = {};
            const symbol = event?.type === 'EARNINGS_APPROACHING' && typeof event.symbol === 'string' ? event.symbol.toUpperCase() : undefined;
            for (const handle of strategies.values()) {
                if (symbol !== undefined && String(handle.getSnapshot().context.params.underlying ?? '').toUpperCase() !== symbol)
                    continue;
                if (filter && !filter(handle))
                    continue;
                // triggerGated never throws for bad input; this guard keeps a broadcast going whatever happens.
                try {
                    results[handle.id] = handle.triggerGated(event, gateFor(handle));
                }
                catch (error) {
                    (options.onListenerError ?? ((e) => console.error(`broadcast to ${handle.id} failed`, e)))(error);
                }
            }
            return results;
        },
        summary: () => (0, systemSummary_js_1.summarize)(strategies.values(), clock.now(), coordinator.getSnapshot().context.tradingState, slots),
        subscribe(listener) {
            listeners.add(listener);
            return () => listeners.delete(listener);
        },
        suspendAll(reason) {
            const result = { changed: [], skipped: [] };
            for (const handle of strategies.values()) {
                const state = handle.state;
                if (!SUSPENDABLE.includes(state)) {
                    result.skipped.push({ strategyId: handle.id, state, reason: `${state} cannot be suspended (only READY, ANALYZING, PENDING_ENTRY)` });
                    continue;
                }
                const r = handle.trigger({ type: 'MANUAL_OVERRIDE', target: 'SUSPENDED', reason: `system-wide suspension: ${reason}`, operator: 'system' });
                if (r.accepted)
                    result.changed.push({ strategyId: handle.id, to: r.to });
                else
                    result.skipped.push({ strategyId: handle.id, state, reason: r.reason ?? 'rejected' });
            }
            return result;
        },
        resumeAll() {
            const result = { changed: [], skipped: [] };
            for (const handle of strategies.values()) {
                const state = handle.state;
                if (state !== 'SUSPENDED')
                    continue;
                const r = handle.trigger({ type: 'RESUME' });
                if (r.accepted)
                    result.changed.push({ strategyId: handle.id, to: r.to });
                else
                    result.skipped.push({ strategyId: handle.id, state, reason: r.reason ?? 'rejected' });
            }
            return result;
        },
        setTradingState(state, reason) {
            if (state !== 'ACTIVE' && state !== 'REDUCING' && state !== 'HALTED')
                throw new RangeError(`trading state must be ACTIVE, REDUCING or HALTED, got ${String(state)}`);
            coordinator.send({ type: 'system.setTradingState', tradingState: state, reason, at: clock.now() });
            return coordinator.getSnapshot().context.changes.at(-1);
        },
        tradingStateHistory: () => coordinator.getSnapshot().context.changes,
        killSwitch(reason) {
            system.setTradingState('HALTED', `kill switch: ${reason}`);
            return (0, killSwitch_js_1.killSwitch)([...strategies.values()], reason, clock, options.killSwitch);
        },
        stop() {
            for (const handle of strategies.values())
                handle.stop();
            coordinator.stop();
        },
    };
    return { system, handleOf, gateFor };
}
//# sourceMappingURL=strategySystem.js.map