import type { FastifyInstance } from 'fastify';
import { marketPresent } from '../services/day/catchUp.js';
import { CalendarRangeError } from '../services/market/marketCalendar.js';
import { nextMarketBell } from '../services/market/marketClock.js';
import type { PersistentStrategySystem } from '../services/runtime/persistentSystem.js';
import { toMarketIso } from '../services/market/time.js';
import { responses } from './schemas.js';
import type { RunningMarket } from './tradingService.js';

/** `GET /market`: where the market stands for this service, in New York time. */
export interface MarketView {
  /** The trading-day driver runs (false: `serve --no-market`, the service only does what it is sent). */
  driver: boolean;
  /** The clock is simulated (`serve --simulate`). */
  simulated: boolean;
  /** The service's clock now, New York time with its offset. */
  now: string;
  /** Whether a regular NYSE session is open now (the driver's status; the calendar's without one). */
  phase: 'open' | 'closed';
  /** The next opening or closing bell; null outside the calendar's years. */
  nextBell: { type: 'MARKET_OPEN' | 'MARKET_CLOSE'; at: string } | null;
  /** Strategies the driver runs (0 without a driver). */
  driven: number;
  /** This instance's name on a multi-instance store (PostgreSQL), else null. */
  instance: string | null;
}

/**
 * The market's phase and next bell: from the trading day's own status when it runs, else from the
 * NYSE calendar on the system's clock (nothing is sent then, but an operator still sees the time).
 *
 * @example
 * ```ts
 * marketView(service.system, service.market); // { driver: true, phase: 'closed', nextBell: { type: 'MARKET_OPEN', at: '2026-11-23T09:30:00.000-05:00' }, ... }
 * ```
 */
export function marketView(system: PersistentStrategySystem, market: RunningMarket | undefined): MarketView {
  const now = system.clock.now();
  let phase: MarketView['phase'] = 'closed';
  let nextBell: MarketView['nextBell'] = null;
  let driven = 0;
  try {
    if (market) {
      const status = market.day.status();
      phase = status.phase;
      nextBell = status.nextBell ? { type: status.nextBell.type, at: toMarketIso(status.nextBell.at) } : null;
      driven = status.strategies;
    } else {
      phase = marketPresent(now).isOpen ? 'open' : 'closed';
      const bell = nextMarketBell(now);
      nextBell = { type: bell.type, at: toMarketIso(bell.at) };
    }
  } catch (error) {
    // Past the calendar's years there is no bell to show; anything else is a real fault.
    if (!(error instanceof CalendarRangeError)) throw error;
  }
  return {
    driver: market !== undefined,
    simulated: market?.simulated ?? false,
    now: toMarketIso(now),
    phase,
    nextBell,
    driven,
    instance: system.store.instanceId ?? null,
  };
}

/**
 * Registers `GET /market` ({@link MarketView}), read by the dashboard's header.
 *
 * @example
 * ```ts
 * registerMarketRoute(app, system, service.market);
 * ```
 */
export function registerMarketRoute(app: FastifyInstance, system: PersistentStrategySystem, market: RunningMarket | undefined): void {
  app.get(
    '/market',
    {
      schema: {
        tags: ['service'],
        summary: 'The market phase and next bell (New York time), the driver and its clock',
        response: { 200: responses.market },
      },
    },
    async () => marketView(system, market),
  );
}
