"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.strangle = void 0;
const dte_js_1 = require("../../guards/dte.js");
const entry_js_1 = require("../../guards/entry.js");
/**
 * Short strangle opened 45-90 DTE with VIX 15-45, exited at 21 DTE. It can adjust: a risk event
 * (RISK_LIMIT_EXCEEDED, CORRELATION_LIMIT, VIX_SPIKE) leads to ADJUSTING, which has substates:
 * ROLLING (choosing the roll) and AWAITING_FILL once the roll order is submitted.
 */
exports.strangle = {
    id: 'strangle',
    name: 'Short strangle',
    description: 'Short strangle opened at 45-90 DTE, adjusted on risk, closed at 21 DTE.',
    entryGuards: [(0, dte_js_1.isDteInBand)({ min: 45, max: 90 }), (0, entry_js_1.isVixInRange)({ min: 15, max: 45 })],
    defensiveDte: 21,
    canAdjust: true,
    correlationGroup: 'us-equity-index',
    substates: {
        ADJUSTING: {
            initial: 'ROLLING',
            states: ['ROLLING', 'AWAITING_FILL'],
            edges: [{ from: 'ROLLING', on: ['ORDER_SUBMITTED'], to: 'AWAITING_FILL', why: 'roll order submitted' }],
        },
    },
};
//# sourceMappingURL=strangle.js.map