import { DateTime } from 'luxon';
import { CalendarRangeError, marketCalendar } from '../market/marketCalendar.js';
import { MARKET_ZONE, daysToExpiry, marketDate } from '../market/time.js';

/**
 * The simulated market behind {@link runSimulation} and a paper-trading service: deterministic,
 * pure data (standard monthly expiries, the expiry offered for a DTE band, a seeded daily VIX
 * series). A data feed with real quotes would replace it.
 */

/** A DTE band, calendar days, both ends included. */
export interface DteBand {
  min: number;
  max: number;
}

/**
 * The DTE band each variant's candidate expiry is picked from (its `isDteInBand` entry rule);
 * `max: 0` means same-day options.
 *
 * @example
 * ```ts
 * SIMULATION_DTE_BANDS.lt112; // { min: 112, max: 120 }
 * ```
 */
export const SIMULATION_DTE_BANDS: Readonly<Record<string, DteBand>> = Object.freeze({
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
export function monthlyExpiry(year: number, month: number): string {
  const first = DateTime.fromObject({ year, month, day: 1 }, { zone: MARKET_ZONE });
  const friday = first.plus({ days: ((5 - first.weekday + 7) % 7) + 14 }).toFormat('yyyy-MM-dd');
  try {
    return marketCalendar.isTradingDay(friday) ? friday : marketCalendar.previousTradingDay(friday);
  } catch (error) {
    if (error instanceof CalendarRangeError) return friday; // beyond the calendar: the unadjusted Friday
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
export function candidateExpiry(at: number, band: DteBand): string {
  const today = marketDate(at);
  if (band.max <= 0) return today;
  let best = '';
  let bestDistance = Infinity;
  const start = DateTime.fromISO(today, { zone: MARKET_ZONE });
  for (let k = 0; k <= 24; k++) {
    const month = start.plus({ months: k });
    const expiry = monthlyExpiry(month.year, month.month);
    const dte = daysToExpiry(expiry, at);
    const distance = dte < band.min ? band.min - dte : dte > band.max ? dte - band.max : 0;
    if (distance < bestDistance) [best, bestDistance] = [expiry, distance];
    if (distance === 0 || dte > band.max) break;
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
export function simulatedVix(seed: number, days: readonly string[]): Map<string, number> {
  let state = seed >>> 0;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Map<string, number>();
  let vix = 18;
  for (const day of days) {
    const gauss = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    vix += 0.15 * (18 - vix) + 1.6 * gauss + (random() < 0.02 ? 10 : 0);
    vix = Math.min(80, Math.max(9, vix));
    out.set(day, Math.round(vix * 100) / 100);
  }
  return out;
}

/** What a market says when a strategy analyses an entry: the day's VIX and the expiry on offer. */
export interface EntryConditions {
  vix: number;
  expiry: string;
}

/** Where a trading-day driver gets entry conditions from (the simulated market, a data feed). */
export interface EntryConditionSource {
  /** The conditions at `at` for a strategy looking for an expiry in `band`. */
  entryConditions(at: number, band: DteBand): EntryConditions;
}

/** Options of {@link createSimulatedMarket}. */
export interface SimulatedMarketOptions {
  /** Seed of the VIX series (default 1). */
  seed?: number;
  /** First and last New York dates of the series, `yyyy-MM-dd`; default the calendar's years. */
  from?: string;
  to?: string;
}

/**
 * The simulated market as an {@link EntryConditionSource}: the VIX of the day from
 * {@link simulatedVix} (18 outside the series) and {@link candidateExpiry} for the band, each
 * worked out once per day and band. The same seed and dates give the same answers, so a paper
 * service restarted mid-year sees the same market.
 *
 * @example
 * ```ts
 * createSimulatedMarket({ seed: 42 }).entryConditions(Date.parse('2026-08-24T14:00:00Z'), { min: 112, max: 120 });
 * // { vix: ..., expiry: '2026-12-18' }
 * ```
 */
export function createSimulatedMarket(options: SimulatedMarketOptions = {}): EntryConditionSource {
  const from = options.from ?? `${marketCalendar.coveredYears.from}-01-01`;
  const to = options.to ?? `${marketCalendar.coveredYears.to}-12-31`;
  const vix = simulatedVix(options.seed ?? 1, marketCalendar.tradingDays(from, to));
  const expiries = new Map<string, string>();
  return {
    entryConditions(at, band) {
      const date = marketDate(at);
      const key = `${date}|${band.min}|${band.max}`;
      let expiry = expiries.get(key);
      if (expiry === undefined) expiries.set(key, (expiry = candidateExpiry(at, band)));
      return { vix: vix.get(date) ?? 18, expiry };
    },
  };
}
