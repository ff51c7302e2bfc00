"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.lt112 = void 0;
const dte_js_1 = require("../../guards/dte.js");
const entry_js_1 = require("../../guards/entry.js");
/**
 * LT112: a long-dated put structure opened 112-120 DTE with VIX 12-40, managed until the
 * 21-DTE defensive exit. It does not adjust: a risk event exits.
 */
exports.lt112 = {
    id: 'lt112',
    name: 'LT112 long-dated put structure',
    description: 'Put structure opened at 112-120 DTE, closed by the 21-DTE defensive exit.',
    entryGuards: [(0, dte_js_1.isDteInBand)({ min: 112, max: 120 }), (0, entry_js_1.isVixInRange)({ min: 12, max: 40 })],
    defensiveDte: 21,
    canAdjust: false,
    correlationGroup: 'us-equity-index',
};
//# sourceMappingURL=lt112.js.map