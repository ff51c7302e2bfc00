"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.definitionOf = definitionOf;
exports.createStrategyMachine = createStrategyMachine;
const xstate_1 = require("xstate");
const position_js_1 = require("../actions/position.js");
const audit_js_1 = require("../actions/audit.js");
const errors_js_1 = require("../actions/errors.js");
const dte_js_1 = require("../guards/dte.js");
const errors_js_2 = require("../guards/errors.js");
const position_js_2 = require("../guards/position.js");
const clock_js_1 = require("../services/clock.js");
const deadlineTimer_js_1 = require("../services/deadlineTimer.js");
const buildConfig_js_1 = require("./buildConfig.js");
const definition_js_1 = require("./definition.js");
const DEFINITION = Symbol.for('strategy-lifecycle.definition');
/**
 * The resolved definition a machine was made from (hooks, limits), or undefined for foreign
 * machines. It is kept on the machine's config, which `machine.provide()` carries over.
 */
function definitionOf(machine) {
    return machine?.config?.[DEFINITION];
}
/** Events sent by bare XState users may lack `at`; the actor system's clock supplies it. */
function timed(event, system) {
    return typeof event.at === 'number' ? event : { ...event, at: (0, clock_js_1.clockOf)(system).now() };
}
/** Every named guard of a variant, as checks that explain their failure. */
function guardChecks(def) {
    const checks = {
        hasOpenPosition: // eslint-disable-line @typescript-eslint/no-explicit-any
        position_js_2.hasOpenPosition,
        isFlat: position_js_2.isFlat,
        isExitFillComplete: position_js_2.isExitFillComplete,
        isExitFillPartial: position_js_2.isExitFillPartial,
        isRecoveryDeadline: errors_js_2.isRecoveryDeadline,
        isStuckDeadline: errors_js_2.isStuckDeadline,
        isOverrideTargetLegal: position_js_2.isOverrideTargetLegal,
        canAdjust: () => (def.canAdjust ? null : `${def.id} does not adjust positions`),
        isDteAtOrBelowDefensive: (0, dte_js_1.isDteAtOrBelowDefensive)(def.defensiveDte),
        isErrorLimitReached: (0, errors_js_2.isErrorLimitReached)(def.maxErrors),
    };
    for (const guard of def.entryGuards) {
        // A user guard that throws must not kill the actor: it fails, and says why.
        checks[guard.name] = (context, event) => {
            try {
                return guard.check(context, event, undefined);
            }
            catch (error) {
                return `guard ${guard.name} threw: ${error?.message ?? String(error)}`;
            }
        };
    }
    return checks;
}
function explainRejection(checks, params, context, event) {
    if (event.type === 'MANUAL_OVERRIDE')
        return (0, position_js_2.explainOverride)(context, event.target) ?? 'override refused';
    const reasons = new Set();
    const visit = (ref) => {
        if (Array.isArray(ref))
            return ref.forEach(visit);
        if (typeof ref === 'object')
            return visit(ref.type);
        const names = ref === 'areEntryConditionsMet' ? Object.keys(checks).filter((n) => !definition_js_1.BASE_GUARD_NAMES.includes(n)) : [ref];
        for (const name of names) {
            const why = checks[name]?.(context, event, undefined);
            if (why)
                reasons.add(`${name}: ${why}`);
        }
    };
    params.guards.forEach(visit);
    return `${event.type} rejected in ${params.state}: ${[...reasons].join('; ') || 'guard failed'}`;
}
/**
 * Creates the XState v5 machine of a strategy variant from its definition. Every edge comes from
 * the shared edge table (`machines/edges.ts`) plus the variant's extra edges; guards, actions and
 * the deadline actor are named in `setup()`, so `machine.provide()` can replace them.
 *
 * The result is a plain XState machine: give it to `createActor`, the inspector or `@xstate/graph`,
 * or to {@link createStrategyActor} for validated triggers, hooks and the audit trail.
 *
 * @example
 * ```ts
 * const machine = createStrategyMachine(lt112);
 * const strategy = createStrategyActor(machine, { id: 'lt112-spx-1' });
 * strategy.trigger({ type: 'MARKET_OPEN' }); // { accepted: true, from: 'INITIALIZING', to: 'READY', ... }
 * ```
 * @throws {InvalidDefinitionError} when a setting of the definition is invalid.
 */
function createStrategyMachine(definition) {
    const def = (0, definition_js_1.resolveDefinition)(definition);
    const checks = guardChecks(def);
    const guards = {};
    for (const [name, check] of Object.entries(checks)) {
        guards[name] = ({ context, event }, params) => check(context, event, params) === null;
    }
    const update = (fn) => // eslint-disable-line @typescript-eslint/no-explicit-any
     (0, xstate_1.assign)(({ context, event, system }, params) => fn(context, timed(event, system), params));
    const actions = {
        applyEntryFill: update(position_js_1.applyEntryFill),
        applyExitFill: update(position_js_1.applyExitFill),
        applyAdjustmentFill: update(position_js_1.applyAdjustmentFill),
        countError: update((context, event) => (0, errors_js_1.countError)(context, event, def.maxErrors)),
        countAutoRecovery: update(errors_js_1.countAutoRecovery),
        enterError: update((context, event, params) => (0, errors_js_1.enterError)(context, event, params.from, def)),
        armStuckDeadline: update((_context, event, params) => (0, errors_js_1.armStuckDeadline)(event, params.state, def)),
        clearDeadline: (0, xstate_1.assign)({ deadline: null }),
        resetErrors: (0, xstate_1.assign)({ errorCount: 0 }),
        recordTransition: update((context, event, params) => {
            if (params.mode === 'hookFailure') {
                const hook = event.type === 'lifecycle.hookFailed' ? event : undefined;
                const forced = params.to === 'ERROR' && params.from !== 'ERROR';
                const count = `error ${context.errorCount} of ${def.maxErrors}`;
                return (0, audit_js_1.appendRecord)(context, event, {
                    from: params.from,
                    to: params.to,
                    accepted: false,
                    code: 'HOOK_FAILED',
                    reason: hook?.after
                        ? `hook ${hook.hook} threw after ${hook.trigger} (the transition stands): ${hook.message}; ${count}${forced ? ': forced into ERROR' : ''}`
                        : `${hook?.trigger ?? event.type} aborted: hook ${hook?.hook} threw: ${hook?.message}; ${count}${forced ? ': forced into ERROR' : ''}`,
                    message: forced ? (0, errors_js_1.errorMessage)(context, event, params.from, def) : hook?.after ? `hook failed after ${hook.trigger} in ${params.from}` : `aborted ${hook?.trigger} in ${params.from}`,
                    reentered: false,
                }, def.eventIdWindow);
            }
            const message = params.to === 'ERROR' && params.from !== 'ERROR'
                ? (0, errors_js_1.errorMessage)(context, event, params.from, def)
                : params.detail ?? `${params.from} -> ${params.to} (${params.why})`;
            return (0, audit_js_1.appendRecord)(context, event, { from: params.from, to: params.to, accepted: true, message, reentered: params.reentered }, def.eventIdWindow);
        }),
        rejectNoEdge: update((context, event, params) => (0, audit_js_1.appendRecord)(context, event, (0, audit_js_1.noEdgeRecord)(params.state, event), def.eventIdWindow)),
        rejectGuarded: update((context, event, params) => (0, audit_js_1.appendRecord)(context, event, {
            from: params.state,
            to: params.state,
            accepted: false,
            code: 'GUARD_FAILED',
            reason: explainRejection(checks, params, context, event),
            message: `rejected ${event.type} in ${params.state}`,
        }, def.eventIdWindow)),
        emitRecord: (0, xstate_1.emit)(({ context }) => ({ type: 'transition', record: context.lastRecord })),
    };
    const machine = (0, xstate_1.setup)({
        types: {
            context: {},
            events: {},
            input: {},
            emitted: {},
        },
        actors: { deadlineTimer: deadlineTimer_js_1.deadlineTimer },
        guards,
        // Implementations are generated per variant; setup()'s per-name typing cannot follow them.
        actions: actions,
    }).createMachine({
        ...(0, buildConfig_js_1.buildStrategyConfig)(def),
        context: ({ input, self }) => {
            const createdAt = input?.createdAt ?? (0, clock_js_1.clockOf)(self.system).now();
            return {
                strategyId: input?.strategyId ?? def.id,
                variant: def.id,
                params: input?.params ?? {},
                position: null,
                errorCount: 0,
                lastError: null,
                deadline: null,
                autoRecoveries: { day: '', count: 0 },
                createdAt,
                enteredAt: createdAt,
                stats: { transitions: 0, rejected: 0, timeInState: {} },
                lastRecord: null,
                recentEventIds: [],
            };
        },
    });
    Object.defineProperty(machine.config, DEFINITION, { value: def, enumerable: false });
    return machine;
}
//# sourceMappingURL=createStrategyMachine.js.map