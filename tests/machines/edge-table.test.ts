/**
 * Table-driven: the specification's edge table (as docs/lifecycle.md states it), transcribed here
 * independently of machines/edges.ts, against every state (flat and holding a position),
 * every public event and every variant. A pair the table does not list must be rejected with
 * the state unchanged and a rejection record.
 */
import { STRATEGY_EVENT_TYPES, type StrategyEvent, type StrategyEventType } from '../../machines/events';
import type { StrategyState } from '../../machines/states';
import { SITUATIONS, VARIANTS, drive, start, type Situation } from '../support/fixtures';

interface Traits {
  canAdjust: boolean;
  dteRule: boolean;
  sameDayExit: boolean;
}
const TRAITS: Record<string, Traits> = {
  zeroDte: { canAdjust: false, dteRule: false, sameDayExit: true },
  lt112: { canAdjust: false, dteRule: true, sameDayExit: false },
  strangle: { canAdjust: true, dteRule: true, sameDayExit: false },
};

/** The spec's table: the target of (situation, event), or null when the pair must be rejected. */
function expectedTarget(s: Situation, event: StrategyEventType, t: Traits): StrategyState | null {
  const { state, holds } = s;
  const is = (...states: StrategyState[]) => states.includes(state);
  if (event === 'SYSTEM_ERROR') return is('ERROR', 'TERMINATED') ? null : 'ERROR';
  switch (state) {
    case 'INITIALIZING':
      return event === 'MARKET_OPEN' ? 'READY' : null;
    case 'READY':
      if (event === 'TIME_WINDOW_START') return 'ANALYZING';
      if (event === 'TERMINATE') return 'TERMINATED';
      return ['EARNINGS_APPROACHING', 'FOMC_MEETING', 'VIX_SPIKE'].includes(event) ? 'SUSPENDED' : null;
    case 'ANALYZING':
      if (event === 'ENTRY_CONDITIONS_MET') return 'PENDING_ENTRY';
      if (['ENTRY_CONDITIONS_FAILED', 'TIME_WINDOW_END', 'MARKET_CLOSE'].includes(event)) return 'READY';
      if (event === 'EMERGENCY_EXIT') return 'READY'; // refinement: ANALYZING is flat, nothing to exit
      return ['EARNINGS_APPROACHING', 'FOMC_MEETING', 'VIX_SPIKE'].includes(event) ? 'SUSPENDED' : null;
    case 'PENDING_ENTRY':
      if (event === 'ORDER_SUBMITTED') return 'ENTERING';
      if (['TIME_WINDOW_END', 'MARKET_CLOSE', 'ENTRY_CONDITIONS_FAILED', 'EMERGENCY_EXIT'].includes(event)) return 'READY';
      return ['EARNINGS_APPROACHING', 'FOMC_MEETING', 'VIX_SPIKE'].includes(event) ? 'SUSPENDED' : null;
    case 'ENTERING':
      if (event === 'ORDER_FILLED') return 'POSITION_OPEN';
      if (event === 'ORDER_PARTIALLY_FILLED') return 'ENTERING';
      if (event === 'ORDER_REJECTED') return holds ? 'POSITION_OPEN' : 'READY';
      if (event === 'EMERGENCY_EXIT') return holds ? 'EXITING' : 'READY';
      return null;
    case 'POSITION_OPEN':
      if (event === 'MARKET_OPEN') return 'MANAGING';
      if (event === 'EMERGENCY_EXIT') return 'EXITING';
      if (t.sameDayExit && (event === 'TIME_WINDOW_END' || event === 'MARKET_CLOSE')) return 'PENDING_EXIT';
      if (t.sameDayExit && event === 'TIME_WINDOW_START') return 'MANAGING';
      return null;
    case 'MANAGING':
      if (event === 'DEFENSIVE_EXIT_DTE') return t.dteRule ? 'PENDING_EXIT' : null;
      if (['RISK_LIMIT_EXCEEDED', 'CORRELATION_LIMIT', 'VIX_SPIKE'].includes(event)) return t.canAdjust ? 'ADJUSTING' : 'PENDING_EXIT';
      if (event === 'MARGIN_CALL') return 'PENDING_EXIT';
      if (event === 'EMERGENCY_EXIT') return 'EXITING';
      if (t.sameDayExit && (event === 'TIME_WINDOW_END' || event === 'MARKET_CLOSE')) return 'PENDING_EXIT';
      return null;
    case 'ADJUSTING':
      if (event === 'ORDER_FILLED' || event === 'ORDER_REJECTED') return 'MANAGING';
      if (event === 'EMERGENCY_EXIT') return 'EXITING';
      if (event === 'ORDER_SUBMITTED' && t.canAdjust) return 'ADJUSTING'; // strangle's ROLLING -> AWAITING_FILL substate edge
      return null;
    case 'PENDING_EXIT':
      if (event === 'ORDER_SUBMITTED' || event === 'EMERGENCY_EXIT') return 'EXITING';
      return null;
    case 'EXITING':
    case 'PARTIAL_EXIT':
      if (event === 'ORDER_FILLED') return 'CLOSED'; // the sample fill closes what remains
      if (event === 'ORDER_PARTIALLY_FILLED') return 'PARTIAL_EXIT';
      if (event === 'ORDER_REJECTED') return 'PENDING_EXIT';
      if (event === 'EMERGENCY_EXIT') return state === 'PARTIAL_EXIT' ? 'EXITING' : null;
      return null;
    case 'CLOSED':
      if (event === 'MARKET_OPEN' || event === 'TIME_WINDOW_START') return 'READY';
      return event === 'TERMINATE' ? 'TERMINATED' : null;
    case 'ERROR':
      if (event === 'EMERGENCY_EXIT') return holds ? 'EXITING' : null; // safety: every state holding a position can be flattened
      return event === 'RESET' ? (holds ? 'MANAGING' : 'READY') : null;
    case 'SUSPENDED':
      if (event === 'RESUME') return holds ? 'MANAGING' : 'READY';
      if (event === 'EMERGENCY_EXIT') return holds ? 'EXITING' : null;
      if (event === 'TERMINATE') return holds ? null : 'TERMINATED';
      return null;
    case 'TERMINATED':
      return null;
  }
}

/** A valid sample of each event type for the situation (fills close what remains open). */
function sample(type: StrategyEventType, openQuantity: number, entry: StrategyEvent): StrategyEvent {
  switch (type) {
    case 'ENTRY_CONDITIONS_MET':
      return entry;
    case 'ORDER_FILLED':
      return { type, quantity: Math.max(openQuantity, 1), expiry: '2026-12-18' };
    case 'ORDER_PARTIALLY_FILLED':
      return { type, quantity: 1, expiry: '2026-12-18' };
    case 'MANUAL_OVERRIDE':
      return { type, target: 'ERROR', reason: 'table', operator: 'tests' };
    default:
      return { type };
  }
}

const EVENTS = STRATEGY_EVENT_TYPES.filter((t) => t !== 'MANUAL_OVERRIDE');

describe.each(VARIANTS)('the spec edge table, variant $def.id', ({ def, entry }) => {
  const traits = TRAITS[def.id];
  const cases = SITUATIONS.flatMap((s) =>
    EVENTS.map((event) => ({ s, event, label: `${s.state}${s.holds ? ' (position)' : ''} + ${event}` })),
  );

  test.each(cases)('$label', ({ s, event }) => {
    const { strategy } = start(def);
    drive(strategy, s.path(entry));
    expect(strategy.state).toBe(s.state);
    const before = strategy.getSnapshot().context;
    const trailLength = strategy.getAuditTrail().length;

    const result = strategy.trigger(sample(event, before.position?.quantity ?? 0, entry));
    const target = expectedTarget(s, event, traits);

    expect(strategy.getAuditTrail()).toHaveLength(trailLength + 1);
    expect(strategy.getAuditTrail().at(-1)).toBe(result.record);
    if (target === null) {
      expect(result).toMatchObject({ accepted: false, from: s.state, to: s.state });
      expect(result.reason).toContain(s.state);
      expect(result.reason).toContain(event);
      expect(strategy.state).toBe(s.state);
      expect(strategy.getSnapshot().context.position).toEqual(before.position);
    } else {
      expect(result).toMatchObject({ accepted: true, from: s.state, to: target });
      expect(strategy.state).toBe(target);
    }
  });
});

describe('the DTE rule is a guard on the position, not on the caller', () => {
  test.each(VARIANTS.filter((v) => v.def.defensiveDte !== null))(
    '$def.id rejects DEFENSIVE_EXIT_DTE while the position is above 21 DTE',
    ({ def, entry }) => {
      const { strategy } = start(def);
      drive(strategy, [
        { type: 'MARKET_OPEN' },
        { type: 'TIME_WINDOW_START' },
        entry,
        { type: 'ORDER_SUBMITTED' },
        { type: 'ORDER_FILLED', quantity: 1, expiry: '2027-01-15' },
        { type: 'MARKET_OPEN' },
      ]);
      const result = strategy.trigger({ type: 'DEFENSIVE_EXIT_DTE' });
      expect(result).toMatchObject({ accepted: false, code: 'GUARD_FAILED', from: 'MANAGING', to: 'MANAGING' });
      expect(result.reason).toBe('DEFENSIVE_EXIT_DTE rejected in MANAGING: isDteAtOrBelowDefensive: DTE 42 is above the defensive DTE 21');
    },
  );

  test('a position exactly at 21 DTE exits', () => {
    const { def, entry } = VARIANTS[1];
    const { strategy } = start(def);
    drive(strategy, [
      { type: 'MARKET_OPEN' },
      { type: 'TIME_WINDOW_START' },
      entry,
      { type: 'ORDER_SUBMITTED' },
      { type: 'ORDER_FILLED', quantity: 1, expiry: '2026-12-25' },
      { type: 'MARKET_OPEN' },
    ]);
    expect(strategy.trigger({ type: 'DEFENSIVE_EXIT_DTE' })).toMatchObject({ accepted: true, to: 'PENDING_EXIT' });
  });
});
