"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.SimulationInputError = void 0;
exports.runSimulation = runSimulation;
const node_perf_hooks_1 = require("node:perf_hooks");
const luxon_1 = require("luxon");
const createStrategyMachine_js_1 = require("../machines/createStrategyMachine.js");
const clock_js_1 = require("./clock.js");
const dteMonitor_js_1 = require("./dteMonitor.js");
const eventCalendar_js_1 = require("./eventCalendar.js");
const marketCalendar_js_1 = require("./marketCalendar.js");
const marketClock_js_1 = require("./marketClock.js");
const statistics_js_1 = require("./statistics.js");
const strategyActor_js_1 = require("./strategyActor.js");
const simulatedMarket_js_1 = require("./simulatedMarket.js");
const time_js_1 = require("./time.js");
const timeWindows_js_1 = require("./timeWindows.js");
const MINUTE = 60_000;
/**
 * A simulation input that cannot run; names the field.
 *
 * @example
 * ```ts
 * try { runSimulation({ from: '2026-02-01', to: '2026-01-01', strategies: [] }); }
 * catch (e) { if (e instanceof SimulationInputError) console.log(e.field); } // 'to'
 * ```
 */
class SimulationInputError extends Error {
    field;
    problem;
    name = 'SimulationInputError';
    constructor(field, problem) {
        super(`runSimulation: ${field} ${problem}`);
        this.field = field;
        this.problem = problem;
    }
}
exports.SimulationInputError = SimulationInputError;
/** Callbacks due at one instant share one clock timer and run in the order they were added. */
function createAgenda(clock, onError) {
    const slots = new Map();
    const run = (at) => {
        const slot = slots.get(at);
        slots.delete(at);
        for (const fn of slot.fns) {
            try {
                fn();
            }
            catch (error) {
                onError(error);
            }
        }
    };
    return {
        at(at, fn) {
            const slot = slots.get(at);
            if (slot)
                slot.fns.push(fn);
            else
                slots.set(at, { fns: [fn], cancel: (0, marketClock_js_1.scheduleAt)(clock, at, () => run(at)) });
        },
        stop: () => slots.forEach((slot) => slot.cancel()),
    };
}
const isActor = (value) => typeof value.trigger === 'function';
/** Creates (or adopts) the strategies; on a bad one, stops those it made and throws. */
function enrol(options, clock, created) {
    const table = options.windows ?? timeWindows_js_1.TIME_WINDOWS;
    const ids = new Set();
    // Machines are stateless: strategies of one definition share one (building one costs milliseconds).
    const machines = new Map();
    return options.strategies.map((input, n) => {
        const fail = (field, problem) => {
            throw new SimulationInputError(`strategies[${n}]${field}`, `${problem} (strategy "${input.id}")`);
        };
        if (ids.has(input.id))
            fail('.id', 'is used twice');
        ids.add(input.id);
        if (isActor(input) && input.clock !== clock)
            fail('', 'runs on another clock than the simulation');
        if (!isActor(input) && !machines.has(input.definition))
            machines.set(input.definition, (0, createStrategyMachine_js_1.createStrategyMachine)(input.definition));
        const variant = isActor(input) ? ((0, createStrategyMachine_js_1.definitionOf)(input.machine)?.id ?? input.machine.id) : (0, createStrategyMachine_js_1.definitionOf)(machines.get(input.definition)).id;
        const windows = table[variant];
        if (!windows)
            fail('', `has no time windows for its variant "${variant}": pass windows: { ${variant}: [...] }`);
        const band = (!isActor(input) && input.dteBand) || simulatedMarket_js_1.SIMULATION_DTE_BANDS[variant];
        if (!band)
            fail('.dteBand', `is needed: variant "${variant}" has no default DTE band`);
        const strategy = isActor(input) ? input : (0, strategyActor_js_1.createStrategyActor)(machines.get(input.definition), { id: input.id, clock, ...(input.params ? { params: input.params } : {}) });
        if (!isActor(input))
            created.push(strategy);
        const { quantity, underlying } = strategy.getSnapshot().context.params;
        return {
            strategy, variant, band, stay: 0,
            windows: (0, timeWindows_js_1.validateWindows)(windows, variant),
            quantity: Number.isInteger(quantity) && quantity > 0 ? quantity : 1,
            ...(typeof underlying === 'string' && underlying.trim() ? { underlying } : {}),
        };
    });
}
/**
 * Drives strategies through every NYSE trading day in [from, to] on a simulated clock, as fast as
 * the CPU allows. Everything happens on clock timers: the market clock (MARKET_OPEN/CLOSE), each
 * variant's time windows, a DTE monitor per strategy, the optional event calendar, and a simulated
 * market and broker that answer what each strategy's state asks for: ENTRY_CONDITIONS_MET one
 * minute after ANALYZING starts (VIX of the day, a monthly expiry in the variant's DTE band: the
 * machine's guards decide), then ORDER_SUBMITTED and ORDER_FILLED a minute apart, the same for
 * exits; RESUME at the first open after the event that suspended a strategy. Every timer is
 * stopped at the end, and the strategies it created are stopped.
 *
 * @example
 * ```ts
 * const result = runSimulation({ from: '2026-01-01', to: '2026-12-31', strategies: [{ id: 'lt112-1', definition: lt112 }] });
 * result.statistics[0].totalTransitions;
 * ```
 * @throws {SimulationInputError} for bad options; {@link CalendarRangeError} for dates past the calendar.
 */
function runSimulation(options) {
    const began = node_perf_hooks_1.performance.now(); // wall time, for elapsedMs only: market time comes from the clock
    const { from, to } = options;
    if (!(0, time_js_1.isIsoDate)(from))
        throw new SimulationInputError('from', `must be a date written yyyy-MM-dd, got ${JSON.stringify(from)}`);
    if (!(0, time_js_1.isIsoDate)(to))
        throw new SimulationInputError('to', `must be a date written yyyy-MM-dd, got ${JSON.stringify(to)}`);
    if (to < from)
        throw new SimulationInputError('to', `${to} is before from ${from}`);
    const days = marketCalendar_js_1.marketCalendar.tradingDays(from, to);
    const shared = options.strategies.find(isActor)?.clock;
    const clock = options.clock ?? (typeof shared?.set === 'function' ? shared : (0, clock_js_1.createSimulatedClock)(luxon_1.DateTime.fromISO(from, { zone: time_js_1.MARKET_ZONE }).toMillis()));
    const errors = [];
    const onError = (error) => void errors.push(error);
    const agenda = createAgenda(clock, onError);
    const sessions = (0, marketClock_js_1.createSessionCache)();
    const created = [];
    const stops = [() => agenda.stop(), () => created.forEach((s) => s.stop())];
    try {
        const members = enrol(options, clock, created);
        const vix = (0, simulatedMarket_js_1.simulatedVix)(options.seed ?? 1, days);
        const candidates = new Map();
        let today = { date: '', windows: new Map() };
        const windowsToday = (m) => {
            let list = today.windows.get(m.variant);
            if (!list)
                today.windows.set(m.variant, (list = (0, timeWindows_js_1.windowInstants)(today.date, m.windows, sessions)));
            return list;
        };
        /** Sends what `make` returns after `delay`, if the strategy is still in the stay that asked for it. */
        const later = (m, make, delay = MINUTE) => {
            const stay = m.stay;
            agenda.at(clock.now() + delay, () => {
                const event = m.stay === stay ? make() : null;
                if (event)
                    m.strategy.trigger(event);
            });
        };
        const underlying = (m) => (m.underlying ? { underlying: m.underlying } : {});
        const react = (m, state) => {
            const now = clock.now();
            if (state === 'ANALYZING') {
                return later(m, () => {
                    const key = `${today.date}|${m.band.min}|${m.band.max}`;
                    const expiry = candidates.get(key) ?? candidates.set(key, (0, simulatedMarket_js_1.candidateExpiry)(clock.now(), m.band)).get(key);
                    m.expiry = expiry;
                    return { type: 'ENTRY_CONDITIONS_MET', vix: vix.get(today.date) ?? 18, expiry, ...underlying(m) };
                });
            }
            if (state === 'PENDING_ENTRY' || state === 'PENDING_EXIT')
                return later(m, () => ({ type: 'ORDER_SUBMITTED', orderId: `SIM-${m.strategy.id}-${now}` }));
            if (state === 'ENTERING')
                return later(m, () => ({ type: 'ORDER_FILLED', quantity: m.quantity, ...(m.expiry ? { expiry: m.expiry } : {}), ...underlying(m) }));
            if (state === 'EXITING' || state === 'PARTIAL_EXIT') {
                return later(m, () => {
                    const open = m.strategy.getSnapshot().context.position?.quantity ?? 0;
                    return open > 0 ? { type: 'ORDER_FILLED', quantity: open } : null;
                });
            }
            // Late join: a strategy that reaches a window's audience while the window is open gets its start.
            for (const w of today.date ? windowsToday(m) : []) {
                if (w.start <= now && now < w.end && timeWindows_js_1.WINDOW_AUDIENCE[w.kind].start.includes(state)) {
                    later(m, () => (m.strategy.state === state ? { type: 'TIME_WINDOW_START', window: w.name } : null), 0);
                }
            }
        };
        for (const m of members) {
            stops.push(m.strategy.subscribe(({ record }) => {
                if (!record.accepted || (record.previousState === record.currentState && !record.reentered))
                    return;
                m.stay++;
                react(m, record.currentState);
            }));
            const monitor = (0, dteMonitor_js_1.startDteMonitor)({ strategy: m.strategy, clock, windows: m.windows, onError, sessions });
            stops.push(() => monitor.stop());
        }
        const market = (0, marketClock_js_1.startMarketClock)({
            clock, onError, sessions,
            target: (event, session) => {
                if (event.type === 'MARKET_OPEN')
                    today = { date: session.date, windows: new Map() };
                for (const m of members) {
                    const state = m.strategy.state;
                    if (event.type === 'MARKET_OPEN' && m.resumeAfter !== undefined && m.resumeAfter < session.date) {
                        if (state === 'SUSPENDED')
                            m.strategy.trigger({ type: 'RESUME' });
                        delete m.resumeAfter;
                    }
                    // A window clipped to an early close ends before the close, whichever timer rings first.
                    for (const w of event.type === 'MARKET_CLOSE' ? windowsToday(m) : []) {
                        if (w.end === session.close && (0, timeWindows_js_1.isWindowEventFor)('TIME_WINDOW_END', w.kind, state))
                            m.strategy.trigger({ type: 'TIME_WINDOW_END', window: w.name });
                    }
                    m.strategy.trigger(event);
                }
            },
        });
        stops.push(() => market.stop());
        for (const variant of new Set(members.map((m) => m.variant))) {
            const group = members.filter((m) => m.variant === variant);
            const windows = (0, timeWindows_js_1.startTimeWindows)({
                clock, onError, sessions,
                windows: group[0].windows,
                target: (event, window) => {
                    for (const m of group)
                        if ((0, timeWindows_js_1.isWindowEventFor)(event.type, window.kind, m.strategy.state))
                            m.strategy.trigger(event);
                },
            });
            stops.push(() => windows.stop());
        }
        if (options.eventCalendar) {
            const memberOf = new Map(members.map((m) => [m.strategy, m]));
            const notices = (0, eventCalendar_js_1.startEventCalendar)({
                ...options.eventNotice,
                clock, onError,
                calendar: options.eventCalendar,
                strategies: members.map((m) => m.strategy),
                deliver: (strategy, event) => {
                    const m = memberOf.get(strategy);
                    const result = strategy.trigger(event);
                    // Suspended now, or still suspended by an earlier notice: resume after the later event.
                    const suspended = (result.accepted && result.to === 'SUSPENDED') || (m.resumeAfter !== undefined && strategy.state === 'SUSPENDED');
                    if (suspended && !(m.resumeAfter && m.resumeAfter > event.date))
                        m.resumeAfter = event.date;
                },
            });
            stops.push(() => notices.stop());
        }
        days.forEach((date, n) => {
            clock.set(luxon_1.DateTime.fromISO(date, { zone: time_js_1.MARKET_ZONE }).endOf('day').toMillis());
            options.onProgress?.({ date, day: n + 1, tradingDays: days.length });
        });
        // The lookup of the bell after the last one may step past the calendar's last year: not an error of this run.
        const fatal = errors.find((e) => !(e instanceof marketCalendar_js_1.CalendarRangeError && e.date > to));
        if (fatal)
            throw fatal;
        const strategies = members.map((m) => m.strategy);
        return {
            strategies,
            auditTrails: Object.fromEntries(strategies.map((s) => [s.id, s.getAuditTrail()])),
            statistics: strategies.map((s) => (0, statistics_js_1.getStatistics)(s)),
            tradingDays: days.length,
            elapsedMs: node_perf_hooks_1.performance.now() - began,
        };
    }
    finally {
        // Listeners, monitors and schedulers first, then the agenda, then the strategies this run made.
        for (const stop of stops.reverse())
            stop();
    }
}
//# sourceMappingURL=simulation.js.map