/**
 * A process asleep across several bells and a day boundary (a suspended VM, a stalled event loop, a
 * wall clock stepped forward) runs the day's steps on waking in their order, once each. The market
 * bells, the time windows and the DTE monitor each keep their own timer, and which one a waking
 * process runs first is chance. Before, the window timer often ran first: Tuesday's entry window
 * opened (READY -> ANALYZING) before Monday's MARKET_CLOSE, which then ended it, and the catch-up
 * opened it again; asleep through a whole window, a READY strategy went to ANALYZING at 17:00,
 * after the close. Now a window boundary rings the market bells due before it first, and a window
 * that opened and ended while asleep is not opened.
 *
 * The sleep is made with Jest's fake timers over the package's realClock: the wall clock jumps
 * while the timers stand still, as on a suspended host; then the pending one-minute links run.
 */
import { DateTime } from 'luxon';
import type { StrategyDefinition } from '../../machines/definition';
import { lt112, zeroDte } from '../../machines/variants';
import { PaperBroker } from '../../services/broker/broker';
import { startTradingDay } from '../../services/day/tradingDay';
import { realClock } from '../../services/market/clock';
import { MARKET_ZONE } from '../../services/market/time';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { createSimulatedMarket } from '../../services/simulation/simulatedMarket';

const ny = (iso: string) => DateTime.fromISO(iso, { zone: MARKET_ZONE }).toMillis();

afterEach(() => jest.useRealTimers());

/** Runs the trading day for one strategy from Monday 09:00, sleeps from `from` to `to`, and returns what happened on waking. */
function sleepThrough(def: StrategyDefinition, from: string, to: string) {
  jest.useFakeTimers({ now: ny('2026-11-30T09:00'), doNotFake: ['setImmediate'] });
  const system = createStrategySystem({ clock: realClock });
  system.add(def, { id: 's' });
  const errors: unknown[] = [];
  const day = startTradingDay({
    target: system,
    clock: realClock,
    broker: new PaperBroker({ clock: realClock }),
    market: createSimulatedMarket(),
    onError: (error) => errors.push(error),
  });
  try {
    jest.advanceTimersByTime(ny(from) - Date.now());
    const before = system.get('s').getAuditTrail().length;
    jest.setSystemTime(ny(to)); // asleep: the wall clock moved, no timer ran
    jest.advanceTimersByTime(2 * 60_000);
    const woke = system.get('s').getAuditTrail().slice(before);
    return { woke, steps: woke.map((r) => `${r.trigger}${r.accepted ? ` -> ${r.currentState}` : ' (refused)'}`), errors };
  } finally {
    day.stop();
    system.get('s').stop();
  }
}

test('asleep through the whole entry window until after the close: no ANALYZING after the close', () => {
  const { woke, steps, errors } = sleepThrough(lt112, '2026-11-30T09:45', '2026-11-30T17:00');
  expect(steps).toEqual(['MARKET_CLOSE (refused)']);
  expect(woke.filter((r) => r.accepted && r.currentState === 'ANALYZING')).toEqual([]);
  expect(errors).toEqual([]);
});

test("asleep from Monday morning into Tuesday's entry window: Monday's close, Tuesday's open, then the window, once each", () => {
  const { steps, errors } = sleepThrough(lt112, '2026-11-30T09:45', '2026-12-01T10:30');
  expect(steps.slice(0, 4)).toEqual([
    'MARKET_CLOSE (refused)',
    'MARKET_OPEN (refused)',
    'TIME_WINDOW_START -> ANALYZING',
    'ENTRY_CONDITIONS_MET (refused)', // the simulated market's expiry is outside lt112's DTE band
  ]);
  expect(steps.filter((s) => s.startsWith('TIME_WINDOW_START'))).toHaveLength(1);
  expect(errors).toEqual([]);
});

test("0DTE asleep from Monday's entry window into Tuesday's: Monday's window ends, Monday's close, Tuesday's open, Tuesday's window", () => {
  const { steps, errors } = sleepThrough(zeroDte, '2026-11-30T10:45', '2026-12-01T11:00');
  expect(steps.slice(0, 4)).toEqual([
    'TIME_WINDOW_END -> READY',
    'MARKET_CLOSE (refused)',
    'MARKET_OPEN (refused)',
    'TIME_WINDOW_START -> ANALYZING',
  ]);
  expect(steps.filter((s) => s.startsWith('TIME_WINDOW_START'))).toHaveLength(1);
  expect(errors).toEqual([]);
});
