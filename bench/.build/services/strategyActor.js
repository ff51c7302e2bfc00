"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.attachStrategy = attachStrategy;
exports.checkPersistedStrategy = checkPersistedStrategy;
exports.createStrategyActor = createStrategyActor;
const xstate_1 = require("xstate");
const createStrategyMachine_js_1 = require("../machines/createStrategyMachine.js");
const errors_js_1 = require("../machines/errors.js");
const states_js_1 = require("../machines/states.js");
const validateEvent_js_1 = require("../machines/validateEvent.js");
const clock_js_1 = require("./clock.js");
const time_js_1 = require("./time.js");
/** Triggers a failing hook must never block: their hooks run after the transition. */
const SAFETY_TRIGGERS = ['SYSTEM_ERROR', 'EMERGENCY_EXIT'];
function hookList(hooks, record, moved) {
    const list = [];
    const { previousState: from, currentState: to } = record;
    if (moved && hooks.onExit?.[from])
        list.push([`onExit(${from})`, hooks.onExit[from]]);
    if (hooks.onTransition)
        list.push(['onTransition', hooks.onTransition]);
    if (moved && hooks.onEnter?.[to])
        list.push([`onEnter(${to})`, hooks.onEnter[to]]);
    return list;
}
function hasHooks(hooks) {
    return Boolean(hooks.onTransition || Object.keys(hooks.onEnter ?? {}).length || Object.keys(hooks.onExit ?? {}).length);
}
/** Runs the hooks of a transition; returns the failing hook and its message, or null. */
function runHooks(hooks, strategyId, record, context, moved) {
    for (const [name, hook] of hookList(hooks, record, moved)) {
        try {
            hook({ strategyId, record, context });
        }
        catch (error) {
            return { hook: name, message: error instanceof Error ? error.message : String(error) };
        }
    }
    return null;
}
/**
 * Wraps a strategy machine's actor, root or spawned child, with validated triggers, hooks,
 * listeners and the audit trail. Call before the actor starts so no record is missed.
 */
function attachStrategy(machine, actorRef, options) {
    const def = (0, createStrategyMachine_js_1.definitionOf)(machine);
    const { id, clock } = options;
    const hooks = options.hooks ?? def?.hooks ?? {};
    const withHooks = hasHooks(hooks);
    const trail = options.auditTrail ?? [];
    const listeners = new Set(options.listeners ?? []);
    let inTrigger = false;
    // True while this strategy runs hooks, processes an event or notifies listeners: a trigger on
    // the same strategy from inside one of those cannot answer synchronously, so it is refused.
    let busy = false;
    const notify = (record) => {
        if (listeners.size === 0)
            return;
        const notice = { strategyId: id, record, event: { ...record.data, type: record.trigger } };
        for (const listener of listeners) {
            try {
                listener(notice);
            }
            catch (error) {
                (options.onListenerError ?? ((e) => console.error(`strategy ${id}: transition listener threw`, e)))(error, notice);
            }
        }
    };
    actorRef.on('transition', ({ record }) => {
        const wasBusy = busy;
        busy = true;
        try {
            onRecord(record);
        }
        finally {
            busy = wasBusy;
        }
    });
    /** The context as it was before the record being processed: what after-the-fact hooks see. */
    let contextBefore = actorRef.getSnapshot().context;
    /** Set while a safety trigger is delivered: its hooks run after it and cannot abort it. */
    let hooksAfter = false;
    const onRecord = (record) => {
        trail.push(record);
        // Deadline-driven transitions happen outside trigger(), and safety triggers (SYSTEM_ERROR,
        // EMERGENCY_EXIT) must never be blocked by a hook: their hooks run after the fact, and a
        // failure is still audited and counted, but the transition stands.
        if ((!inTrigger || hooksAfter) && withHooks && record.accepted && record.code === undefined) {
            const failure = runHooks(hooks, id, record, contextBefore, record.previousState !== record.currentState || record.reentered === true);
            if (failure)
                actorRef.send({ type: 'lifecycle.hookFailed', hook: failure.hook, trigger: record.trigger, message: failure.message, after: true, at: record.at });
        }
        contextBefore = actorRef.getSnapshot().context;
        notify(record);
    };
    const lastSeq = () => actorRef.getSnapshot().context.lastRecord?.seq ?? 0;
    /** A trigger that was not delivered: a result with a record that is not part of the trail. */
    const undelivered = (snapshot, code, reason) => {
        const state = (0, states_js_1.topLevelState)(snapshot.value);
        const at = clock.now();
        const record = { seq: 0, timestamp: (0, time_js_1.toMarketIso)(at), at, previousState: state, currentState: state, trigger: '(not delivered)', data: {}, message: reason, accepted: false, reason, code };
        return { accepted: false, from: state, to: state, reason, code, record };
    };
    const stoppedResult = (snapshot) => undelivered(snapshot, 'ACTOR_STOPPED', `strategy ${id} is not running (${snapshot.status})`);
    /** The result of the first record written since `seqBefore` (later ones are follow-ups, e.g. a failed hook). */
    const resultOf = (seqBefore, error) => {
        const snapshot = actorRef.getSnapshot();
        const last = snapshot.context.lastRecord;
        if (!last || last.seq === seqBefore)
            return stoppedResult(snapshot);
        const record = trail[trail.length - (last.seq - seqBefore)] ?? last;
        const result = { accepted: record.accepted, from: record.previousState, to: record.currentState, record };
        if (record.reason !== undefined)
            result.reason = record.reason;
        if (record.code !== undefined)
            result.code = record.code;
        if (error)
            result.error = error;
        return result;
    };
    const send = (event) => {
        inTrigger = true;
        try {
            actorRef.send(event);
        }
        finally {
            inTrigger = false;
        }
    };
    const triggerGated = (input, gate) => {
        if (busy) {
            return undelivered(actorRef.getSnapshot(), 'REENTRANT_TRIGGER', `trigger() on ${id} from inside its own hook or transition listener cannot answer synchronously: defer it (queueMicrotask, setImmediate or the clock)`);
        }
        busy = true;
        try {
            return deliver(input, gate);
        }
        finally {
            busy = false;
        }
    };
    /**
     * Decides what a trigger sends into the machine, without changing anything: the event itself,
     * or the rejection or hook failure that replaces it. Hooks run here, before any commit.
     */
    const prepare = (input, gate) => {
        const seqBefore = lastSeq();
        if (actorRef.getSnapshot().status !== 'active')
            return { kind: 'undelivered', result: stoppedResult(actorRef.getSnapshot()) };
        const at = clock.now();
        const validation = (0, validateEvent_js_1.validateEvent)(input);
        if (!validation.ok) {
            return { kind: 'event', seqBefore, hooksAfter: false, error: validation.error, event: { type: 'lifecycle.rejected', trigger: (0, validateEvent_js_1.sentType)(input), reason: validation.error.message, code: 'INVALID_EVENT', at } };
        }
        const event = { ...validation.event, at };
        const snapshot = actorRef.getSnapshot();
        const context = snapshot.context;
        const { type, eventId, at: _at, ...data } = event;
        if (eventId !== undefined && context.recentEventIds.includes(eventId)) {
            return { kind: 'event', seqBefore, hooksAfter: false, event: { type: 'lifecycle.rejected', trigger: type, reason: `duplicate eventId "${eventId}": already applied to ${id}`, code: 'DUPLICATE_EVENT', data, at, eventId } };
        }
        const refusal = gate?.((0, states_js_1.topLevelState)(snapshot.value), event, context);
        if (refusal) {
            return { kind: 'event', seqBefore, hooksAfter: false, event: { type: 'lifecycle.rejected', trigger: type, reason: refusal.reason, code: refusal.code, data, at, ...(eventId !== undefined ? { eventId } : {}) } };
        }
        if (withHooks && SAFETY_TRIGGERS.includes(event.type))
            return { kind: 'event', seqBefore, hooksAfter: true, event };
        if (withHooks) {
            // Hooks run before the commit, on the transition XState computes purely from the same
            // snapshot and event; a throw aborts it so the state stays where it was.
            const next = (0, xstate_1.getNextSnapshot)(machine, snapshot, event);
            const planned = next.context.lastRecord;
            if (planned && planned.seq > seqBefore && planned.accepted) {
                const moved = planned.previousState !== planned.currentState || planned.reentered === true;
                const failure = runHooks(hooks, id, planned, context, moved);
                if (failure) {
                    return { kind: 'event', seqBefore, hooksAfter: false, event: { type: 'lifecycle.hookFailed', hook: failure.hook, trigger: event.type, message: failure.message, at } };
                }
            }
        }
        return { kind: 'event', seqBefore, hooksAfter: false, event };
    };
    /** Sends what {@link prepare} decided and answers with the record it wrote. */
    const commit = (prepared) => {
        if (prepared.kind === 'undelivered')
            return prepared.result;
        if (lastSeq() !== prepared.seqBefore) {
            return undelivered(actorRef.getSnapshot(), 'REENTRANT_TRIGGER', `strategy ${id} moved on since this trigger was prepared: prepare it again`);
        }
        hooksAfter = prepared.hooksAfter;
        try {
            send(prepared.event);
        }
        finally {
            hooksAfter = false;
        }
        return resultOf(prepared.seqBefore, prepared.error);
    };
    const deliver = (input, gate) => commit(prepare(input, gate));
    return {
        id,
        machine,
        actorRef: actorRef,
        clock,
        get state() {
            return (0, states_js_1.topLevelState)(actorRef.getSnapshot().value);
        },
        trigger: options.directTrigger === false
            ? () => undelivered(actorRef.getSnapshot(), 'STORE_REQUIRED', `strategy ${id} is persisted: send its events through the system, which writes them first`)
            : (event) => triggerGated(event, undefined),
        triggerGated,
        prepare: (event, gate) => {
            if (busy)
                return { kind: 'undelivered', result: undelivered(actorRef.getSnapshot(), 'REENTRANT_TRIGGER', `prepare() on ${id} from inside its own hook or listener`) };
            busy = true;
            try {
                return prepare(event, gate);
            }
            finally {
                busy = false;
            }
        },
        commit: (prepared) => {
            busy = true;
            try {
                return commit(prepared);
            }
            finally {
                busy = false;
            }
        },
        getSnapshot: () => actorRef.getSnapshot(),
        getAuditTrail: () => trail,
        subscribe(listener) {
            listeners.add(listener);
            return () => listeners.delete(listener);
        },
        getPersistedSnapshot: () => ({
            format: 'strategy-lifecycle/1',
            strategyId: id,
            variant: def?.id ?? machine.id,
            snapshot: structuredClone(actorRef.getPersistedSnapshot()),
            auditTrail: trail.slice(),
        }),
        stop: options.stop ?? (() => actorRef.stop()),
    };
}
/** Checks that `snapshot` is a persisted strategy of `machine`'s variant. */
function checkPersistedStrategy(machine, snapshot) {
    const def = (0, createStrategyMachine_js_1.definitionOf)(machine);
    if (snapshot?.format !== 'strategy-lifecycle/1' || !snapshot.snapshot || !Array.isArray(snapshot.auditTrail)) {
        throw new errors_js_1.SnapshotRestoreError('snapshot is not a strategy-lifecycle/1 persisted strategy');
    }
    if (def && snapshot.variant !== def.id) {
        throw new errors_js_1.SnapshotRestoreError(`snapshot of variant "${snapshot.variant}" cannot restore into machine "${def.id}"`);
    }
}
/**
 * Starts a strategy. `trigger(event)` validates the event, rejects duplicates, runs the user
 * hooks before the transition commits (a hook that throws aborts it and counts one error),
 * and returns a {@link TriggerResult} synchronously.
 *
 * @example
 * ```ts
 * const clock = createSimulatedClock('2026-12-04T09:30:00-05:00');
 * const s = createStrategyActor(createStrategyMachine(strangle), { id: 'strangle-1', clock });
 * s.trigger({ type: 'MARKET_OPEN' });            // INITIALIZING -> READY
 * s.trigger({ type: 'ORDER_FILLED', quantity: 0 }); // rejected: quantity must be a positive whole number
 * const saved = JSON.stringify(s.getPersistedSnapshot());
 * ```
 * @throws {SnapshotRestoreError} when `options.snapshot` is not a snapshot of this variant.
 */
function createStrategyActor(machine, options = {}) {
    const def = (0, createStrategyMachine_js_1.definitionOf)(machine);
    const clock = options.clock ?? clock_js_1.realClock;
    const restored = options.snapshot;
    if (restored !== undefined)
        checkPersistedStrategy(machine, restored);
    const id = restored?.strategyId ?? options.id ?? def?.id ?? machine.id;
    const actorRef = (0, xstate_1.createActor)(machine, {
        clock,
        input: { strategyId: id, params: options.params, createdAt: clock.now() },
        ...(restored ? { snapshot: restored.snapshot } : {}),
        ...(options.inspect ? { inspect: options.inspect } : {}),
        ...(options.systemId ? { systemId: options.systemId } : {}),
    });
    const handle = attachStrategy(machine, actorRef, {
        id,
        clock,
        hooks: options.hooks,
        listeners: options.listeners,
        auditTrail: restored ? restored.auditTrail.slice() : [],
        onListenerError: options.onListenerError,
    });
    // An error observer keeps a failure inside XState from being rethrown into the process.
    actorRef.subscribe({ error: (error) => console.error(`strategy ${id}: actor failed`, error) });
    actorRef.start();
    return handle;
}
//# sourceMappingURL=strategyActor.js.map