/** Many strategies under one coordinator: summary, suspension, trading states, limits, isolation. */
import type { InspectionEvent } from 'xstate';
import type { StrategyEvent } from '../../machines/events';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { UnknownStrategyError, DuplicateStrategyError, StrategyNotFlatError } from '../../machines/errors';
import { FRIDAY_11AM, MINUTE, VARIANTS } from '../support/fixtures';

const entryOf = Object.fromEntries(VARIANTS.map((v) => [v.def.id, v.entry])) as Record<string, StrategyEvent>;
const defs = [zeroDte, lt112, strangle];

function system(options: Parameters<typeof createStrategySystem>[0] = {}) {
  const clock = createSimulatedClock(FRIDAY_11AM);
  return { clock, system: createStrategySystem({ clock, ...options }) };
}

/** Adds `n` strategies of the three variants in turn. */
function populate(sys: ReturnType<typeof createStrategySystem>, n: number, params: Record<string, unknown> = { underlying: 'SPX' }) {
  for (let i = 0; i < n; i++) sys.add(defs[i % 3], { id: `s${i}`, params });
}

const entryPath = (variant: string): StrategyEvent[] => [
  { type: 'TIME_WINDOW_START' },
  entryOf[variant],
  { type: 'ORDER_SUBMITTED' },
  { type: 'ORDER_FILLED', quantity: 2, expiry: '2026-12-18' },
];

describe('a system of 1,000 strategies through a simulated trading day', () => {
  test('summary counts match what was sent', () => {
    const { system: sys, clock } = system();
    populate(sys, 1000);
    const opened = Object.values(sys.broadcast({ type: 'MARKET_OPEN' }));
    expect(opened.every((r) => r.accepted && r.to === 'READY')).toBe(true);

    // Every 4th strategy enters and opens a position, every 4th+1 analyses and gives up, every 4th+2 has a system error.
    const ids = sys.ids();
    for (const [i, id] of ids.entries()) {
      const variant = sys.get(id).getSnapshot().context.variant;
      const events: StrategyEvent[] =
        i % 4 === 0
          ? entryPath(variant)
          : i % 4 === 1
            ? [{ type: 'TIME_WINDOW_START' }, { type: 'ENTRY_CONDITIONS_FAILED' }]
            : i % 4 === 2
              ? [{ type: 'SYSTEM_ERROR', reason: `feed ${i}` }]
              : [];
      for (const event of events) expect(sys.send(id, event).accepted).toBe(true);
    }
    clock.increment(10 * MINUTE);

    const summary = sys.summary();
    expect(summary.totalStrategies).toBe(1000);
    expect(summary.countByState).toEqual({ POSITION_OPEN: 250, READY: 500, ERROR: 250 });
    expect(summary.countByVariant).toEqual({ zeroDte: 334, lt112: 333, strangle: 333 });
    expect(summary.inError).toBe(250);
    expect(summary.errors[0]).toEqual({ strategyId: 's2', reason: 'feed 2', since: '2026-12-04T11:00:00.000-05:00' });
    expect(summary.openPositions).toHaveLength(250);
    expect(summary.openPositions[0]).toMatchObject({ strategyId: 's0', quantity: 2, expiry: '2026-12-18', underlying: 'SPX' });
    expect(summary.timeInState.find((t) => t.strategyId === 's1')).toEqual({ strategyId: 's1', state: 'READY', ms: 10 * MINUTE });
    expect(summary.portfolio.slotsUsed).toBe(250);

    // The ERROR strategies recover together 30 minutes after entering it.
    clock.increment(20 * MINUTE);
    expect(sys.summary().countByState).toEqual({ POSITION_OPEN: 250, READY: 750 });
    sys.broadcast({ type: 'MARKET_CLOSE' });
    sys.stop();
  });
});

describe('system API', () => {
  test('strategies are children of the coordinator, addressable by systemId', () => {
    const { system: sys } = system();
    const s = sys.add(lt112, { id: 'lt112-spx' });
    expect(sys.actorRef.system.get('lt112-spx')).toBe(s.actorRef);
    expect(s.actorRef._parent).toBe(sys.actorRef);
  });

  test('unknown ids, duplicate ids and removing a strategy with a position are typed errors', () => {
    const { system: sys } = system();
    sys.add(lt112, { id: 'a' });
    expect(() => sys.send('nope', { type: 'MARKET_OPEN' })).toThrow(UnknownStrategyError);
    expect(() => sys.add(lt112, { id: 'a' })).toThrow(DuplicateStrategyError);
    for (const e of [{ type: 'MARKET_OPEN' }, ...entryPath('lt112')] as StrategyEvent[]) sys.send('a', e);
    expect(() => sys.remove('a')).toThrow(StrategyNotFlatError);
    sys.add(lt112, { id: 'b' });
    sys.remove('b');
    expect(sys.has('b')).toBe(false);
    expect(sys.actorRef.system.get('b')).toBeUndefined();
  });

  test('subscribe receives every record with its strategy id and triggering event', () => {
    const { system: sys } = system();
    populate(sys, 3);
    const seen: string[] = [];
    sys.subscribe(({ strategyId, event, record }) => seen.push(`${strategyId}:${event.type}:${record.accepted}`));
    sys.broadcast({ type: 'MARKET_OPEN' });
    sys.send('s1', { type: 'ORDER_FILLED', quantity: 1 });
    expect(seen).toEqual(['s0:MARKET_OPEN:true', 's1:MARKET_OPEN:true', 's2:MARKET_OPEN:true', 's1:ORDER_FILLED:false']);
  });
});

describe('system-wide suspension', () => {
  test('suspendAll suspends READY, ANALYZING and PENDING_ENTRY, skips the others with why; resumeAll brings them back', () => {
    const { system: sys } = system();
    sys.add(lt112, { id: 'ready' });
    sys.add(lt112, { id: 'analyzing' });
    sys.add(lt112, { id: 'pending' });
    sys.add(lt112, { id: 'holding' });
    sys.broadcast({ type: 'MARKET_OPEN' });
    sys.send('analyzing', { type: 'TIME_WINDOW_START' });
    sys.send('pending', { type: 'TIME_WINDOW_START' });
    sys.send('pending', entryOf.lt112);
    for (const e of entryPath('lt112')) sys.send('holding', e);

    const suspended = sys.suspendAll('FOMC');
    expect(suspended.changed.map((c) => c.strategyId)).toEqual(['ready', 'analyzing', 'pending']);
    expect(suspended.skipped).toEqual([
      { strategyId: 'holding', state: 'POSITION_OPEN', reason: 'POSITION_OPEN cannot be suspended (only READY, ANALYZING, PENDING_ENTRY)' },
    ]);
    expect(sys.get('ready').getAuditTrail().at(-1)?.data).toMatchObject({ reason: 'system-wide suspension: FOMC', operator: 'system' });

    const resumed = sys.resumeAll();
    expect(resumed.changed).toEqual([
      { strategyId: 'ready', to: 'READY' },
      { strategyId: 'analyzing', to: 'READY' },
      { strategyId: 'pending', to: 'READY' },
    ]);
  });

  test('EARNINGS_APPROACHING concerns only strategies on that underlying; FOMC and VIX_SPIKE concern all', () => {
    const { system: sys } = system();
    sys.add(lt112, { id: 'spx', params: { underlying: 'SPX' } });
    sys.add(strangle, { id: 'aapl', params: { underlying: 'AAPL' } });
    sys.broadcast({ type: 'MARKET_OPEN' });
    const earnings = sys.broadcast({ type: 'EARNINGS_APPROACHING', symbol: 'aapl', date: '2026-12-10' });
    expect(Object.keys(earnings)).toEqual(['aapl']);
    expect(sys.get('aapl').state).toBe('SUSPENDED');
    expect(sys.get('spx').state).toBe('READY');
    expect(Object.keys(sys.broadcast({ type: 'FOMC_MEETING', date: '2026-12-09' }))).toEqual(['spx', 'aapl']);
    expect(sys.get('spx').state).toBe('SUSPENDED');
  });
});

describe('trading state', () => {
  test("REDUCING rejects entries with a reason but allows exits and adjustments; HALTED rejects every new order but applies the broker's answers; changes are audited", () => {
    const { system: sys, clock } = system();
    sys.add(strangle, { id: 'holder' });
    sys.add(strangle, { id: 'newcomer' });
    sys.broadcast({ type: 'MARKET_OPEN' });
    for (const e of entryPath('strangle')) sys.send('holder', e);
    sys.send('holder', { type: 'MARKET_OPEN' });
    sys.send('newcomer', { type: 'TIME_WINDOW_START' });

    sys.setTradingState('REDUCING', 'drawdown limit');
    const entry = sys.send('newcomer', entryOf.strangle);
    expect(entry).toMatchObject({ accepted: false, code: 'TRADING_REDUCING', from: 'ANALYZING', to: 'ANALYZING' });
    expect(entry.reason).toBe('trading state is REDUCING: entries are rejected, exits and adjustments are allowed');
    expect(sys.send('holder', { type: 'VIX_SPIKE' })).toMatchObject({ accepted: true, to: 'ADJUSTING' });

    sys.setTradingState('HALTED', 'exchange incident');
    // The roll order is already at the broker: its acknowledgement and its fill are facts, applied.
    expect(sys.send('holder', { type: 'ORDER_SUBMITTED' })).toMatchObject({ accepted: true, to: 'ADJUSTING' });
    expect(sys.get('holder').getSnapshot().value).toEqual({ ADJUSTING: 'AWAITING_FILL' });
    expect(sys.send('holder', { type: 'ORDER_FILLED', quantity: 2 })).toMatchObject({ accepted: true, to: 'MANAGING' });
    // Every new order is refused: an adjustment, an exit decision, an emergency exit.
    expect(sys.send('holder', { type: 'VIX_SPIKE' })).toMatchObject({ accepted: false, code: 'TRADING_HALTED' });
    expect(sys.send('holder', { type: 'MARGIN_CALL' })).toMatchObject({
      accepted: false,
      code: 'TRADING_HALTED',
      reason: 'trading state is HALTED: every order-producing transition is rejected (this one: exit)',
    });
    expect(sys.send('holder', { type: 'EMERGENCY_EXIT' })).toMatchObject({ accepted: false, code: 'TRADING_HALTED' });
    expect(sys.get('holder').state).toBe('MANAGING');

    clock.increment(MINUTE);
    sys.setTradingState('ACTIVE', 'incident over');
    expect(sys.send('newcomer', entryOf.strangle)).toMatchObject({ accepted: true, to: 'PENDING_ENTRY' });
    expect(sys.tradingStateHistory()).toEqual([
      { from: 'ACTIVE', to: 'REDUCING', reason: 'drawdown limit', at: FRIDAY_11AM },
      { from: 'REDUCING', to: 'HALTED', reason: 'exchange incident', at: FRIDAY_11AM },
      { from: 'HALTED', to: 'ACTIVE', reason: 'incident over', at: FRIDAY_11AM + MINUTE },
    ]);
  });
});

describe('can() and explain() answer as the system would', () => {
  test('a strategy of a system says it cannot take an entry while trading is HALTED or REDUCING, and why; ACTIVE again, it can', () => {
    const { system: sys } = system();
    sys.add(lt112, { id: 'a' });
    sys.broadcast({ type: 'MARKET_OPEN' });
    sys.broadcast({ type: 'TIME_WINDOW_START' });
    const strategy = sys.get('a');
    expect(strategy.can(entryOf.lt112)).toBe(true);
    sys.setTradingState('HALTED', 'exchange incident');
    expect(strategy.can(entryOf.lt112)).toBe(false);
    expect(strategy.explain(entryOf.lt112)).toEqual({
      code: 'TRADING_HALTED',
      reason: 'trading state is HALTED: every order-producing transition is rejected (this one: entry)',
    });
    sys.setTradingState('REDUCING', 'drawdown');
    expect(strategy.explain(entryOf.lt112)).toMatchObject({ code: 'TRADING_REDUCING' });
    // What explain() says is what the trigger gets.
    expect(sys.send('a', entryOf.lt112)).toMatchObject({ accepted: false, code: 'TRADING_REDUCING' });
    sys.setTradingState('ACTIVE', 'all clear');
    expect(strategy.can(entryOf.lt112)).toBe(true);
    expect(sys.send('a', entryOf.lt112)).toMatchObject({ accepted: true, to: 'PENDING_ENTRY' });
  });

  test('asking about an entry at a full portfolio limit says CORRELATION_LIMIT and reserves no slot', () => {
    const { system: sys } = system({ limits: { maxOpenPositions: 1 } });
    for (const id of ['a', 'b']) sys.add(lt112, { id });
    sys.broadcast({ type: 'MARKET_OPEN' });
    sys.broadcast({ type: 'TIME_WINDOW_START' });
    for (let i = 0; i < 3; i++) expect(sys.get('a').can(entryOf.lt112)).toBe(true); // asking takes nothing
    expect(sys.send('b', entryOf.lt112)).toMatchObject({ accepted: true });
    expect(sys.get('a').explain(entryOf.lt112)).toEqual({
      code: 'CORRELATION_LIMIT',
      reason: 'CORRELATION_LIMIT: 1 of 1 open positions overall are taken',
    });
  });
});

describe('portfolio limits', () => {
  test('two strategies racing for the last slot of a group: exactly one gets it', () => {
    const { system: sys } = system({ limits: { maxPerGroup: { 'us-equity-index': 2 } } });
    for (const id of ['a', 'b', 'c']) sys.add(lt112, { id });
    sys.broadcast({ type: 'MARKET_OPEN' });
    sys.broadcast({ type: 'TIME_WINDOW_START' });
    expect(sys.send('a', entryOf.lt112).accepted).toBe(true);
    // Interleaved: both see one free slot before either is answered.
    const results = [sys.send('b', entryOf.lt112), sys.send('c', entryOf.lt112)];
    expect(results.filter((r) => r.accepted)).toHaveLength(1);
    expect(results[1]).toMatchObject({
      accepted: false,
      code: 'CORRELATION_LIMIT',
      reason: 'CORRELATION_LIMIT: group us-equity-index holds 2 of 2 open positions',
    });
  });

  test('a slot is released when the strategy returns to READY or reaches CLOSED', () => {
    const { system: sys } = system({ limits: { maxOpenPositions: 1 } });
    sys.add(lt112, { id: 'a' });
    sys.add(lt112, { id: 'b' });
    sys.broadcast({ type: 'MARKET_OPEN' });
    sys.broadcast({ type: 'TIME_WINDOW_START' });
    sys.send('a', entryOf.lt112);
    expect(sys.send('b', entryOf.lt112)).toMatchObject({
      code: 'CORRELATION_LIMIT',
      reason: 'CORRELATION_LIMIT: 1 of 1 open positions overall are taken',
    });
    sys.send('a', { type: 'TIME_WINDOW_END' }); // back to READY
    expect(sys.summary().portfolio.slotsUsed).toBe(0);
    expect(sys.send('b', entryOf.lt112).accepted).toBe(true);
  });
});

describe('isolation', () => {
  test('hooks that throw in some strategies never stop a broadcast or touch the others', () => {
    const { system: sys } = system();
    const boom = () => {
      throw new Error('hook bug');
    };
    for (let i = 0; i < 10; i++) sys.add(lt112, { id: `s${i}`, hooks: i % 3 === 0 ? { onEnter: { READY: boom } } : undefined });
    const results = sys.broadcast({ type: 'MARKET_OPEN' });
    expect(Object.keys(results)).toHaveLength(10);
    for (let i = 0; i < 10; i++) {
      expect(sys.get(`s${i}`).state).toBe(i % 3 === 0 ? 'INITIALIZING' : 'READY');
      expect(results[`s${i}`].accepted).toBe(i % 3 !== 0);
    }
    // A malformed event in one strategy, an ERROR in another: the rest carry on.
    sys.send('s1', { type: 'ORDER_FILLED', quantity: -1 });
    sys.send('s2', { type: 'SYSTEM_ERROR' });
    expect(Object.values(sys.broadcast({ type: 'TIME_WINDOW_START' })).filter((r) => r.accepted)).toHaveLength(5);
  });
});

test('the inspector sees the coordinator and every strategy actor', () => {
  const seen: InspectionEvent[] = [];
  const { system: sys } = system({ inspect: (e) => seen.push(e) });
  populate(sys, 3);
  sys.broadcast({ type: 'MARKET_OPEN' });
  sys.setTradingState('REDUCING', 'inspect');
  const actors = new Set(seen.filter((e) => e.type === '@xstate.actor').map((e) => e.actorRef));
  expect(actors.has(sys.actorRef)).toBe(true);
  for (const id of sys.ids()) expect(actors.has(sys.get(id).actorRef)).toBe(true);
  const events = seen.filter((e): e is Extract<InspectionEvent, { type: '@xstate.event' }> => e.type === '@xstate.event');
  expect(events.filter((e) => e.event.type === 'MARKET_OPEN').map((e) => e.actorRef)).toEqual(sys.ids().map((id) => sys.get(id).actorRef));
  expect(events.some((e) => e.actorRef === sys.actorRef && e.event.type === 'system.setTradingState')).toBe(true);
});
