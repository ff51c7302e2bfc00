/** Each variant's own rules: entry guards, the same-day exit, adjustments with substates. */
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { InvalidDefinitionError } from '../../machines/errors';
import type { StrategyEvent } from '../../machines/events';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { drive, start } from '../support/fixtures';

const toAnalyzing: StrategyEvent[] = [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }];
const at = (iso: string) => createSimulatedClock(iso);

describe('zeroDte', () => {
  test.each([
    ['2026-12-04T10:29:00-05:00', 'isInsideEntryWindow: 10:29 ET is outside the entry window 10:30-14:30 ET'],
    ['2026-12-04T14:30:00-05:00', 'isInsideEntryWindow: 14:30 ET is outside the entry window 10:30-14:30 ET'],
    ['2026-12-03T11:00:00-05:00', 'isTradingWeekday: Thu is not an entry day (Fri)'],
    // The day after Thanksgiving closes at 13:00: the window ends 11:30, as the window bells clip it.
    ['2026-11-27T13:30:00-05:00', 'isInsideEntryWindow: 13:30 ET is outside the entry window 10:30-11:30 ET (clipped for the early close)'],
    ['2026-11-27T11:30:00-05:00', 'isInsideEntryWindow: 11:30 ET is outside the entry window 10:30-11:30 ET (clipped for the early close)'],
    // Christmas falls on a Friday in 2026: no session, no window.
    ['2026-12-25T11:00:00-05:00', 'isInsideEntryWindow: 2026-12-25 has no entry window: the market is closed that day'],
  ])('at %s entry is rejected: %s', (time, reason) => {
    const { strategy } = start(zeroDte, { clock: at(time) });
    drive(strategy, toAnalyzing);
    const result = strategy.trigger({ type: 'ENTRY_CONDITIONS_MET', vix: 18 });
    expect(result).toMatchObject({ accepted: false, code: 'GUARD_FAILED', from: 'ANALYZING', to: 'ANALYZING' });
    expect(result.reason).toContain(reason);
  });

  test('inside the clipped window of an early-close Friday, entry passes', () => {
    const { strategy } = start(zeroDte, { clock: at('2026-11-27T11:29:00-05:00') });
    drive(strategy, toAnalyzing);
    expect(strategy.trigger({ type: 'ENTRY_CONDITIONS_MET', vix: 18 })).toMatchObject({ accepted: true, to: 'PENDING_ENTRY' });
  });

  test('inside the window on a Friday with VIX in range, entry passes', () => {
    const { strategy } = start(zeroDte, { clock: at('2026-12-04T10:30:00-05:00') });
    drive(strategy, toAnalyzing);
    expect(strategy.trigger({ type: 'ENTRY_CONDITIONS_MET', vix: 18 })).toMatchObject({ accepted: true, to: 'PENDING_ENTRY' });
  });

  test('every failing rule is named', () => {
    const { strategy } = start(zeroDte, { clock: at('2026-12-05T16:00:00-05:00') });
    drive(strategy, toAnalyzing);
    expect(strategy.trigger({ type: 'ENTRY_CONDITIONS_MET', vix: 50 }).reason).toBe(
      'ENTRY_CONDITIONS_MET rejected in ANALYZING: isInsideEntryWindow: 2026-12-05 has no entry window: the market is closed that day or closes before 10:30 ET; isTradingWeekday: Sat is not an entry day (Fri); isVixInRange: VIX 50 is outside 12-35',
    );
  });

  test('exits before the close instead of the 21-DTE rule', () => {
    const { strategy } = start(zeroDte);
    drive(strategy, [
      ...toAnalyzing,
      { type: 'ENTRY_CONDITIONS_MET', vix: 18 },
      { type: 'ORDER_SUBMITTED' },
      { type: 'ORDER_FILLED', quantity: 1, expiry: '2026-12-04' },
      { type: 'TIME_WINDOW_START' },
    ]);
    expect(strategy.state).toBe('MANAGING');
    expect(strategy.trigger({ type: 'DEFENSIVE_EXIT_DTE' }).reason).toContain('this variant does not use the DTE defensive exit');
    expect(strategy.trigger({ type: 'TIME_WINDOW_END' })).toMatchObject({ accepted: true, to: 'PENDING_EXIT' });
  });
});

describe('lt112', () => {
  test.each([
    ['2027-03-24', 'isDteInBand: expiry 2027-03-24 is 110 DTE, outside 112-120'],
    ['2027-04-03', 'isDteInBand: expiry 2027-04-03 is 120 DTE'],
  ])('expiry %s', (expiry, text) => {
    const { strategy } = start(lt112);
    drive(strategy, toAnalyzing);
    const result = strategy.trigger({ type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry });
    if (text.includes('outside')) {
      expect(result.accepted).toBe(false);
      expect(result.reason).toContain(text);
    } else {
      expect(result).toMatchObject({ accepted: true, to: 'PENDING_ENTRY' });
    }
  });

  // The band and the VIX range are inclusive at both ends (docs/variants.md: 112-120 DTE, VIX 12-40).
  // FRIDAY_11AM is 2026-12-04: 2027-03-26 is 112 DTE, 2027-04-03 is 120 DTE.
  test.each([
    ['2027-03-25', 18, false, 'isDteInBand: expiry 2027-03-25 is 111 DTE, outside 112-120'],
    ['2027-03-26', 18, true, ''],
    ['2027-04-03', 18, true, ''],
    ['2027-04-04', 18, false, 'isDteInBand: expiry 2027-04-04 is 121 DTE, outside 112-120'],
    ['2027-03-29', 11.99, false, 'isVixInRange: VIX 11.99 is outside 12-40'],
    ['2027-03-29', 12, true, ''],
    ['2027-03-29', 40, true, ''],
    ['2027-03-29', 40.01, false, 'isVixInRange: VIX 40.01 is outside 12-40'],
  ])('entry at the bounds: expiry %s, VIX %s, accepted %s', (expiry, vix, accepted, reason) => {
    const { strategy } = start(lt112);
    drive(strategy, toAnalyzing);
    const result = strategy.trigger({ type: 'ENTRY_CONDITIONS_MET', vix, expiry });
    if (accepted) {
      expect(result).toMatchObject({ accepted: true, to: 'PENDING_ENTRY' });
    } else {
      expect(result).toMatchObject({ accepted: false, code: 'GUARD_FAILED', to: 'ANALYZING' });
      expect(result.reason).toContain(reason);
    }
  });

  // The 21-DTE rule passes at or below 21 (docs/variants.md): from FRIDAY_11AM (2026-12-04),
  // an expiry on 2026-12-25 is 21 DTE and exits, one on 2026-12-26 is 22 DTE and does not.
  test.each([
    ['2026-12-25', true, ''],
    ['2026-12-26', false, 'isDteAtOrBelowDefensive: DTE 22 is above the defensive DTE 21'],
  ])('DEFENSIVE_EXIT_DTE with the position expiring %s: exits %s', (expiry, exits, reason) => {
    const { strategy } = start(lt112);
    drive(strategy, [
      ...toAnalyzing,
      { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-29' },
      { type: 'ORDER_SUBMITTED' },
      { type: 'ORDER_FILLED', quantity: 1, expiry },
      { type: 'MARKET_OPEN' },
    ]);
    const result = strategy.trigger({ type: 'DEFENSIVE_EXIT_DTE' });
    if (exits) {
      expect(result).toMatchObject({ accepted: true, from: 'MANAGING', to: 'PENDING_EXIT' });
    } else {
      expect(result).toMatchObject({ accepted: false, code: 'GUARD_FAILED', to: 'MANAGING' });
      expect(result.reason).toContain(reason);
    }
  });

  test('without an expiry the DTE band cannot pass', () => {
    const { strategy } = start(lt112);
    drive(strategy, toAnalyzing);
    expect(strategy.trigger({ type: 'ENTRY_CONDITIONS_MET', vix: 18 }).reason).toContain('isDteInBand: ENTRY_CONDITIONS_MET has no expiry');
  });

  test('a risk event exits instead of adjusting', () => {
    const { strategy } = start(lt112);
    drive(strategy, [
      ...toAnalyzing,
      { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-29' },
      { type: 'ORDER_SUBMITTED' },
      { type: 'ORDER_FILLED', quantity: 1 },
      { type: 'MARKET_OPEN' },
    ]);
    expect(strategy.trigger({ type: 'RISK_LIMIT_EXCEEDED' })).toMatchObject({ accepted: true, to: 'PENDING_EXIT' });
  });
});

describe('strangle', () => {
  test('adjusts on risk through its ROLLING and AWAITING_FILL substates, then manages the rolled position', () => {
    const { strategy } = start(strangle);
    drive(strategy, [
      ...toAnalyzing,
      { type: 'ENTRY_CONDITIONS_MET', vix: 20, expiry: '2027-02-02' },
      { type: 'ORDER_SUBMITTED' },
      { type: 'ORDER_FILLED', quantity: 2, expiry: '2027-02-02' },
      { type: 'MARKET_OPEN' },
    ]);
    expect(strategy.trigger({ type: 'VIX_SPIKE', vix: 40 })).toMatchObject({ accepted: true, to: 'ADJUSTING' });
    expect(strategy.getSnapshot().value).toEqual({ ADJUSTING: 'ROLLING' });
    const submitted = strategy.trigger({ type: 'ORDER_SUBMITTED' });
    expect(submitted).toMatchObject({ accepted: true, from: 'ADJUSTING', to: 'ADJUSTING' });
    expect(submitted.record.message).toBe('ADJUSTING.ROLLING -> ADJUSTING.AWAITING_FILL');
    expect(strategy.getSnapshot().value).toEqual({ ADJUSTING: 'AWAITING_FILL' });
    expect(strategy.trigger({ type: 'ORDER_FILLED', quantity: 2, expiry: '2027-03-19' })).toMatchObject({ accepted: true, to: 'MANAGING' });
    expect(strategy.getSnapshot().context.position).toMatchObject({ quantity: 2, expiry: '2027-03-19' });
  });

  test('the VIX band is checked', () => {
    const { strategy } = start(strangle);
    drive(strategy, toAnalyzing);
    expect(strategy.trigger({ type: 'ENTRY_CONDITIONS_MET', vix: 12, expiry: '2027-02-02' }).reason).toContain(
      'isVixInRange: VIX 12 is outside 15-45',
    );
  });
});

describe('custom variants extend the base without copying it', () => {
  test('an extra edge applies only to the variant that declares it', () => {
    const custom = {
      ...lt112,
      id: 'closeOnEarnings',
      extraEdges: [
        {
          from: ['MANAGING'] as const,
          on: ['EARNINGS_APPROACHING'] as const,
          to: 'PENDING_EXIT' as const,
          why: 'no positions through earnings',
        },
      ],
    };
    const path: StrategyEvent[] = [
      ...toAnalyzing,
      { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-29' },
      { type: 'ORDER_SUBMITTED' },
      { type: 'ORDER_FILLED', quantity: 1 },
      { type: 'MARKET_OPEN' },
    ];
    const a = start(custom).strategy;
    const b = start(lt112).strategy;
    drive(a, path);
    drive(b, path);
    expect(a.trigger({ type: 'EARNINGS_APPROACHING', symbol: 'SPX' })).toMatchObject({ accepted: true, to: 'PENDING_EXIT' });
    expect(b.trigger({ type: 'EARNINGS_APPROACHING', symbol: 'SPX' })).toMatchObject({ accepted: false, code: 'NO_EDGE' });
  });

  test('an extra edge on ANALYZING / ENTRY_CONDITIONS_MET goes before the entry, which keeps its guards', () => {
    const custom = {
      ...lt112,
      id: 'skipWhenHolding',
      extraEdges: [
        { from: ['ANALYZING'] as const, on: ['ENTRY_CONDITIONS_MET'] as const, to: null, guard: 'hasOpenPosition', why: 'already holding' },
      ],
    };
    const good = { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-29' } as const;
    const a = start(custom).strategy;
    drive(a, toAnalyzing);
    // The variant's guard still refuses a bad entry, by name; a good one enters.
    expect(a.trigger({ ...good, vix: 80 })).toMatchObject({ accepted: false, code: 'GUARD_FAILED' });
    expect(a.trigger(good)).toMatchObject({ accepted: true, to: 'PENDING_ENTRY' });
  });

  test('a user entry guard that throws fails with its message instead of killing the actor', () => {
    const custom = {
      ...lt112,
      id: 'flaky',
      entryGuards: [
        {
          name: 'isMarginAvailable',
          description: 'margin',
          check: () => {
            throw new Error('margin service timeout');
          },
        },
      ],
    };
    const { strategy } = start(custom);
    drive(strategy, toAnalyzing);
    const result = strategy.trigger({ type: 'ENTRY_CONDITIONS_MET' });
    expect(result.reason).toContain('isMarginAvailable: guard isMarginAvailable threw: margin service timeout');
    expect(strategy.actorRef.getSnapshot().status).toBe('active');
  });

  test.each([
    [{ ...lt112, id: '' }, 'id must start with a letter'],
    [{ ...lt112, maxErrors: 0 }, 'maxErrors must be a positive integer, got 0'],
    [{ ...lt112, defensiveDte: -1 }, 'defensiveDte must be a whole number of days'],
    [
      { ...lt112, extraEdges: [{ from: ['MANAGING'], on: ['SYSTEM_ERROR'], to: 'READY', why: 'x' }] },
      'SYSTEM_ERROR edges are fixed by the lifecycle',
    ],
    [{ ...lt112, extraEdges: [{ from: ['LIMBO'], on: ['RESET'], to: 'READY', why: 'x' }] }, '"LIMBO" is not a lifecycle state'],
    [{ ...lt112, stuckDeadlinesMs: { MANAGING: 1 } }, 'stuckDeadlinesMs.MANAGING is not a state that waits on a broker'],
    [
      { ...lt112, entryGuards: [{ name: 'hasOpenPosition', description: 'x', check: () => null }] },
      'name "hasOpenPosition" is a lifecycle guard',
    ],
    [
      { ...lt112, extraEdges: [{ from: ['MANAGING'], on: ['RESET'], to: 'READY', guard: 'isFoo', why: 'x' }] },
      'extraEdges[0].guard "isFoo" is neither a lifecycle guard',
    ],
  ])('an invalid definition is refused with a typed error: %#', (definition, message) => {
    expect(() => createStrategyMachine(definition as never)).toThrow(InvalidDefinitionError);
    expect(() => createStrategyMachine(definition as never)).toThrow(message);
  });
});
