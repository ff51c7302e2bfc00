"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.MARKET_ZONE = void 0;
exports.toMarketIso = toMarketIso;
exports.marketDate = marketDate;
exports.isIsoDate = isIsoDate;
exports.daysToExpiry = daysToExpiry;
exports.formatDuration = formatDuration;
const luxon_1 = require("luxon");
/** The exchange time zone: every session, window and DTE is counted in it. */
exports.MARKET_ZONE = 'America/New_York';
/** `at` (epoch ms) as an ISO 8601 string in New York time, with its offset. */
function toMarketIso(at) {
    return luxon_1.DateTime.fromMillis(at, { zone: exports.MARKET_ZONE }).toISO() ?? new Date(at).toISOString();
}
/** The New York calendar date (`yyyy-MM-dd`) of `at`. */
function marketDate(at) {
    return luxon_1.DateTime.fromMillis(at, { zone: exports.MARKET_ZONE }).toISODate() ?? '';
}
/** True when `value` is a real calendar date written `yyyy-MM-dd`. */
function isIsoDate(value) {
    return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && luxon_1.DateTime.fromISO(value, { zone: exports.MARKET_ZONE }).isValid;
}
/**
 * Days to expiry as options traders count them: whole calendar days from the New York date
 * of `at` to the expiry date (an option expiring today has DTE 0).
 */
function daysToExpiry(expiry, at) {
    const today = luxon_1.DateTime.fromMillis(at, { zone: exports.MARKET_ZONE }).startOf('day');
    const exp = luxon_1.DateTime.fromISO(expiry, { zone: exports.MARKET_ZONE }).startOf('day');
    return Math.round(exp.diff(today, 'days').days);
}
/** A duration written the way the audit trail shows it: `5m0s`, `1h30m0s`, `0s`. */
function formatDuration(ms) {
    const total = Math.max(0, Math.round(ms / 1000));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
}
//# sourceMappingURL=time.js.map