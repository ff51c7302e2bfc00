/** The market clock and the time windows: bells at the right UTC instants, trading days only. */
import { createActor, setup, type InspectionEvent } from 'xstate';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { CalendarRangeError } from '../../services/market/marketCalendar';
import {
  MAX_TIMER_MS,
  createSessionCache,
  marketClock,
  nextMarketBell,
  scheduleAt,
  startMarketClock,
  toStrategies,
} from '../../services/market/marketClock';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { marketDate } from '../../services/market/time';
import {
  TIME_WINDOWS,
  TimeWindowError,
  isWindowEventFor,
  nextWindowBell,
  startTimeWindows,
  validateWindows,
  windowInstants,
  windowsFor,
  windowsOpenAt,
  type TimeWindow,
} from '../../services/market/timeWindows';

const iso = (ms: number): string => new Date(ms).toISOString();
const etMidnight = (date: string): number => Date.parse(`${date}T00:00:00-05:00`);

/** Runs the market clock from `from` to the end of `to`; returns what it sent, with UTC times. */
function bells(from: string, to: string): Array<{ date: string; type: string; at: string }> {
  const clock = createSimulatedClock(etMidnight(from));
  const sent: Array<{ date: string; type: string; at: string }> = [];
  const schedule = startMarketClock({
    clock,
    target: (event) => sent.push({ date: marketDate(clock.now()), type: event.type, at: iso(clock.now()) }),
  });
  clock.set(etMidnight(to) + 24 * 3_600_000 - 1);
  schedule.stop();
  return sent;
}

describe('market clock', () => {
  test('a normal day: MARKET_OPEN at 09:30 ET and MARKET_CLOSE at 16:00 ET', () => {
    expect(bells('2026-12-01', '2026-12-01')).toEqual([
      { date: '2026-12-01', type: 'MARKET_OPEN', at: '2026-12-01T14:30:00.000Z' },
      { date: '2026-12-01', type: 'MARKET_CLOSE', at: '2026-12-01T21:00:00.000Z' },
    ]);
  });

  test('a weekend sends nothing; the next bell is Monday open', () => {
    expect(bells('2026-12-05', '2026-12-06')).toEqual([]);
    expect(iso(nextMarketBell(etMidnight('2026-12-05')).at)).toBe('2026-12-07T14:30:00.000Z');
  });

  test('Thanksgiving closed, the day after and Christmas Eve close at 13:00 ET, Christmas closed', () => {
    const sent = bells('2026-11-26', '2026-12-25');
    const on = (date: string) => sent.filter((b) => b.date === date).map((b) => `${b.type} ${b.at}`);
    expect(on('2026-11-26')).toEqual([]);
    expect(on('2026-11-27')).toEqual(['MARKET_OPEN 2026-11-27T14:30:00.000Z', 'MARKET_CLOSE 2026-11-27T18:00:00.000Z']);
    expect(on('2026-12-24')).toEqual(['MARKET_OPEN 2026-12-24T14:30:00.000Z', 'MARKET_CLOSE 2026-12-24T18:00:00.000Z']);
    expect(on('2026-12-25')).toEqual([]);
    // Every trading day in between has exactly one open and one close.
    expect(sent.filter((b) => b.type === 'MARKET_OPEN')).toHaveLength(20);
    expect(sent.filter((b) => b.type === 'MARKET_CLOSE')).toHaveLength(20);
  });

  test.each([
    ['2026-03-06', '2026-03-06T14:30:00.000Z', 'EST, before the March switch'],
    ['2026-03-09', '2026-03-09T13:30:00.000Z', 'EDT, after the March switch'],
    ['2026-10-30', '2026-10-30T13:30:00.000Z', 'EDT, before the November switch'],
    ['2026-11-02', '2026-11-02T14:30:00.000Z', 'EST, after the November switch'],
  ])('DST: the open on %s is %s (%s)', (date, utc) => {
    expect(bells(date, date)[0]).toEqual({ date, type: 'MARKET_OPEN', at: utc });
  });

  test('across a whole DST weekend the bells follow New York time', () => {
    const sent = bells('2026-10-30', '2026-11-02');
    expect(sent.map((b) => b.at)).toEqual([
      '2026-10-30T13:30:00.000Z',
      '2026-10-30T20:00:00.000Z',
      '2026-11-02T14:30:00.000Z',
      '2026-11-02T21:00:00.000Z',
    ]);
  });

  test('a strategy target: the audit record carries the New York time of the bell', () => {
    const clock = createSimulatedClock(etMidnight('2026-12-01'));
    const strategy = createStrategyActor(createStrategyMachine(lt112), { id: 'lt112-1', clock });
    const schedule = startMarketClock({ clock, target: toStrategies([strategy]) });
    clock.set(etMidnight('2026-12-02'));
    schedule.stop();
    const trail = strategy.getAuditTrail().map((r) => [r.trigger, r.timestamp, r.currentState]);
    expect(trail).toEqual([
      ['MARKET_OPEN', '2026-12-01T09:30:00.000-05:00', 'READY'],
      ['MARKET_CLOSE', '2026-12-01T16:00:00.000-05:00', 'READY'],
    ]);
  });

  test('stop(): nothing fires afterwards', () => {
    const clock = createSimulatedClock(etMidnight('2026-12-01'));
    const sent: string[] = [];
    const schedule = startMarketClock({ clock, target: (e) => sent.push(e.type) });
    expect(iso(schedule.next!.at)).toBe('2026-12-01T14:30:00.000Z');
    schedule.stop();
    clock.set(etMidnight('2026-12-10'));
    expect(sent).toEqual([]);
    expect(schedule.next).toBeNull();
  });

  test('a throwing target is reported and the clock keeps ringing', () => {
    const clock = createSimulatedClock(etMidnight('2026-12-01'));
    const errors: unknown[] = [];
    const schedule = startMarketClock({
      clock,
      target: () => {
        throw new Error('boom');
      },
      onError: (e) => errors.push(e),
    });
    clock.set(etMidnight('2026-12-03'));
    schedule.stop();
    expect(errors).toHaveLength(4);
  });

  test('starting outside the calendar throws CalendarRangeError at once', () => {
    const clock = createSimulatedClock('2031-01-02T08:00:00-05:00');
    expect(() => startMarketClock({ clock, target: () => undefined })).toThrow(CalendarRangeError);
  });

  test('as an XState callback actor: bells go back to the parent, the inspector sees the actor, stopping the parent clears the timer', () => {
    const clock = createSimulatedClock(etMidnight('2026-12-01'));
    const parent = setup({ types: { context: {} as { seen: string[] } }, actors: { marketClock } }).createMachine({
      context: { seen: [] },
      invoke: { id: 'bells', src: 'marketClock', input: { clock } },
      on: { '*': { actions: ({ context, event }) => context.seen.push(event.type) } },
    });
    const inspected: InspectionEvent[] = [];
    const actor = createActor(parent, { clock, inspect: (e) => inspected.push(e) }).start();
    clock.set(etMidnight('2026-12-02'));
    expect(actor.getSnapshot().context.seen).toEqual(['MARKET_OPEN', 'MARKET_CLOSE']);
    expect(inspected.some((e) => e.type === '@xstate.actor' && (e.actorRef as { id?: string }).id === 'bells')).toBe(true);
    actor.stop();
    clock.set(etMidnight('2026-12-03'));
    expect(actor.getSnapshot().context.seen).toHaveLength(2);
  });

  test('scheduleAt waits longer than a Node timer can (re-armed in steps), to the exact instant', () => {
    const start = etMidnight('2026-01-05');
    const clock = createSimulatedClock(start);
    const fired: number[] = [];
    scheduleAt(clock, start + 3 * MAX_TIMER_MS + 5, () => fired.push(clock.now()));
    clock.set(start + 3 * MAX_TIMER_MS + 4);
    expect(fired).toEqual([]);
    clock.increment(1);
    expect(fired).toEqual([start + 3 * MAX_TIMER_MS + 5]);
  });

  test('the session cache answers like the calendar', () => {
    const sessions = createSessionCache();
    for (const at of [etMidnight('2026-11-26'), Date.parse('2026-11-27T18:00:00Z'), Date.parse('2026-03-08T12:00:00Z')]) {
      expect(nextMarketBell(at, sessions)).toEqual(nextMarketBell(at));
    }
    expect(() => sessions.session('2026-02-30')).toThrow(TypeError);
  });
});

describe('time windows', () => {
  /** Runs window bells for `windows` through `date`; returns `type window HH:mm UTC`. */
  function windowBells(windows: readonly TimeWindow[], date: string): string[] {
    const clock = createSimulatedClock(etMidnight(date));
    const sent: string[] = [];
    const schedule = startTimeWindows({
      clock,
      windows,
      target: (e, w) =>
        sent.push(`${e.type} ${e.window} ${iso(clock.now()).slice(11, 16)}${w.clipped && e.type === 'TIME_WINDOW_END' ? ' clipped' : ''}`),
    });
    clock.set(etMidnight(date) + 24 * 3_600_000 - 1);
    schedule.stop();
    return sent;
  }

  test('zeroDte: entry 10:30-14:30 ET, manage until 15:45 ET (Friday 2026-12-04, EST)', () => {
    expect(windowBells(windowsFor('zeroDte'), '2026-12-04')).toEqual([
      'TIME_WINDOW_START entry 15:30',
      'TIME_WINDOW_START manage 15:30',
      'TIME_WINDOW_END entry 19:30',
      'TIME_WINDOW_END manage 20:45',
    ]);
  });

  test('a window that would run past an early close keeps its margin before the close (2026-11-27, 13:00 ET)', () => {
    expect(windowBells(windowsFor('lt112'), '2026-11-27')).toEqual([
      'TIME_WINDOW_START entry 15:00',
      'TIME_WINDOW_END entry 17:00 clipped', // 15:00 is an hour before 16:00: 12:00 ET before a 13:00 close
    ]);
    const [entry, manage] = windowInstants('2026-11-27', TIME_WINDOWS.zeroDte);
    expect([iso(entry.end), entry.clipped]).toEqual(['2026-11-27T16:30:00.000Z', true]); // 14:30 -> 11:30 ET
    expect([iso(manage.end), manage.clipped]).toEqual(['2026-11-27T17:45:00.000Z', true]); // 15:45 -> 12:45 ET: not at the bell
    // A full day is untouched.
    expect(windowInstants('2026-12-04', TIME_WINDOWS.zeroDte).map((w) => [iso(w.end), w.clipped])).toEqual([
      ['2026-12-04T19:30:00.000Z', false],
      ['2026-12-04T20:45:00.000Z', false],
    ]);
  });

  test('a window that would start after an early close is dropped that day', () => {
    const late: TimeWindow[] = [{ name: 'late', kind: 'entry', start: '13:30', end: '15:00' }];
    expect(windowInstants('2026-11-27', late)).toEqual([]);
    expect(iso(nextWindowBell(etMidnight('2026-11-27'), late)!.at)).toBe('2026-11-30T18:30:00.000Z');
  });

  test('no windows on holidays and weekends; across DST the ET times hold', () => {
    expect(windowInstants('2026-11-26', TIME_WINDOWS.lt112)).toEqual([]);
    expect(windowInstants('2026-12-05', TIME_WINDOWS.lt112)).toEqual([]);
    expect(iso(windowInstants('2026-03-06', TIME_WINDOWS.lt112)[0].start)).toBe('2026-03-06T15:00:00.000Z');
    expect(iso(windowInstants('2026-03-09', TIME_WINDOWS.lt112)[0].start)).toBe('2026-03-09T14:00:00.000Z');
  });

  test('windowsOpenAt and the audience of each window event', () => {
    expect(windowsOpenAt(Date.parse('2026-12-04T11:00:00-05:00'), TIME_WINDOWS.zeroDte).map((w) => w.name)).toEqual(['entry', 'manage']);
    expect(windowsOpenAt(Date.parse('2026-12-04T14:30:00-05:00'), TIME_WINDOWS.zeroDte).map((w) => w.name)).toEqual(['manage']);
    expect(isWindowEventFor('TIME_WINDOW_END', 'entry', 'MANAGING')).toBe(false);
    expect(isWindowEventFor('TIME_WINDOW_END', 'manage', 'MANAGING')).toBe(true);
    expect(isWindowEventFor('TIME_WINDOW_START', 'entry', 'READY')).toBe(true);
  });

  test.each([
    [{ name: 'x', kind: 'entry', start: '15:00', end: '10:00' }, 'end'],
    [{ name: 'x', kind: 'entry', start: '9:00', end: '10:00' }, 'start'],
    [{ name: 'x', kind: 'entry', start: '08:00', end: '10:00' }, 'start'],
    [{ name: 'x', kind: 'entry', start: '10:00', end: '16:30' }, 'end'],
    [{ name: 'x', kind: 'other', start: '10:00', end: '11:00' }, 'kind'],
    [{ name: '', kind: 'entry', start: '10:00', end: '11:00' }, 'name'],
  ])('an invalid window is a TimeWindowError naming the field: %j', (window, field) => {
    expect(() => validateWindows([window as TimeWindow], 'custom')).toThrow(
      expect.objectContaining({ name: 'TimeWindowError', field, variant: 'custom' }),
    );
  });

  test('a variant without windows is named', () => {
    expect(() => windowsFor('weekly')).toThrow(TimeWindowError);
    expect(() => windowsFor('weekly')).toThrow(/weekly: variant has no time windows \(known: zeroDte, lt112, strangle\)/);
  });
});
