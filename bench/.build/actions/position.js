"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.applyEntryFill = applyEntryFill;
exports.applyExitFill = applyExitFill;
exports.applyAdjustmentFill = applyAdjustmentFill;
const types_js_1 = require("../guards/types.js");
function isFill(event) {
    return event.type === 'ORDER_FILLED' || event.type === 'ORDER_PARTIALLY_FILLED';
}
/** An entry fill grows the position (quantity, expiry, legs, average price). */
function applyEntryFill(context, event) {
    if (!isFill(event))
        return {};
    const old = context.position;
    const oldQty = old?.quantity ?? 0;
    const quantity = oldQty + event.quantity;
    const position = { quantity, openedAt: old?.openedAt ?? (0, types_js_1.eventTime)(event) };
    const expiry = event.expiry ?? old?.expiry;
    if (expiry !== undefined)
        position.expiry = expiry;
    const legs = event.legs ?? old?.legs;
    if (legs !== undefined)
        position.legs = legs;
    const underlying = event.underlying ?? old?.underlying;
    if (underlying !== undefined)
        position.underlying = underlying;
    if (event.price !== undefined) {
        position.entryPrice = old?.entryPrice !== undefined ? (old.entryPrice * oldQty + event.price * event.quantity) / quantity : event.price;
    }
    else if (old?.entryPrice !== undefined) {
        position.entryPrice = old.entryPrice;
    }
    return { position };
}
/** An exit fill shrinks what remains open; at zero the strategy is flat. */
function applyExitFill(context, event) {
    if (!isFill(event) || !context.position)
        return {};
    const quantity = context.position.quantity - event.quantity;
    return { position: quantity > 0 ? { ...context.position, quantity } : null };
}
/** An adjustment fill may roll the position: a new expiry or legs replace the old ones. */
function applyAdjustmentFill(context, event) {
    if (event.type !== 'ORDER_FILLED' || !context.position)
        return {};
    if (event.expiry === undefined && event.legs === undefined)
        return {};
    const position = { ...context.position };
    if (event.expiry !== undefined)
        position.expiry = event.expiry;
    if (event.legs !== undefined)
        position.legs = event.legs;
    return { position };
}
//# sourceMappingURL=position.js.map