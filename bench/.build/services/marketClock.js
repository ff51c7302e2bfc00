"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.marketClock = exports.MAX_TIMER_MS = void 0;
exports.scheduleAt = scheduleAt;
exports.scheduleBells = scheduleBells;
exports.addCalendarDays = addCalendarDays;
exports.createSessionCache = createSessionCache;
exports.nextMarketBell = nextMarketBell;
exports.startMarketClock = startMarketClock;
exports.toStrategies = toStrategies;
const xstate_1 = require("xstate");
const clock_js_1 = require("./clock.js");
const marketCalendar_js_1 = require("./marketCalendar.js");
const time_js_1 = require("./time.js");
/**
 * The longest delay a Node timer can hold (about 24.8 days); longer waits are re-armed in steps,
 * so a DTE exit months away also works on the real clock.
 *
 * @example
 * ```ts
 * MAX_TIMER_MS / 86_400_000; // 24.855...
 * ```
 */
exports.MAX_TIMER_MS = 2 ** 31 - 1;
/**
 * Calls `fn` once when `clock` reaches `at` (epoch ms), or at once (0 ms timer) if `at` has
 * passed. Waits longer than {@link MAX_TIMER_MS} are split into several timers. Returns the cancel
 * function.
 *
 * @example
 * ```ts
 * const cancel = scheduleAt(clock, Date.parse('2026-11-27T14:30:00Z'), () => console.log('open'));
 * cancel(); // nothing fires
 * ```
 */
function scheduleAt(clock, at, fn) {
    let handle;
    let cancelled = false;
    const arm = () => {
        if (cancelled)
            return;
        const wait = at - clock.now();
        if (wait > exports.MAX_TIMER_MS)
            handle = clock.setTimeout(arm, exports.MAX_TIMER_MS);
        else
            handle = clock.setTimeout(() => (cancelled ? undefined : fn()), Math.max(0, wait));
    };
    arm();
    return () => {
        cancelled = true;
        if (handle !== undefined)
            clock.clearTimeout(handle);
    };
}
const reportToConsole = (error) => console.error('strategy-lifecycle scheduler:', error);
/**
 * Rings bells one at a time on a clock: arms a single timer for the next bell, rings it, then
 * looks up the one after. Bells missed while a real process was asleep are skipped (the next
 * lookup starts at the clock's time), never replayed late. A timer callback never throws:
 * a throwing callback would leave a simulated clock unable to flush.
 *
 * @throws whatever `nextBell` throws for the first lookup (e.g. `CalendarRangeError`); later
 * failures go to `onError`.
 *
 * @example
 * ```ts
 * const schedule = scheduleBells({ clock, nextBell: nextMarketBell, ring: (bell) => console.log(bell.type) });
 * schedule.stop();
 * ```
 */
function scheduleBells(options) {
    const { clock, nextBell, ring } = options;
    const onError = options.onError ?? reportToConsole;
    let next = null;
    let cancel = null;
    let stopped = false;
    const arm = (from, initial = false) => {
        try {
            next = nextBell(from);
        }
        catch (error) {
            next = null;
            // A schedule that cannot even start is the caller's mistake: say so at once.
            if (initial)
                throw error;
            onError(error);
        }
        if (next === null || stopped)
            return;
        const bell = next;
        cancel = scheduleAt(clock, bell.at, () => {
            cancel = null;
            try {
                ring(bell);
            }
            catch (error) {
                onError(error);
            }
            if (!stopped)
                arm(Math.max(bell.at + 1, clock.now()));
        });
    };
    arm(clock.now(), true);
    return {
        stop() {
            stopped = true;
            next = null;
            cancel?.();
            cancel = null;
        },
        get next() {
            return next;
        },
    };
}
/**
 * Moves a `yyyy-MM-dd` date by whole calendar days (plain date arithmetic, no time zone).
 *
 * @example
 * ```ts
 * addCalendarDays('2026-12-18', -21); // '2026-11-27'
 * ```
 */
function addCalendarDays(date, days) {
    const [y, m, d] = date.split('-').map(Number);
    return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}
/**
 * {@link marketCalendar}'s `session` and `nextSession` with each date's session computed once.
 * The calendar builds every session with time-zone arithmetic (tens of microseconds each); a
 * scheduler or a simulation asks for the same few dates over and over. Same answers, same errors.
 *
 * @example
 * ```ts
 * const sessions = createSessionCache();
 * nextMarketBell(clock.now(), sessions);
 * ```
 */
function createSessionCache() {
    const known = new Map();
    const session = (date) => {
        // Anything but a finite instant or a date string goes to the calendar, which throws its TypeError.
        const key = typeof date === 'number' && Number.isFinite(date) ? (0, time_js_1.marketDate)(date) : date;
        if (typeof key !== 'string')
            return marketCalendar_js_1.marketCalendar.session(key);
        let s = known.get(key);
        if (s === undefined)
            known.set(key, (s = marketCalendar_js_1.marketCalendar.session(key)));
        return s;
    };
    return {
        session,
        nextSession(at) {
            if (typeof at !== 'number' || !Number.isFinite(at))
                return marketCalendar_js_1.marketCalendar.nextSession(at); // throws its TypeError
            for (let date = (0, time_js_1.marketDate)(at);; date = addCalendarDays(date, 1)) {
                const s = session(date);
                if (s && s.close > at)
                    return s;
            }
        },
    };
}
/**
 * The first opening or closing bell at or after `at`: 09:30 ET opens, 16:00 ET closes (13:00 on
 * early closes), trading days only, as UTC instants that follow DST.
 *
 * @example
 * ```ts
 * nextMarketBell(Date.parse('2026-11-27T15:00:00Z')); // { type: 'MARKET_CLOSE', at: <2026-11-27T18:00Z>, ... }
 * ```
 * @throws {CalendarRangeError} when the next session is outside the calendar's years.
 */
function nextMarketBell(at, sessions = marketCalendar_js_1.marketCalendar) {
    const session = sessions.nextSession(at - 1); // its close is >= at
    return session.open >= at
        ? { type: 'MARKET_OPEN', at: session.open, session }
        : { type: 'MARKET_CLOSE', at: session.close, session };
}
/**
 * Sends MARKET_OPEN at 09:30 ET and MARKET_CLOSE at 16:00 ET (13:00 on early closes) on NYSE
 * trading days, one bell at a time on `clock`. Returns `{ stop(), next }`.
 *
 * @example
 * ```ts
 * const clock = createSimulatedClock('2026-11-25T08:00:00-05:00');
 * const bells = startMarketClock({ clock, target: toStrategies([strategy]) });
 * clock.set(Date.parse('2026-11-28T00:00:00-05:00')); // Nov 25 open+close, Nov 27 open+close at 13:00
 * bells.stop();
 * ```
 */
function startMarketClock(options) {
    const { clock, target, onError } = options;
    const sessions = options.sessions ?? createSessionCache();
    return scheduleBells({
        clock,
        nextBell: (from) => nextMarketBell(from, sessions),
        ring: (bell) => target({ type: bell.type }, bell.session),
        ...(onError ? { onError } : {}),
    });
}
/**
 * The market clock as an XState callback actor, so the inspector sees it: invoke it from a parent
 * machine and MARKET_OPEN / MARKET_CLOSE come back to the parent (or go to `input.target`).
 * It runs on the actor system's clock.
 *
 * @example
 * ```ts
 * const coordinator = setup({ actors: { marketClock } }).createMachine({
 *   invoke: { src: 'marketClock' },
 *   on: { MARKET_OPEN: { actions: () => console.log('open') } },
 * });
 * createActor(coordinator, { clock }).start();
 * ```
 */
exports.marketClock = (0, xstate_1.fromCallback)(({ input, system, sendBack }) => {
    const schedule = startMarketClock({
        clock: input?.clock ?? (0, clock_js_1.clockOf)(system),
        target: input?.target ?? ((event) => sendBack(event)),
        ...(input?.onError ? { onError: input.onError } : {}),
    });
    return () => schedule.stop();
});
/**
 * A target that triggers each strategy in turn: a fixed list, or a function read at every event
 * (strategies added later receive the next bell).
 *
 * @example
 * ```ts
 * startMarketClock({ clock, target: toStrategies(() => registry.values()) });
 * ```
 */
function toStrategies(strategies) {
    return (event) => {
        const list = typeof strategies === 'function' ? strategies() : strategies;
        for (const strategy of list)
            strategy.trigger(event);
    };
}
//# sourceMappingURL=marketClock.js.map