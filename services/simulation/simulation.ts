import { DateTime } from 'luxon';
import { createStrategyMachine, definitionOf, type StrategyMachine } from '../../machines/createStrategyMachine.js';
import type { StrategyDefinition } from '../../machines/definition.js';
import type { TransitionRecord } from '../../machines/types.js';
import { PaperBroker } from '../broker/broker.js';
import { createSimulatedClock, type SimulatedClockHandle } from '../market/clock.js';
import type { EventCalendar, NoticeOptions } from '../market/eventCalendar.js';
import { CalendarRangeError, marketCalendar } from '../market/marketCalendar.js';
import { createSessionCache } from '../market/marketClock.js';
import { getStatistics, type StrategyStatistics } from '../runtime/statistics.js';
import { createStrategyActor, type StrategyActor } from '../runtime/strategyActor.js';
import { SIMULATION_DTE_BANDS, createSimulatedMarket, type DteBand } from './simulatedMarket.js';
import { MARKET_ZONE, isIsoDate } from '../market/time.js';
import { TIME_WINDOWS, validateWindows, type TimeWindow } from '../market/timeWindows.js';
import { startTradingDay, type TradingTarget } from '../day/tradingDay.js';
import { StrategyLifecycleError, UnknownStrategyError } from '../../machines/errors.js';

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
export class SimulationInputError extends StrategyLifecycleError {
  override readonly name = 'SimulationInputError';
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`runSimulation: ${field} ${problem}`);
  }
}

/** A strategy in the simulation and the DTE band its entries look in. */
interface Member {
  strategy: StrategyActor;
  band: DteBand;
}

const isActor = (value: SimulatedStrategy | StrategyActor): value is StrategyActor =>
  typeof (value as StrategyActor).trigger === 'function';

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
    const machine = isActor(input) ? input.machine : (machines.get(input.definition) ?? createStrategyMachine(input.definition));
    if (!isActor(input)) machines.set(input.definition, machine);
    const variant = definitionOf(machine)?.id ?? machine.id;
    const windows = table[variant];
    if (!windows) fail('', `has no time windows for its variant "${variant}": pass windows: { ${variant}: [...] }`);
    const band = (!isActor(input) && input.dteBand) || SIMULATION_DTE_BANDS[variant];
    if (!band) fail('.dteBand', `is needed: variant "${variant}" has no default DTE band`);
    const strategy = isActor(input)
      ? input
      : createStrategyActor(machine, { id: input.id, clock, ...(input.params ? { params: input.params } : {}) });
    if (!isActor(input)) created.push(strategy);
    validateWindows(windows, variant);
    return { strategy, band };
  });
}

/**
 * Drives strategies through every NYSE trading day in [from, to] on a simulated clock, as fast as
 * the CPU allows, with the same driver a service runs ({@link startTradingDay}): the market clock
 * (MARKET_OPEN/CLOSE), each variant's time windows, a DTE monitor per strategy, the optional event
 * calendar, the simulated market (ENTRY_CONDITIONS_MET one minute after ANALYZING starts: VIX of
 * the day, a monthly expiry in the variant's DTE band; the machine's guards decide) and a paper
 * broker answering each order a minute later (ORDER_SUBMITTED at once, then ORDER_FILLED); RESUME
 * at the first open after the event that suspended a strategy. Every timer is stopped at the end,
 * and the strategies it created are stopped.
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
  const clock =
    options.clock ??
    (typeof shared?.set === 'function' ? shared : createSimulatedClock(DateTime.fromISO(from, { zone: MARKET_ZONE }).toMillis()));
  const errors: unknown[] = [];
  const onError = (error: unknown): void => void errors.push(error);
  const sessions = createSessionCache();
  const created: StrategyActor[] = [];
  const stops: Array<() => void> = [() => created.forEach((s) => s.stop())];
  try {
    const members = enrol(options, clock, created);
    const byId = new Map(members.map((m) => [m.strategy.id, m] as const));
    const member = (id: string): StrategyActor => {
      const found = byId.get(id);
      if (!found) throw new UnknownStrategyError(id);
      return found.strategy;
    };
    // The in-memory target answers at once, so the whole run stays inside this call.
    const target: TradingTarget = {
      ids: () => [...byId.keys()],
      has: (id) => byId.has(id),
      get: member,
      send: (id, event) => member(id).trigger(event),
      subscribe: (listener) => {
        const offs = members.map((m) => m.strategy.subscribe(listener));
        return () => offs.forEach((off) => off());
      },
    };
    const day = startTradingDay({
      target,
      clock,
      onError,
      sessions,
      broker: new PaperBroker({ clock, latencyMs: MINUTE, session: '' }), // one run: ids as the seed makes them
      market: createSimulatedMarket({ seed: options.seed ?? 1, from, to }),
      windows: options.windows ?? TIME_WINDOWS,
      dteBandOf: (strategy) => byId.get(strategy.id)?.band,
      ...(options.eventCalendar ? { eventCalendar: options.eventCalendar } : {}),
      ...(options.eventNotice ? { eventNotice: options.eventNotice } : {}),
    });
    stops.push(() => day.stop());

    days.forEach((date, n) => {
      clock.set(DateTime.fromISO(date, { zone: MARKET_ZONE }).endOf('day').toMillis());
      options.onProgress?.({ date, day: n + 1, tradingDays: days.length });
    });
    // The lookup of the bell after the last one may step past the calendar's last year: not an error of this run.
    const fatal = errors.find((e) => !(e instanceof CalendarRangeError && e.date > to));
    // Rethrown as a step threw it (an Error from the library or the caller's own value).
    // eslint-disable-next-line @typescript-eslint/only-throw-error
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
    // The driver (listeners, monitors, schedulers, timers) first, then the strategies this run made.
    for (const stop of stops.reverse()) stop();
  }
}
