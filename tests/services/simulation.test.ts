/** runSimulation: strategies driven through trading days by clock timers only. */
import { DateTime } from 'luxon';
import type { StrategyDefinition } from '../../machines/definition';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import type { TransitionRecord } from '../../machines/types';
import { createSimulatedClock } from '../../services/market/clock';
import { parseEventCalendar } from '../../services/market/eventCalendar';
import { loadEventCalendar } from '../../services/market/eventCalendarFile';
import { CalendarRangeError, marketCalendar } from '../../services/market/marketCalendar';
import { candidateExpiry, monthlyExpiry, simulatedVix } from '../../services/simulation/simulatedMarket';
import { SimulationInputError, runSimulation, type SimulatedStrategy, type SimulationResult } from '../../services/simulation/simulation';
import { MARKET_ZONE, daysToExpiry } from '../../services/market/time';
import { TIME_WINDOWS } from '../../services/market/timeWindows';
import { start } from '../support/fixtures';
import { join } from 'node:path';

const ny = (at: number) => DateTime.fromMillis(at, { zone: MARKET_ZONE });
const hhmm = (r: TransitionRecord) => ny(r.at).toFormat('HH:mm');
const DEFS: StrategyDefinition[] = [zeroDte, lt112, strangle];
const UNDERLYINGS = ['SPX', 'SPY', 'QQQ', 'AAPL', 'MSFT'];

function mixed(n: number): SimulatedStrategy[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${DEFS[i % 3].id}-${i}`,
    definition: DEFS[i % 3],
    params: { underlying: UNDERLYINGS[i % 5], quantity: 1 + (i % 4) },
  }));
}

describe('a simulated calendar year, 100 strategies', () => {
  const calendar = loadEventCalendar(join(__dirname, '../../examples/event-calendar.example.json'));
  const progress: string[] = [];
  const days = marketCalendar.tradingDays('2026-01-01', '2026-12-31');
  let result: SimulationResult;
  let all: TransitionRecord[];
  beforeAll(() => {
    result = runSimulation({
      from: '2026-01-01',
      to: '2026-12-31',
      strategies: mixed(100),
      seed: 42,
      eventCalendar: calendar,
      onProgress: (p) => progress.push(p.date),
    });
    all = Object.values(result.auditTrails).flat();
  });

  test('completes every trading day, reporting progress', () => {
    expect(result.tradingDays).toBe(251);
    expect(progress).toEqual(days);
    expect(result.strategies).toHaveLength(100);
    expect(result.statistics).toHaveLength(100);
    expect(result.elapsedMs).toBeGreaterThan(0);
  });

  test('exactly one MARKET_OPEN per trading day per strategy, at 09:30 ET of that day', () => {
    for (const [id, trail] of Object.entries(result.auditTrails)) {
      const opens = trail.filter((r) => r.trigger === 'MARKET_OPEN');
      expect({ id, days: opens.map((r) => ny(r.at).toISODate()) }).toEqual({ id, days });
      expect(new Set(opens.map(hhmm))).toEqual(new Set(['09:30']));
    }
  });

  test('strategies trade: entries pass their own guards, positions open and close, nothing ends in ERROR', () => {
    for (const def of DEFS) {
      const trails = Object.entries(result.auditTrails)
        .filter(([id]) => id.startsWith(`${def.id}-`))
        .flatMap(([, t]) => t);
      expect(trails.filter((r) => r.trigger === 'ENTRY_CONDITIONS_MET' && r.accepted).length).toBeGreaterThan(10);
      expect(trails.some((r) => r.trigger === 'ENTRY_CONDITIONS_MET' && r.code === 'GUARD_FAILED')).toBe(true);
    }
    expect(all.filter((r) => r.currentState === 'CLOSED' && r.accepted).length).toBeGreaterThan(500);
    expect(all.some((r) => r.currentState === 'ERROR')).toBe(false);
    for (const r of all.filter((x) => x.trigger === 'ENTRY_CONDITIONS_MET' && x.accepted)) {
      const dte = daysToExpiry(r.data.expiry as string, r.at);
      expect(dte === 0 || (dte >= 45 && dte <= 120)).toBe(true);
    }
  });

  test('zeroDte enters on Fridays only and is out by 15:45 ET (12:45 before a 13:00 early close)', () => {
    const zero = Object.entries(result.auditTrails)
      .filter(([id]) => id.startsWith('zeroDte'))
      .flatMap(([, t]) => t);
    const entries = zero.filter((r) => r.trigger === 'ENTRY_CONDITIONS_MET' && r.accepted);
    expect(entries.length).toBeGreaterThan(0);
    expect(new Set(entries.map((r) => ny(r.at).weekdayShort))).toEqual(new Set(['Fri']));
    const exits = zero.filter((r) => r.accepted && r.currentState === 'PENDING_EXIT');
    expect(exits).toHaveLength(entries.length);
    for (const r of exits)
      expect([r.trigger, hhmm(r)]).toEqual(['TIME_WINDOW_END', marketCalendar.session(r.at)!.earlyClose ? '12:45' : '15:45']);
    // Every position is opened and closed on the same day.
    for (const [, trail] of Object.entries(result.auditTrails).filter(([id]) => id.startsWith('zeroDte'))) {
      const moves = trail
        .filter((r) => r.accepted && (r.currentState === 'POSITION_OPEN' || r.currentState === 'CLOSED'))
        .map((r) => `${r.currentState} ${ny(r.at).toISODate()}`);
      for (let i = 0; i < moves.length; i += 2) expect(moves[i + 1]?.replace('CLOSED', 'POSITION_OPEN')).toBe(moves[i]);
    }
  });

  test('lt112 and strangle exit by the 21-DTE rule at a market open', () => {
    const exits = all.filter((r) => r.trigger === 'DEFENSIVE_EXIT_DTE');
    expect(exits.length).toBeGreaterThan(50);
    for (const r of exits) {
      expect(r).toMatchObject({ accepted: true, previousState: 'MANAGING', currentState: 'PENDING_EXIT' });
      expect(hhmm(r)).toBe('09:30');
      expect(r.data.dte).toBeLessThanOrEqual(21);
    }
  });

  test('FOMC and earnings notices suspend flat strategies, which resume at the first open after the event', () => {
    const fomc = all.filter((r) => r.trigger === 'FOMC_MEETING' && r.accepted);
    expect(fomc.length).toBeGreaterThan(0);
    for (const r of fomc) expect(ny(r.at).toISODate()).toBe(marketCalendar.addTradingDays(r.data.date as string, -1));
    const earnings = all.filter((r) => r.trigger === 'EARNINGS_APPROACHING');
    for (const [id, trail] of Object.entries(result.auditTrails)) {
      const got = trail.filter((r) => r.trigger === 'EARNINGS_APPROACHING').map((r) => r.data.symbol);
      expect(got.every((symbol) => result.strategies.find((s) => s.id === id)!.getSnapshot().context.params.underlying === symbol)).toBe(
        true,
      );
    }
    expect(new Set(earnings.map((r) => r.data.symbol))).toEqual(new Set(['AAPL', 'MSFT']));
    for (const trail of Object.values(result.auditTrails)) {
      trail.forEach((r, i) => {
        if (r.trigger !== 'RESUME') return;
        const suspendedBy = trail
          .slice(0, i)
          .reverse()
          .find((x) => x.accepted && x.currentState === 'SUSPENDED')!;
        expect(ny(r.at).toISODate()! > (suspendedBy.data.date as string)).toBe(true);
        expect(hhmm(r)).toBe('09:30');
      });
    }
  });
});

describe('runSimulation', () => {
  test('is deterministic for a seed', () => {
    const run = (seed: number) => runSimulation({ from: '2026-01-01', to: '2026-02-27', strategies: mixed(6), seed }).auditTrails;
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  test('prebuilt strategies on the caller clock: nothing is left armed afterwards', () => {
    const clock = createSimulatedClock('2026-03-02T00:00:00-05:00');
    const strategies = DEFS.map((def) => start(def, { clock, id: `${def.id}-pre` }).strategy);
    const result = runSimulation({ from: '2026-03-02', to: '2026-03-13', strategies, clock });
    expect(result.strategies).toEqual(strategies); // the same actors, still running
    expect(result.strategies.map((s) => s.id)).toEqual(['zeroDte-pre', 'lt112-pre', 'strangle-pre']);
    const lengths = strategies.map((s) => s.getAuditTrail().length);
    clock.set(Date.parse('2026-06-01T00:00:00Z'));
    expect(strategies.map((s) => s.getAuditTrail().length)).toEqual(lengths);
    for (const s of strategies) s.stop();
  });

  test('bad input is named', () => {
    const clock = createSimulatedClock(0);
    const one = mixed(1);
    expect(() => runSimulation({ from: '2026-02-01', to: '2026-01-01', strategies: one })).toThrow(
      expect.objectContaining({ name: 'SimulationInputError', field: 'to' }),
    );
    expect(() => runSimulation({ from: '2026-1-1', to: '2026-01-31', strategies: one })).toThrow(
      expect.objectContaining({ field: 'from' }),
    );
    expect(() => runSimulation({ from: '2026-1-1', to: '2026-01-31', strategies: one })).toThrow(SimulationInputError);
    expect(() => runSimulation({ from: '2026-01-01', to: '2026-01-31', strategies: [...one, ...one] })).toThrow(
      'runSimulation: strategies[1].id is used twice (strategy "zeroDte-0")',
    );
    expect(() =>
      runSimulation({
        from: '2026-01-01',
        to: '2026-01-31',
        strategies: [start(lt112, { clock }).strategy],
        clock: createSimulatedClock(0),
      }),
    ).toThrow(/strategies\[0\] runs on another clock than the simulation/);
    expect(() =>
      runSimulation({ from: '2026-01-01', to: '2026-01-31', strategies: [{ id: 'w', definition: { ...strangle, id: 'weekly' } }] }),
    ).toThrow(/has no time windows for its variant "weekly"/);
    expect(() =>
      runSimulation({
        from: '2026-01-01',
        to: '2026-01-31',
        strategies: [{ id: 'w', definition: { ...strangle, id: 'weekly' } }],
        windows: { weekly: TIME_WINDOWS.strangle },
      }),
    ).toThrow(expect.objectContaining({ name: 'SimulationInputError', field: 'strategies[0].dteBand' }));
    expect(() => runSimulation({ from: '2030-01-01', to: '2030-01-31', strategies: one })).toThrow(CalendarRangeError);
  });

  test('a custom variant runs with its own windows and DTE band', () => {
    const weekly: StrategyDefinition = { ...strangle, id: 'weekly' };
    const result = runSimulation({
      from: '2026-03-02',
      to: '2026-03-31',
      strategies: [{ id: 'weekly-1', definition: weekly, dteBand: { min: 30, max: 60 } }],
      windows: { weekly: [{ name: 'entry', kind: 'entry', start: '11:00', end: '12:00' }] },
      eventCalendar: parseEventCalendar('type,symbol,date\nFOMC,,2026-03-18\n', 'csv'),
    });
    const starts = result.auditTrails['weekly-1'].filter((r) => r.trigger === 'TIME_WINDOW_START');
    expect(new Set(starts.map(hhmm))).toEqual(new Set(['11:00']));
  });
});

describe('simulated market data', () => {
  test.each([
    [2026, 1, '2026-01-16'],
    [2026, 4, '2026-04-17'],
    [2026, 6, '2026-06-18'], // the third Friday is Juneteenth
    [2026, 12, '2026-12-18'],
    [2027, 6, '2027-06-17'], // Juneteenth observed on Friday 2027-06-18
    [2029, 3, '2029-03-16'], // beyond the calendar: the unadjusted Friday
  ])('monthly expiry %i-%i is %s', (year, month, expiry) => {
    expect(monthlyExpiry(year, month)).toBe(expiry);
  });

  test('candidate expiry: a monthly in the band, the nearest one otherwise, today for same-day', () => {
    const at = Date.parse('2026-08-24T10:00:00-04:00');
    expect(candidateExpiry(at, { min: 112, max: 120 })).toBe('2026-12-18');
    expect(candidateExpiry(at, { min: 45, max: 90 })).toBe('2026-10-16');
    expect(candidateExpiry(Date.parse('2026-09-01T10:00:00-04:00'), { min: 112, max: 120 })).toBe('2026-12-18'); // 108 DTE: nearest
    expect(candidateExpiry(at, { min: 0, max: 0 })).toBe('2026-08-24');
  });

  test('the VIX series is seeded and stays in a plausible range', () => {
    const days = marketCalendar.tradingDays('2026-01-01', '2026-12-31');
    const a = simulatedVix(3, days);
    expect(simulatedVix(3, days)).toEqual(a);
    expect(simulatedVix(4, days)).not.toEqual(a);
    for (const v of a.values()) expect(v).toBeGreaterThanOrEqual(9);
    expect([...a.values()].filter((v) => v >= 12 && v <= 35).length).toBeGreaterThan(200);
  });
});
