"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.orderEffectOf = orderEffectOf;
exports.checkTradingState = checkTradingState;
exports.checkPortfolioLimits = checkPortfolioLimits;
const RISK_EVENTS = ['RISK_LIMIT_EXCEEDED', 'CORRELATION_LIMIT', 'VIX_SPIKE'];
/**
 * Classifies a trigger by the orders it leads to: entering (ANALYZING's ENTRY_CONDITIONS_MET,
 * PENDING_ENTRY's ORDER_SUBMITTED), adjusting (MANAGING's risk events when the variant adjusts,
 * ADJUSTING's ORDER_SUBMITTED) or exiting (PENDING_EXIT's ORDER_SUBMITTED, EMERGENCY_EXIT with a
 * position). Everything else (fills, market events, cancelling a flat entry) produces no order.
 */
function orderEffectOf(state, event, context, canAdjust) {
    const holds = (context.position?.quantity ?? 0) > 0;
    switch (event.type) {
        case 'ENTRY_CONDITIONS_MET':
            return state === 'ANALYZING' ? 'entry' : null;
        case 'ORDER_SUBMITTED':
            return state === 'PENDING_ENTRY' ? 'entry' : state === 'ADJUSTING' ? 'adjustment' : state === 'PENDING_EXIT' ? 'exit' : null;
        case 'EMERGENCY_EXIT':
            return holds ? 'exit' : null;
        default:
            return state === 'MANAGING' && canAdjust && RISK_EVENTS.includes(event.type) ? 'adjustment' : null;
    }
}
/** Refuses what the trading state forbids; null when the trigger may proceed. */
function checkTradingState(tradingState, effect) {
    if (effect === null || tradingState === 'ACTIVE')
        return null;
    if (tradingState === 'REDUCING') {
        return effect === 'entry' ? { code: 'TRADING_REDUCING', reason: 'trading state is REDUCING: entries are rejected, exits and adjustments are allowed' } : null;
    }
    return { code: 'TRADING_HALTED', reason: `trading state is HALTED: every order-producing transition is rejected (this one: ${effect})` };
}
/**
 * Refuses an entry that would exceed a portfolio limit. `slots` maps each strategy holding a slot
 * (from PENDING_ENTRY until it is back in READY or CLOSED) to its correlation group.
 */
function checkPortfolioLimits(slots, limits, strategyId, group) {
    if (slots.has(strategyId))
        return null;
    if (limits.maxOpenPositions !== undefined && slots.size >= limits.maxOpenPositions) {
        return { code: 'CORRELATION_LIMIT', reason: `CORRELATION_LIMIT: ${slots.size} of ${limits.maxOpenPositions} open positions overall are taken` };
    }
    const max = group !== undefined ? limits.maxPerGroup?.[group] : undefined;
    if (max !== undefined) {
        let used = 0;
        for (const g of slots.values())
            if (g === group)
                used++;
        if (used >= max)
            return { code: 'CORRELATION_LIMIT', reason: `CORRELATION_LIMIT: group ${group} holds ${used} of ${max} open positions` };
    }
    return null;
}
//# sourceMappingURL=portfolio.js.map