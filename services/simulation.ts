import { performance } from 'node:perf_hooks';
import { DateTime } from 'luxon';
import { createStrategyMachine, definitionOf, type StrategyMachine } from '../machines/createStrategyMachine.js';
import type { StrategyDefinition } from '../machines/definition.js';
import type { StrategyEvent } from '../machines/events.js';
import type { StrategyState } from '../machines/states.js';
import type { TransitionRecord } from '../machines/types.js';
import { createSimulatedClock, type SimulatedClockHandle } from './clock.js';
import { startDteMonitor } from './dteMonitor.js';
import { startEventCalendar, type EventCalendar, type NoticeOptions } from './eventCalendar.js';
import { CalendarRangeError, marketCalendar } from './marketCalendar.js';
import { createSessionCache, scheduleAt, startMarketClock } from './marketClock.js';
import { getStatistics, type StrategyStatistics } from './statistics.js';
import { createStrategyActor, type StrategyActor } from './strategyActor.js';
import { candidateExpiry, SIMULATION_DTE_BANDS, simulatedVix, type DteBand } from './simulatedMarket.js';
import { MARKET_ZONE, isIsoDate } from './time.js';
import { TIME_WINDOWS, WINDOW_AUDIENCE, isWindowEventFor, startTimeWindows, validateWindows, windowInstants, type TimeWindow, type WindowInstant } from './timeWindows.js';

const MINUTE = 60_000;

/** A strategy for {@link runSimulation} to create on its clock. */
export interface SimulatedStrategy {
  id: string;
  definition: StrategyDefinition;
  /** `underlying` routes earnings; `quantity` (contracts, default 1) sizes the simulated orders. */
  params?: Record<string, unknown>;
  /** Default: {@link SIMULATION_DTE_BANDS} for the definition's id. */
  dteBand?: DteBand;
}

/** Options of {@link runSimulation}. */
export interface SimulationOptions {
  /** First and last New York date, `yyyy-MM-dd`, both included. */
  from: string;
  to: string;
  /** Strategies to create, or strategy actors already running on `clock`. */
  strategies: ReadonlyArray<SimulatedStrategy | StrategyActor>;
  /** Default: a new simulated clock at midnight New York of `from` (or the actors' shared clock). */
  clock?: SimulatedClockHandle;
  /** Seed of the simulated VIX series; default 1. */
  seed?: number;
  eventCalendar?: EventCalendar;
  /** When calendar notices go out; default 1 trading day before, 09:35 ET. */
  eventNotice?: NoticeOptions;
  /** Windows per variant id; default {@link TIME_WINDOWS}. */
  windows?: Readonly<Record<string, readonly TimeWindow[]>>;
  /** Called after each simulated trading day. */
  onProgress?: (progress: { date: string; day: number; tradingDays: number }) => void;
}

/** What {@link runSimulation} returns. */
export interface SimulationResult {
  strategies: StrategyActor[];
  auditTrails: Record<string, readonly TransitionRecord[]>;
  statistics: StrategyStatistics[];
  /** Trading days simulated. */
  tradingDays: number;
  /** Wall time the run took (a benchmark figure, not market time). */
  elapsedMs: number;
}

/**
 * A simulation input that cannot run; names the field.
 *
 * @example
 * ```ts
 * try { runSimulation({ from: '2026-02-01', to: '2026-01-01', strategies: [] }); }
 * catch (e) { if (e instanceof SimulationInputError) console.log(e.field); } // 'to'
 * ```
 */
export class SimulationInputError extends Error {
  override readonly name = 'SimulationInputError';
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`runSimulation: ${field} ${problem}`);
  }
}

/** Callbacks due at one instant share one clock timer and run in the order they were added. */
function createAgenda(clock: SimulatedClockHandle, onError: (error: unknown) => void) {
  const slots = new Map<number, { fns: Array<() => void>; cancel: () => void }>();
  const run = (at: number): void => {
    const slot = slots.get(at)!;
    slots.delete(at);
    for (const fn of slot.fns) {
      try {
        fn();
      } catch (error) {
        onError(error);
      }
    }
  };
  return {
    at(at: number, fn: () => void): void {
      const slot = slots.get(at);
      if (slot) slot.fns.push(fn);
      else slots.set(at, { fns: [fn], cancel: scheduleAt(clock, at, () => run(at)) });
    },
    stop: (): void => slots.forEach((slot) => slot.cancel()),
  };
}

/** A strategy in the simulation, with what the simulated market and broker need to know. */
interface Member {
  strategy: StrategyActor;
  variant: string;
  band: DteBand;
  windows: readonly TimeWindow[];
  quantity: number;
  underlying?: string;
  /** Bumped on every accepted move: a reaction made for an earlier stay is dropped. */
  stay: number;
  expiry?: string;
  resumeAfter?: string;
}

const isActor = (value: SimulatedStrategy | StrategyActor): value is StrategyActor => typeof (value as StrategyActor).trigger === 'function';

/** Creates (or adopts) the strategies; on a bad one, stops those it made and throws. */
function enrol(options: SimulationOptions, clock: SimulatedClockHandle, created: StrategyActor[]): Member[] {
  const table = options.windows ?? TIME_WINDOWS;
  const ids = new Set<string>();
  // Machines are stateless: strategies of one definition share one (building one costs milliseconds).
  const machines = new Map<StrategyDefinition, StrategyMachine>();
  return options.strategies.map((input, n) => {
    const fail = (field: string, problem: string): never => {
      throw new SimulationInputError(`strategies[${n}]${field}`, `${problem} (strategy "${input.id}")`);
    };
    if (ids.has(input.id)) fail('.id', 'is used twice');
    ids.add(input.id);
    if (isActor(input) && input.clock !== clock) fail('', 'runs on another clock than the simulation');
    if (!isActor(input) && !machines.has(input.definition)) machines.set(input.definition, createStrategyMachine(input.definition));
    const variant = isActor(input) ? (definitionOf(input.machine)?.id ?? input.machine.id) : definitionOf(machines.get(input.definition))!.id;
    const windows = table[variant];
    if (!windows) fail('', `has no time windows for its variant "${variant}": pass windows: { ${variant}: [...] }`);
    const band = (!isActor(input) && input.dteBand) || SIMULATION_DTE_BANDS[variant];
    if (!band) fail('.dteBand', `is needed: variant "${variant}" has no default DTE band`);
    const strategy = isActor(input) ? input : createStrategyActor(machines.get(input.definition)!, { id: input.id, clock, ...(input.params ? { params: input.params } : {}) });
    if (!isActor(input)) created.push(strategy);
    const { quantity, underlying } = strategy.getSnapshot().context.params;
    return {
      strategy, variant, band, stay: 0,
      windows: validateWindows(windows, variant),
      quantity: Number.isInteger(quantity) && (quantity as number) > 0 ? (quantity as number) : 1,
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
export function runSimulation(options: SimulationOptions): SimulationResult {
  const began = performance.now(); // wall time, for elapsedMs only: market time comes from the clock
  const { from, to } = options;
  if (!isIsoDate(from)) throw new SimulationInputError('from', `must be a date written yyyy-MM-dd, got ${JSON.stringify(from)}`);
  if (!isIsoDate(to)) throw new SimulationInputError('to', `must be a date written yyyy-MM-dd, got ${JSON.stringify(to)}`);
  if (to < from) throw new SimulationInputError('to', `${to} is before from ${from}`);
  const days = marketCalendar.tradingDays(from, to);
  const shared = options.strategies.find(isActor)?.clock as SimulatedClockHandle | undefined;
  const clock = options.clock ?? (typeof shared?.set === 'function' ? shared : createSimulatedClock(DateTime.fromISO(from, { zone: MARKET_ZONE }).toMillis()));
  const errors: unknown[] = [];
  const onError = (error: unknown): void => void errors.push(error);
  const agenda = createAgenda(clock, onError);
  const sessions = createSessionCache();
  const created: StrategyActor[] = [];
  const stops: Array<() => void> = [() => agenda.stop(), () => created.forEach((s) => s.stop())];
  try {
    const members = enrol(options, clock, created);
    const vix = simulatedVix(options.seed ?? 1, days);
    const candidates = new Map<string, string>();
    let today = { date: '', windows: new Map<string, WindowInstant[]>() };
    const windowsToday = (m: Member): WindowInstant[] => {
      let list = today.windows.get(m.variant);
      if (!list) today.windows.set(m.variant, (list = windowInstants(today.date, m.windows, sessions)));
      return list;
    };
    /** Sends what `make` returns after `delay`, if the strategy is still in the stay that asked for it. */
    const later = (m: Member, make: () => StrategyEvent | null, delay = MINUTE): void => {
      const stay = m.stay;
      agenda.at(clock.now() + delay, () => {
        const event = m.stay === stay ? make() : null;
        if (event) m.strategy.trigger(event);
      });
    };
    const underlying = (m: Member) => (m.underlying ? { underlying: m.underlying } : {});
    const react = (m: Member, state: StrategyState): void => {
      const now = clock.now();
      if (state === 'ANALYZING') {
        return later(m, () => {
          const key = `${today.date}|${m.band.min}|${m.band.max}`;
          const expiry = candidates.get(key) ?? candidates.set(key, candidateExpiry(clock.now(), m.band)).get(key)!;
          m.expiry = expiry;
          return { type: 'ENTRY_CONDITIONS_MET', vix: vix.get(today.date) ?? 18, expiry, ...underlying(m) };
        });
      }
      if (state === 'PENDING_ENTRY' || state === 'PENDING_EXIT') return later(m, () => ({ type: 'ORDER_SUBMITTED', orderId: `SIM-${m.strategy.id}-${now}` }));
      if (state === 'ENTERING') return later(m, () => ({ type: 'ORDER_FILLED', quantity: m.quantity, ...(m.expiry ? { expiry: m.expiry } : {}), ...underlying(m) }));
      if (state === 'EXITING' || state === 'PARTIAL_EXIT') {
        return later(m, () => {
          const open = m.strategy.getSnapshot().context.position?.quantity ?? 0;
          return open > 0 ? { type: 'ORDER_FILLED', quantity: open } : null;
        });
      }
      // Late join: a strategy that reaches a window's audience while the window is open gets its start.
      for (const w of today.date ? windowsToday(m) : []) {
        if (w.start <= now && now < w.end && WINDOW_AUDIENCE[w.kind].start.includes(state)) {
          later(m, () => (m.strategy.state === state ? { type: 'TIME_WINDOW_START', window: w.name } : null), 0);
        }
      }
    };

    for (const m of members) {
      stops.push(m.strategy.subscribe(({ record }) => {
        if (!record.accepted || (record.previousState === record.currentState && !record.reentered)) return;
        m.stay++;
        react(m, record.currentState);
      }));
      const monitor = startDteMonitor({ strategy: m.strategy, clock, windows: m.windows, onError, sessions });
      stops.push(() => monitor.stop());
    }
    const market = startMarketClock({
      clock, onError, sessions,
      target: (event, session) => {
        if (event.type === 'MARKET_OPEN') today = { date: session.date, windows: new Map() };
        for (const m of members) {
          const state = m.strategy.state;
          if (event.type === 'MARKET_OPEN' && m.resumeAfter !== undefined && m.resumeAfter < session.date) {
            if (state === 'SUSPENDED') m.strategy.trigger({ type: 'RESUME' });
            delete m.resumeAfter;
          }
          // A window clipped to an early close ends before the close, whichever timer rings first.
          for (const w of event.type === 'MARKET_CLOSE' ? windowsToday(m) : []) {
            if (w.end === session.close && isWindowEventFor('TIME_WINDOW_END', w.kind, state)) m.strategy.trigger({ type: 'TIME_WINDOW_END', window: w.name });
          }
          m.strategy.trigger(event);
        }
      },
    });
    stops.push(() => market.stop());
    for (const variant of new Set(members.map((m) => m.variant))) {
      const group = members.filter((m) => m.variant === variant);
      const windows = startTimeWindows({
        clock, onError, sessions,
        windows: group[0].windows,
        target: (event, window) => {
          for (const m of group) if (isWindowEventFor(event.type, window.kind, m.strategy.state)) m.strategy.trigger(event);
        },
      });
      stops.push(() => windows.stop());
    }
    if (options.eventCalendar) {
      const memberOf = new Map(members.map((m) => [m.strategy, m] as const));
      const notices = startEventCalendar({
        ...options.eventNotice,
        clock, onError,
        calendar: options.eventCalendar,
        strategies: members.map((m) => m.strategy),
        deliver: (strategy, event) => {
          const m = memberOf.get(strategy)!;
          const result = strategy.trigger(event);
          // Suspended now, or still suspended by an earlier notice: resume after the later event.
          const suspended = (result.accepted && result.to === 'SUSPENDED') || (m.resumeAfter !== undefined && strategy.state === 'SUSPENDED');
          if (suspended && !(m.resumeAfter && m.resumeAfter > event.date)) m.resumeAfter = event.date;
        },
      });
      stops.push(() => notices.stop());
    }

    days.forEach((date, n) => {
      clock.set(DateTime.fromISO(date, { zone: MARKET_ZONE }).endOf('day').toMillis());
      options.onProgress?.({ date, day: n + 1, tradingDays: days.length });
    });
    // The lookup of the bell after the last one may step past the calendar's last year: not an error of this run.
    const fatal = errors.find((e) => !(e instanceof CalendarRangeError && e.date > to));
    if (fatal) throw fatal;
    const strategies = members.map((m) => m.strategy);
    return {
      strategies,
      auditTrails: Object.fromEntries(strategies.map((s) => [s.id, s.getAuditTrail()])),
      statistics: strategies.map((s) => getStatistics(s)),
      tradingDays: days.length,
      elapsedMs: performance.now() - began,
    };
  } finally {
    // Listeners, monitors and schedulers first, then the agenda, then the strategies this run made.
    for (const stop of stops.reverse()) stop();
  }
}
