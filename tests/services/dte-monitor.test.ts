/** The DTE rule on the clock: DEFENSIVE_EXIT_DTE once, at the first open of the defensive day. */
import { createActor } from 'xstate';
import type { StrategyDefinition } from '../../machines/definition';
import type { StrategyEvent } from '../../machines/events';
import { lt112, zeroDte } from '../../machines/variants';
import { createSimulatedClock, type SimulatedClockHandle } from '../../services/market/clock';
import { CalendarRangeError } from '../../services/market/marketCalendar';
import { ExpiredPositionError } from '../../machines/errors';
import { dteMonitor, startDteMonitor } from '../../services/market/dteMonitor';
import { DteMonitorError, defensiveExitInstant, hasExpiredAt, sameDayExitInstant } from '../../services/market/dteRules';
import { startMarketClock, toStrategies } from '../../services/market/marketClock';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { createStrategyActor, type StrategyActor } from '../../services/runtime/strategyActor';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { drive, start } from '../support/fixtures';

const iso = (ms: number): string => new Date(ms).toISOString();
const et = (local: string): number => Date.parse(`${local}-05:00`); // EST dates only
const defensive = (s: StrategyActor) => s.getAuditTrail().filter((r) => r.trigger === 'DEFENSIVE_EXIT_DTE');

/** A strategy holding `quantity` contracts expiring `expiry`, filled at `at`. */
function holding(
  def: StrategyDefinition,
  at: number,
  expiry: string,
  clock?: SimulatedClockHandle,
): { strategy: StrategyActor; clock: SimulatedClockHandle } {
  const started = start(def, { clock: clock ?? createSimulatedClock(at) });
  const entry: StrategyEvent = { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry };
  drive(started.strategy, [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START' },
    entry,
    { type: 'ORDER_SUBMITTED' },
    { type: 'ORDER_FILLED', quantity: 2, expiry },
  ]);
  return started;
}

/** lt112 without entry rules, to open a position already inside 21 DTE. */
const unguarded: StrategyDefinition = { ...lt112, id: 'lt112Unguarded', entryGuards: [] };

describe('defensiveExitInstant (pure)', () => {
  test.each([
    // expiry, from, due (UTC), why
    ['2026-12-18', '2026-08-24T10:00:00-04:00', '2026-11-27T14:30:00.000Z', '21 DTE on 2026-11-27, an early-close day that opens 09:30'],
    [
      '2026-04-24',
      '2026-01-05T10:00:00-05:00',
      '2026-04-06T13:30:00.000Z',
      '21 DTE falls on Good Friday 2026-04-03: the next open, Monday',
    ],
    ['2027-01-22', '2026-10-01T10:00:00-04:00', '2027-01-04T14:30:00.000Z', "21 DTE falls on New Year's Day 2027: Monday 2027-01-04"],
    ['2026-06-18', '2026-03-02T10:00:00-05:00', '2026-05-28T13:30:00.000Z', 'the June expiry moved to Thursday by Juneteenth'],
    ['2026-07-24', '2026-04-01T10:00:00-04:00', '2026-07-06T13:30:00.000Z', '21 DTE on the observed Independence Day 2026-07-03'],
    ['2026-12-18', '2026-12-01T11:00:00-05:00', '2026-12-02T14:30:00.000Z', 'already inside 21 DTE during a session: the next open'],
    ['2026-12-18', '2026-12-01T07:00:00-05:00', '2026-12-01T14:30:00.000Z', 'already inside 21 DTE before the open: that open'],
    ['2026-12-18', '2026-11-27T14:30:00.000Z', '2026-11-27T14:30:00.000Z', 'at the open itself: at once'],
  ])('expiry %s from %s -> %s (%s)', (expiry, from, due) => {
    expect(iso(defensiveExitInstant(expiry, 21, Date.parse(from)))).toBe(due);
  });

  test('bad arguments are DteMonitorErrors naming the field; years past the calendar are CalendarRangeErrors', () => {
    expect(() => defensiveExitInstant('2026-13-01', 21, 0)).toThrow(expect.objectContaining({ name: 'DteMonitorError', field: 'expiry' }));
    expect(() => defensiveExitInstant('2026-12-18', -1, 0)).toThrow(expect.objectContaining({ field: 'defensiveDte' }));
    expect(() => defensiveExitInstant('2026-12-18', 21, Number.NaN)).toThrow(DteMonitorError);
    expect(() => defensiveExitInstant('2029-06-15', 21, Date.parse('2029-01-02T12:00:00Z'))).toThrow(CalendarRangeError);
  });

  test('sameDayExitInstant: the manage window end, 15:45 ET, or 12:45 ET on a 13:00 early close', () => {
    expect(iso(sameDayExitInstant('2026-12-04', et('2026-12-04T10:35:00')))).toBe('2026-12-04T20:45:00.000Z');
    expect(iso(sameDayExitInstant('2026-11-27', Date.parse('2026-11-27T15:35:00Z')))).toBe('2026-11-27T17:45:00.000Z');
    expect(iso(sameDayExitInstant('2026-12-04', et('2026-12-04T15:50:00')))).toBe('2026-12-04T20:50:00.000Z'); // already past: now
  });
});

describe('dteMonitor on a strategy', () => {
  test('expiry 2026-12-18, defensive DTE 21: DEFENSIVE_EXIT_DTE at 2026-11-27 09:30 ET exactly, once', () => {
    const { strategy, clock } = holding(lt112, Date.parse('2026-08-24T10:00:00-04:00'), '2026-12-18');
    const monitor = startDteMonitor({ strategy });
    expect(monitor.rule).toBe('defensiveDte');
    expect(iso(monitor.dueAt!)).toBe('2026-11-27T14:30:00.000Z');
    clock.set(Date.parse('2026-08-25T09:30:00-04:00'));
    drive(strategy, [{ type: 'MARKET_OPEN' }]); // POSITION_OPEN -> MANAGING

    clock.set(Date.parse('2026-11-27T14:29:59.999Z'));
    expect(defensive(strategy)).toEqual([]);
    clock.increment(1);
    clock.set(Date.parse('2026-11-27T14:39:59Z')); // until PENDING_EXIT's stuck deadline (nothing answers the exit here)
    const sent = defensive(strategy);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      timestamp: '2026-11-27T09:30:00.000-05:00',
      accepted: true,
      previousState: 'MANAGING',
      currentState: 'PENDING_EXIT',
      data: { dte: 21 },
    });
    expect(monitor.dueAt).toBeNull();
    monitor.stop();
  });

  test('a position opened already inside 21 DTE: at the next open, once, with the market clock sending that open too', () => {
    const { strategy, clock } = holding(unguarded, et('2026-12-01T11:00:00'), '2026-12-18');
    const monitor = startDteMonitor({ strategy });
    const bells = startMarketClock({ clock, target: toStrategies([strategy]) });
    clock.set(et('2026-12-02T09:39:59')); // until PENDING_EXIT's stuck deadline (nothing answers the exit here)
    const sent = defensive(strategy);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      timestamp: '2026-12-02T09:30:00.000-05:00',
      accepted: true,
      currentState: 'PENDING_EXIT',
      data: { dte: 16 },
    });
    // The same instant's MARKET_OPEN moved it to MANAGING first, whichever timer ran first.
    const open = strategy.getAuditTrail().find((r) => r.trigger === 'MARKET_OPEN' && r.at === sent[0].at);
    expect(open).toMatchObject({ previousState: 'POSITION_OPEN', currentState: 'MANAGING' });
    bells.stop();
    monitor.stop();
  });

  test('an event due while the strategy is elsewhere (ERROR) waits and is sent when it reaches MANAGING', () => {
    const { strategy, clock } = holding(lt112, Date.parse('2026-08-24T10:00:00-04:00'), '2026-12-18');
    const monitor = startDteMonitor({ strategy });
    clock.set(Date.parse('2026-08-25T09:30:00-04:00'));
    drive(strategy, [{ type: 'MARKET_OPEN' }]);
    clock.set(Date.parse('2026-11-27T14:20:00Z')); // 09:20 ET
    drive(strategy, [{ type: 'SYSTEM_ERROR', reason: 'feed down' }]);
    clock.set(Date.parse('2026-11-27T14:30:00Z'));
    expect(defensive(strategy)).toEqual([]); // held: ERROR has no DEFENSIVE_EXIT_DTE edge
    clock.set(Date.parse('2026-11-27T15:00:00Z')); // auto-recovery to MANAGING at 09:50 ET
    expect(defensive(strategy)).toEqual([
      expect.objectContaining({
        timestamp: '2026-11-27T09:50:00.000-05:00',
        accepted: true,
        previousState: 'MANAGING',
        currentState: 'PENDING_EXIT',
      }),
    ]);
    monitor.stop();
  });

  test('an exit that ended without closing the position (stuck, ERROR, recovered to MANAGING) is sent again: at once while the market is open', () => {
    const { strategy, clock } = holding(lt112, Date.parse('2026-08-24T10:00:00-04:00'), '2026-12-18');
    const monitor = startDteMonitor({ strategy });
    clock.set(Date.parse('2026-08-25T09:30:00-04:00'));
    drive(strategy, [{ type: 'MARKET_OPEN' }]);
    // 09:30 the exit; nothing answers it: 09:40 stuck -> ERROR; 10:10 recovered to MANAGING.
    clock.set(et('2026-11-27T10:11:00'));
    expect(defensive(strategy).map((r) => [r.timestamp, r.currentState])).toEqual([
      ['2026-11-27T09:30:00.000-05:00', 'PENDING_EXIT'],
      ['2026-11-27T10:10:00.000-05:00', 'PENDING_EXIT'],
    ]);
    expect(strategy.getAuditTrail().at(-2)).toMatchObject({
      previousState: 'ERROR',
      currentState: 'MANAGING',
      timestamp: '2026-11-27T10:10:00.000-05:00',
    });
    monitor.stop();
  });

  test('same-day: an exit that came back to MANAGING after the close is not sent again (its contracts expired): held for an operator', () => {
    const day = '2026-12-04';
    const { strategy, clock } = holding(zeroDte, et(`${day}T10:35:00`), day);
    const errors: unknown[] = [];
    const monitor = startDteMonitor({ strategy, onError: (e) => errors.push(e) });
    // 15:45 the exit; 15:50 stuck -> ERROR; the contracts expire at 16:00: held in ERROR for an
    // operator then, not recovered to MANAGING at 16:20 (and held only then). Before that, the exit
    // went out again at Monday's open, for contracts that no longer existed.
    clock.set(et(`${day}T16:20:00`));
    expect(strategy.getAuditTrail().at(-1)).toMatchObject({
      trigger: 'MANUAL_OVERRIDE',
      previousState: 'ERROR',
      currentState: 'ERROR',
      timestamp: '2026-12-04T16:00:00.000-05:00',
    });
    expect(strategy.getSnapshot().context.deadline).toBeNull();
    expect(monitor.dueAt).toBeNull();
    expect(errors).toEqual([expect.any(ExpiredPositionError)]);
    expect(errors[0]).toMatchObject({ strategyId: strategy.id, expiry: day, quantity: 2, state: 'ERROR' });
    clock.set(et('2026-12-07T09:30:00'));
    const exits = strategy.getAuditTrail().filter((r) => r.trigger === 'TIME_WINDOW_END');
    expect(exits.map((r) => [r.timestamp, r.currentState])).toEqual([['2026-12-04T15:45:00.000-05:00', 'PENDING_EXIT']]);
    expect(strategy.state).toBe('ERROR');
    monitor.stop();
  });

  test('an exit refused where the strategy stays (HALTED) is not sent again and again: only a return to MANAGING re-arms it', () => {
    const clock = createSimulatedClock(Date.parse('2026-08-24T10:00:00-04:00'));
    const system = createStrategySystem({ clock });
    const strategy = system.add(lt112, { id: 'lt' });
    for (const e of [
      { type: 'MARKET_OPEN' },
      { type: 'TIME_WINDOW_START' },
      { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2026-12-18' },
      { type: 'ORDER_SUBMITTED' },
      { type: 'ORDER_FILLED', quantity: 2, expiry: '2026-12-18' },
    ] as StrategyEvent[])
      system.send('lt', e);
    const monitor = startDteMonitor({ strategy, send: (event) => system.send('lt', event) });
    clock.set(Date.parse('2026-08-25T09:30:00-04:00'));
    system.send('lt', { type: 'MARKET_OPEN' });
    system.setTradingState('HALTED', 'desk');
    clock.set(et('2026-11-27T16:00:00'));
    expect(defensive(strategy).map((r) => [r.timestamp, r.accepted, r.code])).toEqual([
      ['2026-11-27T09:30:00.000-05:00', false, 'TRADING_HALTED'],
    ]);
    expect(strategy.state).toBe('MANAGING');
    monitor.stop();
    system.stop();
  });

  test('a position closed before it falls due sends nothing; a new position is watched afresh', () => {
    const { strategy, clock } = holding(lt112, Date.parse('2026-08-24T10:00:00-04:00'), '2026-12-18');
    const monitor = startDteMonitor({ strategy });
    clock.set(Date.parse('2026-08-25T09:30:00-04:00'));
    drive(strategy, [{ type: 'MARKET_OPEN' }, { type: 'MARGIN_CALL' }, { type: 'ORDER_SUBMITTED' }, { type: 'ORDER_FILLED', quantity: 2 }]);
    expect(monitor.dueAt).toBeNull();
    clock.set(Date.parse('2026-09-01T10:00:00-04:00'));
    drive(strategy, [
      { type: 'MARKET_OPEN' },
      { type: 'TIME_WINDOW_START' },
      { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2026-12-24' },
      { type: 'ORDER_SUBMITTED' },
      { type: 'ORDER_FILLED', quantity: 1, expiry: '2026-12-24' },
    ]);
    expect(iso(monitor.dueAt!)).toBe('2026-12-03T14:30:00.000Z'); // 21 DTE before Christmas Eve
    clock.set(Date.parse('2026-11-27T15:00:00Z'));
    expect(defensive(strategy)).toEqual([]);
    monitor.stop();
  });

  test('same-day variant: TIME_WINDOW_END (manage) at 15:45 ET, or 12:45 before the 13:00 early close', () => {
    for (const [day, due] of [
      ['2026-12-04', '2026-12-04T15:45:00.000-05:00'],
      ['2026-11-27', '2026-11-27T12:45:00.000-05:00'],
    ]) {
      const { strategy, clock } = holding(zeroDte, et(`${day}T10:35:00`), day);
      const monitor = startDteMonitor({ strategy });
      expect(monitor.rule).toBe('sameDay');
      clock.set(et(`${day}T17:00:00`));
      const exits = strategy.getAuditTrail().filter((r) => r.trigger === 'TIME_WINDOW_END');
      expect(exits).toEqual([
        expect.objectContaining({
          timestamp: due,
          accepted: true,
          previousState: 'POSITION_OPEN',
          currentState: 'PENDING_EXIT',
          data: { window: 'manage' },
        }),
      ]);
      expect(defensive(strategy)).toEqual([]);
      monitor.stop();
    }
  });

  test('stop() cancels the pending exit; the actor form stops with its parent', () => {
    const { strategy, clock } = holding(lt112, Date.parse('2026-08-24T10:00:00-04:00'), '2026-12-18');
    const actor = createActor(dteMonitor, { input: { strategy } }).start();
    clock.set(Date.parse('2026-08-25T09:30:00-04:00'));
    drive(strategy, [{ type: 'MARKET_OPEN' }]);
    actor.stop();
    clock.set(Date.parse('2026-12-01T00:00:00Z'));
    expect(defensive(strategy)).toEqual([]);
  });
});

describe('a position with no expiry', () => {
  const filledWithout = (expiry?: string): StrategyEvent[] => [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START' },
    { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-29' },
    { type: 'ORDER_SUBMITTED' },
    { type: 'ORDER_PARTIALLY_FILLED', quantity: 1 },
    { type: 'ORDER_FILLED', quantity: 1, ...(expiry ? { expiry } : {}) },
    { type: 'MARKET_OPEN' },
  ];

  test('is reported to onError once, when managed: no exit can be armed for it (before, nothing was said)', () => {
    const { strategy, clock } = start(lt112, { clock: createSimulatedClock(et('2026-12-04T11:00:00')) });
    const errors: unknown[] = [];
    const monitor = startDteMonitor({ strategy, onError: (e) => errors.push(e) });
    drive(strategy, filledWithout());
    expect(strategy.state).toBe('MANAGING');
    expect(monitor.dueAt).toBeNull();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(DteMonitorError);
    expect(errors[0]).toMatchObject({ field: 'expiry' });
    expect((errors[0] as Error).message).toContain('lt112-1 manages 2 contracts with no expiry, so no 21-DTE exit is armed');
    // Not again for the same position: a day later, another event it sees.
    clock.increment(24 * 3600_000);
    strategy.trigger({ type: 'MARKET_OPEN' });
    expect(errors).toHaveLength(1);
    monitor.stop();
  });

  test('a partial fill without expiry followed by a fill with one is not reported: the exit is armed', () => {
    const { strategy } = start(lt112, { clock: createSimulatedClock(et('2026-12-04T11:00:00')) });
    const errors: unknown[] = [];
    const monitor = startDteMonitor({ strategy, onError: (e) => errors.push(e) });
    drive(strategy, filledWithout('2027-03-29'));
    expect(errors).toEqual([]);
    expect(monitor.dueAt).not.toBeNull();
    monitor.stop();
  });
});

describe('an expiry not written yyyy-MM-dd is not taken as expired', () => {
  test('hasExpiredAt refuses it by name (compared as text, 02/26/2027 sorted before every ISO date)', () => {
    const at = et('2026-11-02T10:40:00');
    expect(() => hasExpiredAt('02/26/2027', at)).toThrow(DteMonitorError);
    expect(() => hasExpiredAt('02/26/2027', at)).toThrow('DTE monitor: expiry must be a date written yyyy-MM-dd, got "02/26/2027"');
    expect(() => hasExpiredAt('2027-02-26', Number.NaN)).toThrow('DTE monitor: at must be epoch milliseconds, got NaN');
    expect(hasExpiredAt('2027-02-26', at)).toBe(false);
  });

  test('a restored lt112 holding "02/26/2027" (months away) is not held in ERROR as expired: the expiry is reported as malformed', () => {
    const { strategy, clock } = holding(lt112, et('2026-11-02T10:40:00'), '2027-02-26');
    const persisted = JSON.parse(JSON.stringify(strategy.getPersistedSnapshot())) as ReturnType<StrategyActor['getPersistedSnapshot']>;
    (persisted.snapshot as unknown as { context: { position: { expiry: string } } }).context.position.expiry = '02/26/2027';
    const restored = createStrategyActor(createStrategyMachine(lt112), { clock, snapshot: persisted });
    expect(restored.state).toBe('POSITION_OPEN');
    const errors: unknown[] = [];
    let thrown: unknown;
    try {
      startDteMonitor({ strategy: restored, clock, onError: (e) => errors.push(e) });
    } catch (error) {
      thrown = error;
    }
    clock.increment(60_000);
    // Before, an ExpiredPositionError and SYSTEM_ERROR: held in ERROR for an operator.
    expect(restored.state).toBe('POSITION_OPEN');
    expect(errors.some((e) => e instanceof ExpiredPositionError)).toBe(false);
    expect([thrown, ...errors].filter((e) => e instanceof DteMonitorError)).toEqual([expect.objectContaining({ field: 'expiry' })]);
  });
});
