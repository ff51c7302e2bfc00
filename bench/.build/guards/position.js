"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.isOverrideTargetLegal = exports.isExitFillPartial = exports.isExitFillComplete = exports.isFlat = exports.hasOpenPosition = void 0;
exports.openQuantity = openQuantity;
exports.isLegalStateFor = isLegalStateFor;
exports.explainOverride = explainOverride;
const states_js_1 = require("../machines/states.js");
/** Contracts still open (0 when flat). */
function openQuantity(context) {
    return context.position?.quantity ?? 0;
}
/** Passes when the strategy holds an open position. */
const hasOpenPosition = (context) => openQuantity(context) > 0 ? null : 'the strategy holds no position';
exports.hasOpenPosition = hasOpenPosition;
/** Passes when the strategy holds nothing. */
const isFlat = (context) => openQuantity(context) === 0 ? null : `the strategy holds a position of ${openQuantity(context)} contracts: exit first`;
exports.isFlat = isFlat;
function fillQuantity(event) {
    return 'quantity' in event && typeof event.quantity === 'number' ? event.quantity : 0;
}
/** Passes when an exit fill closes exactly what remains open. */
const isExitFillComplete = (context, event) => {
    const fill = fillQuantity(event);
    const open = openQuantity(context);
    if (open === 0)
        return 'there is no open position to exit';
    return fill === open ? null : `an exit fill of ${fill} does not close the ${open} contracts open`;
};
exports.isExitFillComplete = isExitFillComplete;
/** Passes when an exit fill leaves part of the position open. */
const isExitFillPartial = (context, event) => {
    const fill = fillQuantity(event);
    const open = openQuantity(context);
    if (fill < open)
        return null;
    return fill === open
        ? `a partial fill of ${fill} would close all ${open} contracts open: send ORDER_FILLED`
        : `an exit fill of ${fill} exceeds the ${open} contracts open`;
};
exports.isExitFillPartial = isExitFillPartial;
/** True when `target` is a state a strategy may be put in given what it holds. */
function isLegalStateFor(target, holdsPosition) {
    if (!(0, states_js_1.isStrategyState)(target))
        return false;
    return holdsPosition ? states_js_1.POSITION_STATES.includes(target) : states_js_1.FLAT_STATES.includes(target);
}
/** Passes when a MANUAL_OVERRIDE names `params.target` and that state is legal for the position. */
const isOverrideTargetLegal = (context, event, params) => {
    if (event.type !== 'MANUAL_OVERRIDE')
        return 'not a MANUAL_OVERRIDE';
    if (event.target !== params.target)
        return `override target is ${String(event.target)}, not ${params.target}`;
    return explainOverride(context, event.target);
};
exports.isOverrideTargetLegal = isOverrideTargetLegal;
/** Why an override to `target` is refused, or null when it is allowed. */
function explainOverride(context, target) {
    if (!(0, states_js_1.isStrategyState)(target))
        return `MANUAL_OVERRIDE target "${String(target)}" is not a lifecycle state`;
    const open = openQuantity(context);
    if (isLegalStateFor(target, open > 0))
        return null;
    return open > 0
        ? `MANUAL_OVERRIDE to ${target} is illegal while holding a position of ${open} contracts: exit first`
        : `MANUAL_OVERRIDE to ${target} is illegal for a flat strategy: there is no position to manage`;
}
//# sourceMappingURL=position.js.map