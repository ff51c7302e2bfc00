"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.timeWindows = exports.TimeWindowError = exports.WINDOW_AUDIENCE = exports.TIME_WINDOWS = void 0;
exports.validateWindows = validateWindows;
exports.windowsFor = windowsFor;
exports.windowInstants = windowInstants;
exports.windowsOpenAt = windowsOpenAt;
exports.nextWindowBell = nextWindowBell;
exports.isWindowEventFor = isWindowEventFor;
exports.startTimeWindows = startTimeWindows;
const xstate_1 = require("xstate");
const clock_js_1 = require("./clock.js");
const marketCalendar_js_1 = require("./marketCalendar.js");
const marketClock_js_1 = require("./marketClock.js");
const time_js_1 = require("./time.js");
/**
 * The windows of each variant, by variant id. The zeroDte entry window matches its
 * `isInsideEntryWindow` guard; its manage window ends 15:45 ET, when the position is exited.
 *
 * @example
 * ```ts
 * TIME_WINDOWS.zeroDte.map((w) => `${w.name} ${w.start}-${w.end}`); // ['entry 10:30-14:30', 'manage 10:30-15:45']
 * ```
 */
exports.TIME_WINDOWS = Object.freeze({
    zeroDte: Object.freeze([
        { name: 'entry', kind: 'entry', start: '10:30', end: '14:30' },
        { name: 'manage', kind: 'manage', start: '10:30', end: '15:45' },
    ]),
    lt112: Object.freeze([{ name: 'entry', kind: 'entry', start: '10:00', end: '15:00' }]),
    strangle: Object.freeze([{ name: 'entry', kind: 'entry', start: '10:00', end: '15:00' }]),
});
/**
 * The states each window event means something in (the edge table has a row for it there).
 * Senders that route by state use it so a manage window never ends an entry and vice versa.
 *
 * @example
 * ```ts
 * WINDOW_AUDIENCE.manage.end; // ['POSITION_OPEN', 'MANAGING']
 * ```
 */
exports.WINDOW_AUDIENCE = Object.freeze({
    entry: { start: ['READY'], end: ['ANALYZING', 'PENDING_ENTRY'] },
    manage: { start: ['POSITION_OPEN'], end: ['POSITION_OPEN', 'MANAGING'] },
});
/**
 * A window table, variant or window that cannot be used; names the variant, window and field.
 *
 * @example
 * ```ts
 * try { windowsFor('weekly'); } catch (e) { if (e instanceof TimeWindowError) console.log(e.variant, e.field); } // 'weekly' 'variant'
 * ```
 */
class TimeWindowError extends Error {
    variant;
    window;
    field;
    problem;
    name = 'TimeWindowError';
    constructor(
    /** The variant id, when known. */
    variant, 
    /** The window's name, or '' for the variant as a whole. */
    window, 
    /** `variant`, `name`, `kind`, `start` or `end`. */
    field, problem) {
        super(`time window ${variant ?? '(custom)'}${window ? `.${window}` : ''}: ${field} ${problem}`);
        this.variant = variant;
        this.window = window;
        this.field = field;
        this.problem = problem;
    }
}
exports.TimeWindowError = TimeWindowError;
const SESSION = { open: 9 * 60 + 30, close: 16 * 60 };
function minutesOf(hhmm) {
    const m = typeof hhmm === 'string' ? /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm) : null;
    return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}
/**
 * Checks a list of windows; throws {@link TimeWindowError} for the first bad field.
 *
 * @example
 * ```ts
 * validateWindows([{ name: 'entry', kind: 'entry', start: '15:00', end: '10:00' }]); // throws: end must be after start
 * ```
 */
function validateWindows(windows, variant) {
    const names = new Set();
    for (const w of windows) {
        const fail = (field, problem) => {
            throw new TimeWindowError(variant, typeof w?.name === 'string' ? w.name : '', field, problem);
        };
        if (typeof w?.name !== 'string' || w.name.trim() === '')
            fail('name', 'must be a non-empty string');
        if (names.has(w.name))
            fail('name', 'is used twice');
        names.add(w.name);
        if (w.kind !== 'entry' && w.kind !== 'manage')
            fail('kind', `must be 'entry' or 'manage', got ${String(w.kind)}`);
        const start = minutesOf(w.start);
        const end = minutesOf(w.end);
        if (start === null)
            fail('start', `must be HH:mm (New York time), got ${JSON.stringify(w.start)}`);
        if (end === null)
            fail('end', `must be HH:mm (New York time), got ${JSON.stringify(w.end)}`);
        if (start < SESSION.open || start >= SESSION.close)
            fail('start', `${w.start} is outside the regular session 09:30-16:00 ET`);
        if (end <= start)
            fail('end', `${w.end} must be after start ${w.start}`);
        if (end > SESSION.close)
            fail('end', `${w.end} is after the regular close 16:00 ET`);
    }
    return windows;
}
/**
 * The windows of a variant from `table` (default {@link TIME_WINDOWS}), validated.
 *
 * @example
 * ```ts
 * windowsFor('lt112'); // [{ name: 'entry', kind: 'entry', start: '10:00', end: '15:00' }]
 * ```
 * @throws {TimeWindowError} when the table has no windows for `variantId`.
 */
function windowsFor(variantId, table = exports.TIME_WINDOWS) {
    const windows = Object.prototype.hasOwnProperty.call(table, variantId) ? table[variantId] : undefined;
    if (!windows)
        throw new TimeWindowError(variantId, '', 'variant', `has no time windows (known: ${Object.keys(table).join(', ')})`);
    return validateWindows(windows, variantId);
}
/**
 * The windows of one New York date as instants: none on weekends and holidays; on an early-close
 * day a window ends at the close (13:00 ET) and one that would start after it is dropped.
 *
 * @example
 * ```ts
 * windowInstants('2026-11-27', TIME_WINDOWS.zeroDte)[1]; // manage: 10:30 ET - 13:00 ET (clipped: true)
 * ```
 * @throws {CalendarRangeError} for a date outside the calendar's years.
 */
function windowInstants(date, windows, sessions = marketCalendar_js_1.marketCalendar) {
    const session = sessions.session(date);
    if (!session)
        return [];
    // Offsets from the 09:30 open: no DST switch ever happens during a session.
    const at = (hhmm) => session.open + ((minutesOf(hhmm) ?? SESSION.open) - SESSION.open) * 60_000;
    const out = [];
    for (const w of windows) {
        const start = at(w.start);
        const end = at(w.end);
        if (start >= session.close)
            continue;
        out.push({ name: w.name, kind: w.kind, date, start, end: Math.min(end, session.close), clipped: end > session.close });
    }
    return out;
}
/**
 * The windows open at `at` (start <= at < end) on its New York date.
 *
 * @example
 * ```ts
 * windowsOpenAt(Date.parse('2026-12-04T11:00:00-05:00'), TIME_WINDOWS.zeroDte).map((w) => w.name); // ['entry', 'manage']
 * ```
 */
function windowsOpenAt(at, windows, sessions = marketCalendar_js_1.marketCalendar) {
    return windowInstants((0, time_js_1.marketDate)(at), windows, sessions).filter((w) => w.start <= at && at < w.end);
}
/**
 * The window boundaries at the first instant at or after `from` that has any; null for no windows.
 *
 * @example
 * ```ts
 * nextWindowBell(Date.parse('2026-12-04T10:00:00-05:00'), TIME_WINDOWS.zeroDte)!.events.map((e) => e.event);
 * // [{ type: 'TIME_WINDOW_START', window: 'entry' }, { type: 'TIME_WINDOW_START', window: 'manage' }]
 * ```
 */
function nextWindowBell(from, windows, sessions = marketCalendar_js_1.marketCalendar) {
    if (windows.length === 0)
        return null;
    let session = sessions.nextSession(from - 1);
    for (;;) {
        const events = [];
        let first = Infinity;
        const instants = windowInstants(session.date, windows, sessions);
        for (const kind of ['TIME_WINDOW_END', 'TIME_WINDOW_START']) {
            for (const window of instants) {
                const at = kind === 'TIME_WINDOW_END' ? window.end : window.start;
                if (at < from || at > first)
                    continue;
                if (at < first)
                    events.length = 0;
                first = at;
                events.push({ event: { type: kind, window: window.name }, window });
            }
        }
        if (events.length > 0)
            return { at: first, events };
        session = sessions.nextSession(session.close);
    }
}
/**
 * True when `event` means something to a strategy in `state` (see {@link WINDOW_AUDIENCE}).
 *
 * @example
 * ```ts
 * isWindowEventFor('TIME_WINDOW_END', 'entry', 'MANAGING'); // false: an entry window never exits a position
 * ```
 */
function isWindowEventFor(type, kind, state) {
    const audience = exports.WINDOW_AUDIENCE[kind];
    return (type === 'TIME_WINDOW_START' ? audience.start : audience.end).includes(state);
}
/**
 * Sends TIME_WINDOW_START / TIME_WINDOW_END (with the window's name) at each boundary of the
 * windows on every trading day, one instant at a time on `clock`. A scheduler started inside a
 * window sends only its end.
 *
 * @example
 * ```ts
 * const windows = startTimeWindows({ clock, windows: windowsFor('zeroDte'), target: (e) => strategy.trigger(e) });
 * windows.stop();
 * ```
 * @throws {TimeWindowError} for an invalid window.
 */
function startTimeWindows(options) {
    const windows = validateWindows(options.windows);
    const sessions = options.sessions ?? (0, marketClock_js_1.createSessionCache)();
    return (0, marketClock_js_1.scheduleBells)({
        clock: options.clock,
        nextBell: (from) => nextWindowBell(from, windows, sessions),
        ring: (bell) => {
            for (const { event, window } of bell.events)
                options.target(event, window);
        },
        ...(options.onError ? { onError: options.onError } : {}),
    });
}
/**
 * {@link startTimeWindows} as an XState callback actor (visible to the inspector).
 *
 * @example
 * ```ts
 * setup({ actors: { timeWindows } }).createMachine({ invoke: { src: 'timeWindows', input: { windows: TIME_WINDOWS.lt112 } } });
 * ```
 */
exports.timeWindows = (0, xstate_1.fromCallback)(({ input, system, sendBack }) => {
    const schedule = startTimeWindows({
        clock: input.clock ?? (0, clock_js_1.clockOf)(system),
        windows: input.windows,
        target: input.target ?? ((event) => sendBack(event)),
        ...(input.onError ? { onError: input.onError } : {}),
    });
    return () => schedule.stop();
});
//# sourceMappingURL=timeWindows.js.map