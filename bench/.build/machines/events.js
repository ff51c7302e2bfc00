"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.STRATEGY_EVENT_TYPES = void 0;
exports.isStrategyEventType = isStrategyEventType;
/** Every event type a caller may send, as in the spec (SCREAMING_CASE). */
exports.STRATEGY_EVENT_TYPES = [
    'MARKET_OPEN',
    'MARKET_CLOSE',
    'TIME_WINDOW_START',
    'TIME_WINDOW_END',
    'ENTRY_CONDITIONS_MET',
    'ENTRY_CONDITIONS_FAILED',
    'ORDER_SUBMITTED',
    'ORDER_FILLED',
    'ORDER_PARTIALLY_FILLED',
    'ORDER_REJECTED',
    'VIX_SPIKE',
    'MARGIN_CALL',
    'RISK_LIMIT_EXCEEDED',
    'CORRELATION_LIMIT',
    'DEFENSIVE_EXIT_DTE',
    'EARNINGS_APPROACHING',
    'FOMC_MEETING',
    'MANUAL_OVERRIDE',
    'SYSTEM_ERROR',
    'EMERGENCY_EXIT',
    'RESET',
    'RESUME',
    'TERMINATE',
];
/** True when `type` is a public event type. */
function isStrategyEventType(type) {
    return typeof type === 'string' && exports.STRATEGY_EVENT_TYPES.includes(type);
}
//# sourceMappingURL=events.js.map