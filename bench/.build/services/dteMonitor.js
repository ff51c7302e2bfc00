"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.dteMonitor = exports.DEFAULT_SAME_DAY_EXIT = exports.DteMonitorError = void 0;
exports.defensiveExitInstant = defensiveExitInstant;
exports.sameDayExitInstant = sameDayExitInstant;
exports.startDteMonitor = startDteMonitor;
const xstate_1 = require("xstate");
const createStrategyMachine_js_1 = require("../machines/createStrategyMachine.js");
const marketCalendar_js_1 = require("./marketCalendar.js");
const marketClock_js_1 = require("./marketClock.js");
const time_js_1 = require("./time.js");
const timeWindows_js_1 = require("./timeWindows.js");
/**
 * An argument of the DTE rule that cannot be used; names the argument.
 *
 * @example
 * ```ts
 * try { defensiveExitInstant('2026-13-01', 21, 0); } catch (e) { if (e instanceof DteMonitorError) console.log(e.field); } // 'expiry'
 * ```
 */
class DteMonitorError extends Error {
    field;
    problem;
    name = 'DteMonitorError';
    constructor(
    /** `expiry`, `defensiveDte`, `from` or `date`. */
    field, problem) {
        super(`DTE monitor: ${field} ${problem}`);
        this.field = field;
        this.problem = problem;
    }
}
exports.DteMonitorError = DteMonitorError;
function checkFrom(from) {
    if (typeof from !== 'number' || !Number.isFinite(from))
        throw new DteMonitorError('from', `must be epoch milliseconds, got ${String(from)}`);
}
/** The first session on or after the New York date `date` whose open is at or after `from`. */
function firstSessionFrom(date, from, sessions) {
    const today = (0, time_js_1.marketDate)(from);
    for (let day = date > today ? date : today;; day = (0, marketClock_js_1.addCalendarDays)(day, 1)) {
        const session = sessions.session(day);
        if (session && session.open >= from)
            return session;
    }
}
/**
 * When the defensive exit of a position falls due: the first market open at or after both `from`
 * and the New York day on which its DTE (calendar days to `expiry`) reaches `defensiveDte`.
 * A position already inside the rule at `from` is due at the next open.
 *
 * @example
 * ```ts
 * new Date(defensiveExitInstant('2026-12-18', 21, Date.parse('2026-08-20T15:00:00Z'))).toISOString();
 * // '2026-11-27T14:30:00.000Z': 09:30 ET on 2026-11-27, 21 DTE (an early-close day still opens 09:30)
 * ```
 * @throws {DteMonitorError} for a malformed argument; {@link CalendarRangeError} past the calendar's years.
 */
function defensiveExitInstant(expiry, defensiveDte, from, sessions = marketCalendar_js_1.marketCalendar) {
    if (!(0, time_js_1.isIsoDate)(expiry))
        throw new DteMonitorError('expiry', `must be a date written yyyy-MM-dd, got ${JSON.stringify(expiry)}`);
    if (!Number.isInteger(defensiveDte) || defensiveDte < 0)
        throw new DteMonitorError('defensiveDte', `must be a whole number of days >= 0, got ${String(defensiveDte)}`);
    checkFrom(from);
    return firstSessionFrom((0, marketClock_js_1.addCalendarDays)(expiry, -defensiveDte), from, sessions).open;
}
/**
 * The window whose end is the same-day exit when a variant names none: 15:45 ET.
 *
 * @example
 * ```ts
 * startDteMonitor({ strategy, windows: [DEFAULT_SAME_DAY_EXIT] });
 * ```
 */
exports.DEFAULT_SAME_DAY_EXIT = Object.freeze({ name: 'manage', kind: 'manage', start: '09:30', end: '15:45' });
/**
 * When a same-day position (a variant with `defensiveDte: null`) is exited: the end of its
 * `exitWindow` (clipped to an early close) on the first trading day at or after `date`, or `from`
 * when that has passed.
 *
 * @example
 * ```ts
 * new Date(sameDayExitInstant('2026-12-04', Date.parse('2026-12-04T15:40:00Z'))).toISOString(); // '2026-12-04T20:45:00.000Z'
 * ```
 * @throws {TimeWindowError} when `windows` has no window named `exitWindow`.
 */
function sameDayExitInstant(date, from, windows = timeWindows_js_1.TIME_WINDOWS.zeroDte, exitWindow = 'manage', sessions = marketCalendar_js_1.marketCalendar) {
    if (!(0, time_js_1.isIsoDate)(date))
        throw new DteMonitorError('date', `must be a date written yyyy-MM-dd, got ${JSON.stringify(date)}`);
    checkFrom(from);
    const chosen = windows.find((w) => w.name === exitWindow);
    if (!chosen)
        throw new timeWindows_js_1.TimeWindowError(undefined, exitWindow, 'name', `is not one of the windows (${windows.map((w) => w.name).join(', ') || 'none'})`);
    let day = date;
    while (!sessions.session(day))
        day = (0, marketClock_js_1.addCalendarDays)(day, 1);
    const end = (0, timeWindows_js_1.windowInstants)(day, [chosen], sessions)[0]?.end ?? sessions.session(day).close;
    return Math.max(end, from);
}
const positionKey = (p) => (p ? `${p.expiry ?? ''}@${p.openedAt}` : null);
/**
 * Watches one strategy's position and sends its exit signal once per position:
 * DEFENSIVE_EXIT_DTE at {@link defensiveExitInstant}, or for a same-day variant TIME_WINDOW_END
 * (its exit window) at {@link sameDayExitInstant}. It re-arms when the position changes
 * (opened, rolled to a new expiry, closed) by subscribing to the strategy. The event is delivered
 * only in a state that has an edge for it (MANAGING; POSITION_OPEN too for the same-day exit):
 * if it falls due elsewhere (POSITION_OPEN before that day's MARKET_OPEN, ADJUSTING, ERROR,
 * SUSPENDED) it is held and sent as soon as the strategy reaches such a state.
 *
 * @example
 * ```ts
 * const monitor = startDteMonitor({ strategy }); // lt112: DEFENSIVE_EXIT_DTE at the open of the 21-DTE day
 * monitor.dueAt; // epoch ms, once a position with an expiry is held
 * monitor.stop();
 * ```
 * @throws what the first computation throws (e.g. {@link CalendarRangeError} for a held expiry past 2028).
 */
function startDteMonitor(options) {
    const { strategy } = options;
    const clock = options.clock ?? strategy.clock;
    const def = (0, createStrategyMachine_js_1.definitionOf)(strategy.machine);
    // `null` is a setting (the same-day rule), not a missing value: only a foreign machine gets the default 21.
    const defensiveDte = options.defensiveDte !== undefined ? options.defensiveDte : def ? def.defensiveDte : 21;
    const rule = defensiveDte === null ? 'sameDay' : 'defensiveDte';
    const exitWindow = options.exitWindow ?? 'manage';
    const variantWindows = def ? timeWindows_js_1.TIME_WINDOWS[def.id] : undefined;
    const windows = options.windows ?? (variantWindows?.some((w) => w.name === exitWindow) ? variantWindows : [{ ...exports.DEFAULT_SAME_DAY_EXIT, name: exitWindow }]);
    const states = rule === 'sameDay' ? ['POSITION_OPEN', 'MANAGING'] : ['MANAGING'];
    const onError = options.onError ?? ((error) => console.error(`dteMonitor ${strategy.id}:`, error));
    const sessions = options.sessions ?? (0, marketClock_js_1.createSessionCache)();
    let watched = null; // the position the timer is for
    let sentFor = null; // the position whose exit was delivered
    let dueAt = null;
    let held = false; // fell due outside `states`: deliver on the next entry into one
    let cancel = null;
    let stopped = false;
    const eventFor = (position) => {
        if (rule === 'sameDay')
            return { type: 'TIME_WINDOW_END', window: exitWindow };
        const dte = position.expiry ? (0, time_js_1.daysToExpiry)(position.expiry, clock.now()) : -1;
        return dte >= 0 ? { type: 'DEFENSIVE_EXIT_DTE', dte } : { type: 'DEFENSIVE_EXIT_DTE' };
    };
    const deliver = () => {
        cancel = null;
        const position = strategy.getSnapshot().context.position;
        if (stopped || !position || positionKey(position) !== watched)
            return;
        if (!states.includes(strategy.state)) {
            held = true;
            return;
        }
        held = false;
        dueAt = null;
        sentFor = watched;
        strategy.trigger(eventFor(position));
    };
    const check = () => {
        const position = strategy.getSnapshot().context.position;
        const key = positionKey(position);
        if (key !== watched) {
            cancel?.();
            cancel = null;
            held = false;
            dueAt = null;
            watched = key;
            if (!position || key === sentFor)
                return;
            const now = clock.now();
            if (rule === 'sameDay') {
                dueAt = sameDayExitInstant(position.expiry ?? (0, time_js_1.marketDate)(position.openedAt), now, windows, exitWindow, sessions);
            }
            else if (position.expiry) {
                dueAt = defensiveExitInstant(position.expiry, defensiveDte, now, sessions);
            }
            if (dueAt !== null)
                cancel = (0, marketClock_js_1.scheduleAt)(clock, dueAt, deliver);
        }
        else if (held && !cancel && states.includes(strategy.state)) {
            // Called from inside the strategy's transition: send from a fresh timer, not re-entrantly.
            cancel = (0, marketClock_js_1.scheduleAt)(clock, clock.now(), deliver);
        }
    };
    check();
    const unsubscribe = strategy.subscribe(() => {
        if (stopped)
            return;
        try {
            check();
        }
        catch (error) {
            onError(error);
        }
    });
    return {
        rule,
        get dueAt() {
            return dueAt;
        },
        stop() {
            stopped = true;
            unsubscribe();
            cancel?.();
            cancel = null;
            dueAt = null;
        },
    };
}
/**
 * {@link startDteMonitor} as an XState callback actor, for a coordinator machine that invokes one
 * per strategy (the inspector then shows it).
 *
 * @example
 * ```ts
 * setup({ actors: { dteMonitor } }).createMachine({ invoke: { src: 'dteMonitor', input: { strategy } } });
 * ```
 */
exports.dteMonitor = (0, xstate_1.fromCallback)(({ input }) => {
    const monitor = startDteMonitor(input);
    return () => monitor.stop();
});
//# sourceMappingURL=dteMonitor.js.map