import { DateTime } from 'luxon';
import type { StrategyDefinition } from '../machines/definition.js';
import { PaperBroker, paperScript, type BrokerAdapter, type PaperBehaviour } from '../services/broker/broker.js';
import { createSimulatedClock, realClock, type Clock, type SimulatedClockHandle } from '../services/market/clock.js';
import { loadEventCalendar } from '../services/market/eventCalendarFile.js';
import type { PersistentStrategySystem } from '../services/runtime/persistentSystem.js';
import { createSimulatedMarket } from '../services/simulation/simulatedMarket.js';
import { runSimulatedTime, type SimulatedTime } from '../services/simulation/simulatedTime.js';
import { MARKET_ZONE } from '../services/market/time.js';
import { startTradingDay, type TradingDay } from '../services/day/tradingDay.js';

/** How a service runs the trading day (see docs/service.md). */
export interface MarketOptions {
  /** The paper broker's behaviour (latency, partial fills, rejections). Ignored with `broker`. */
  paper?: PaperBehaviour;
  /** A real broker adapter; positions are reconciled with it on start. Default: the paper broker. */
  broker?: BrokerAdapter;
  /** An event calendar file (JSON or CSV): FOMC and earnings notices. */
  eventCalendar?: string;
  /** Seed of the simulated market's VIX series (default 1). */
  seed?: number;
  /** Run on a simulated clock from this New York date, advanced from real time at `speed`. */
  simulate?: { from: string; speed: number; /** Stop the clock at this instant (epoch ms). */ until?: number };
}

/** A strategy a service creates at start when the store does not hold it yet. */
export interface InitialStrategy {
  id: string;
  variant: string;
  params?: Record<string, unknown>;
}

/** The market side of a service, prepared before the system opens (it needs the clock and broker). */
export interface PreparedMarket {
  clock: Clock;
  /** Passed to the system for reconciliation: a real adapter only (a new paper account holds nothing). */
  reconcileWith: BrokerAdapter | undefined;
  /** Starts the driver over the opened system. */
  /** `created`: the strategies this start just created (they join the day; nothing was missed). */
  start(system: PersistentStrategySystem, created?: readonly string[]): RunningMarket;
}

/** The running market side of a service. */
export interface RunningMarket {
  day: TradingDay;
  /** Set in simulated mode. */
  clock: Clock;
  simulated: boolean;
  /** In simulated mode, restarted over its own data: the instant the clock resumed at (just after the stored records), not `from`. */
  resumedAt?: number;
  /** The driver runs and its clock moves (a simulated clock stops at `until`, on a failed step, or when stopped). */
  clockRunning(): boolean;
  /** Stops the driver (and the simulated clock), waiting for the step under way. */
  stop(): Promise<void>;
}

/** How often (real time) the driver looks for strategies created or removed through the API. */
const REFRESH_MS = 500;

/**
 * Prepares the trading day of a service: the clock (real, given, or simulated from `simulate.from`),
 * the broker and the simulated market. `start` then runs {@link startTradingDay} over the system.
 * The paper account starts with what the stored strategies hold, so a restart is not a mismatch.
 *
 * @example
 * ```ts
 * const market = prepareMarket({ simulate: { from: '2026-11-23', speed: 600 } });
 * const system = await openStrategySystem({ store, variants, clock: market.clock });
 * const running = market.start(system);
 * await running.stop();
 * ```
 * @throws {EventCalendarError} for a bad event file.
 */
export function prepareMarket(options: MarketOptions & { clock?: Clock; onError?: (error: unknown) => void }): PreparedMarket {
  const calendar = options.eventCalendar ? loadEventCalendar(options.eventCalendar) : undefined;
  const simulate = options.simulate;
  const simulated: SimulatedClockHandle | undefined = simulate
    ? createSimulatedClock(DateTime.fromISO(simulate.from, { zone: MARKET_ZONE }).toMillis())
    : undefined;
  const clock = simulated ?? options.clock ?? realClock;
  const broker =
    options.broker ?? new PaperBroker({ clock, latencyMs: options.paper?.latencyMs ?? 100, script: paperScript(options.paper ?? {}) });
  const paper = !options.broker && broker instanceof PaperBroker ? broker : undefined;
  const onError = options.onError ?? ((error: unknown) => console.error('strategy-lifecycle market:', error));
  return {
    clock,
    reconcileWith: options.broker,
    start(system, created = []) {
      let latest = 0;
      for (const id of system.ids()) {
        // The stored position (`peek`): the paper broker's book is seeded without waking anyone.
        const { context } = system.peek(id).snapshot;
        const held = context.position?.quantity ?? 0;
        if (paper && held > 0) paper.setPosition(id, held);
        latest = Math.max(latest, context.lastRecord?.at ?? 0);
      }
      // A simulation restarted over its own data resumes where its records end: rewound to
      // `from`, new records would be stamped before the stored ones (time running backwards).
      // Just past it: a bell due at that very instant already rang (its records are there), and
      // rung again from the restart it reached every strategy twice (each refused once).
      const resumedAt = simulated && latest >= simulated.now() ? latest + 1 : undefined;
      if (simulated && resumedAt !== undefined) simulated.set(resumedAt);
      const day = startTradingDay({
        target: system,
        clock,
        broker,
        onError,
        market: createSimulatedMarket({ seed: options.seed ?? 1 }),
        ...(calendar ? { eventCalendar: calendar } : {}),
        joined: created,
      });
      let refresher: unknown;
      const refresh = () => {
        day.refresh();
        refresher = realClock.setTimeout(refresh, REFRESH_MS);
      };
      refresher = realClock.setTimeout(refresh, REFRESH_MS);
      const time: SimulatedTime | undefined =
        simulated && simulate
          ? runSimulatedTime({
              clock: simulated,
              speed: simulate.speed,
              settle: () => system.flush(),
              onError,
              ...(simulate.until !== undefined ? { until: simulate.until } : {}),
            })
          : undefined;
      let stopped = false;
      return {
        day,
        clock,
        simulated: simulated !== undefined,
        ...(resumedAt !== undefined ? { resumedAt } : {}),
        clockRunning: () => !stopped && (time?.running ?? true),
        async stop() {
          stopped = true;
          realClock.clearTimeout(refresher);
          await time?.stop();
          day.stop();
        },
      };
    },
  };
}

/**
 * Creates each strategy of `strategies` the store does not hold yet; one already stored is left
 * as it is (its state and params are the store's).
 *
 * @example
 * ```ts
 * await createInitialStrategies(system, variants, [{ id: 'lt112-spx', variant: 'lt112', params: { underlying: 'SPX' } }]);
 * ```
 * @throws {Error} naming the strategy and its variant when the variant is unknown.
 */
export async function createInitialStrategies(
  system: PersistentStrategySystem,
  variants: readonly StrategyDefinition[],
  strategies: readonly InitialStrategy[],
): Promise<string[]> {
  const created: string[] = [];
  for (const s of strategies) {
    if (system.has(s.id)) continue;
    const def = variants.find((v) => v.id === s.variant);
    if (!def) throw new Error(`strategy "${s.id}": unknown variant "${s.variant}" (known: ${variants.map((v) => v.id).join(', ')})`);
    await system.add(def, { id: s.id, ...(s.params ? { params: s.params } : {}) });
    created.push(s.id);
  }
  return created;
}
