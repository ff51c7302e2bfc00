"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.SIMULATION_DTE_BANDS = void 0;
exports.monthlyExpiry = monthlyExpiry;
exports.candidateExpiry = candidateExpiry;
exports.simulatedVix = simulatedVix;
const luxon_1 = require("luxon");
const marketCalendar_js_1 = require("./marketCalendar.js");
const time_js_1 = require("./time.js");
/**
 * The DTE band each variant's candidate expiry is picked from (its `isDteInBand` entry rule);
 * `max: 0` means same-day options.
 *
 * @example
 * ```ts
 * SIMULATION_DTE_BANDS.lt112; // { min: 112, max: 120 }
 * ```
 */
exports.SIMULATION_DTE_BANDS = Object.freeze({
    zeroDte: { min: 0, max: 0 },
    lt112: { min: 112, max: 120 },
    strangle: { min: 45, max: 90 },
});
/**
 * The standard monthly expiry of a month: its third Friday, or the trading day before when that
 * Friday is a holiday (June 2026: Juneteenth on the 19th, so 2026-06-18).
 *
 * @example
 * ```ts
 * monthlyExpiry(2026, 12); // '2026-12-18'
 * ```
 */
function monthlyExpiry(year, month) {
    const first = luxon_1.DateTime.fromObject({ year, month, day: 1 }, { zone: time_js_1.MARKET_ZONE });
    const friday = first.plus({ days: ((5 - first.weekday + 7) % 7) + 14 }).toISODate();
    try {
        return marketCalendar_js_1.marketCalendar.isTradingDay(friday) ? friday : marketCalendar_js_1.marketCalendar.previousTradingDay(friday);
    }
    catch (error) {
        if (error instanceof marketCalendar_js_1.CalendarRangeError)
            return friday; // beyond the calendar: the unadjusted Friday
        throw error;
    }
}
/**
 * The expiry a simulated market offers at `at`: the first monthly expiry whose DTE is inside
 * `band`, else the one nearest to it (the variant's guard then rejects it); today for `max: 0`.
 *
 * @example
 * ```ts
 * candidateExpiry(Date.parse('2026-08-24T14:00:00Z'), { min: 112, max: 120 }); // '2026-12-18' (116 DTE)
 * ```
 */
function candidateExpiry(at, band) {
    const today = (0, time_js_1.marketDate)(at);
    if (band.max <= 0)
        return today;
    let best = '';
    let bestDistance = Infinity;
    const start = luxon_1.DateTime.fromISO(today, { zone: time_js_1.MARKET_ZONE });
    for (let k = 0; k <= 24; k++) {
        const month = start.plus({ months: k });
        const expiry = monthlyExpiry(month.year, month.month);
        const dte = (0, time_js_1.daysToExpiry)(expiry, at);
        const distance = dte < band.min ? band.min - dte : dte > band.max ? dte - band.max : 0;
        if (distance < bestDistance)
            [best, bestDistance] = [expiry, distance];
        if (distance === 0 || dte > band.max)
            break;
    }
    return best;
}
/**
 * A deterministic daily VIX series: mean-reverting around 18 with rare spikes, from a seeded PRNG
 * (mulberry32). The same seed and days give the same series.
 *
 * @example
 * ```ts
 * simulatedVix(7, ['2026-01-02', '2026-01-05']).get('2026-01-05'); // e.g. 17.42
 * ```
 */
function simulatedVix(seed, days) {
    let state = seed >>> 0;
    const random = () => {
        state = (state + 0x6d2b79f5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const out = new Map();
    let vix = 18;
    for (const day of days) {
        const gauss = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
        vix += 0.15 * (18 - vix) + 1.6 * gauss + (random() < 0.02 ? 10 : 0);
        vix = Math.min(80, Math.max(9, vix));
        out.set(day, Math.round(vix * 100) / 100);
    }
    return out;
}
//# sourceMappingURL=simulatedMarket.js.map