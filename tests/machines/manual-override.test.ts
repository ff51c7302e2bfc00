/** MANUAL_OVERRIDE from every state to every target: legal for the position, always audited. */
import { STRATEGY_STATES, type StrategyState } from '../../machines/states';
import { lt112 } from '../../machines/variants';
import { toMarketIso } from '../../services/market/time';
import { FRIDAY_11AM, MINUTE, SITUATIONS, VARIANTS, drive, start } from '../support/fixtures';

// Transcribed from the spec: states a strategy holding a position may be in, and a flat one.
const WITH_POSITION: StrategyState[] = [
  'ENTERING',
  'POSITION_OPEN',
  'MANAGING',
  'ADJUSTING',
  'PENDING_EXIT',
  'EXITING',
  'PARTIAL_EXIT',
  'ERROR',
  'SUSPENDED',
];
const FLAT: StrategyState[] = [
  'INITIALIZING',
  'READY',
  'ANALYZING',
  'PENDING_ENTRY',
  'ENTERING',
  'CLOSED',
  'ERROR',
  'SUSPENDED',
  'TERMINATED',
];

const cases = SITUATIONS.flatMap((s) =>
  STRATEGY_STATES.map((target) => ({ s, target, label: `${s.state}${s.holds ? ' (position)' : ''} -> ${target}` })),
);

test.each(cases)('$label', ({ s, target }) => {
  const { strategy } = start(lt112);
  drive(strategy, s.path(VARIANTS[1].entry));
  const result = strategy.trigger({ type: 'MANUAL_OVERRIDE', target, reason: 'desk decision', operator: 'alice' });
  const legal = s.state !== 'TERMINATED' && (s.holds ? WITH_POSITION : FLAT).includes(target);
  expect(result.record).toMatchObject({ trigger: 'MANUAL_OVERRIDE', data: { target, reason: 'desk decision', operator: 'alice' } });
  if (legal) {
    expect(result).toMatchObject({ accepted: true, from: s.state, to: target });
    expect(strategy.state).toBe(target);
  } else {
    expect(result).toMatchObject({ accepted: false, from: s.state, to: s.state });
    expect(result.reason).toMatch(
      s.state === 'TERMINATED' ? /TERMINATED has no edge for MANUAL_OVERRIDE/ : new RegExp(`MANUAL_OVERRIDE to ${target} is illegal`),
    );
    expect(strategy.state).toBe(s.state);
  }
});

test('an override into ERROR arms the recovery deadline and names the operator', () => {
  const { strategy, clock } = start(lt112);
  drive(strategy, [{ type: 'MARKET_OPEN' }, { type: 'MANUAL_OVERRIDE', target: 'ERROR', reason: 'bad data', operator: 'bob' }]);
  expect(strategy.getSnapshot().context.lastError?.reason).toBe('manual override by bob: bad data');
  clock.increment(30 * MINUTE);
  expect(strategy.state).toBe('READY');
});

test('an override into ERROR while in ERROR: the record names the operator, the reason and the new recovery time', () => {
  const { strategy, clock } = start(lt112);
  drive(strategy, [{ type: 'MARKET_OPEN' }, { type: 'SYSTEM_ERROR', reason: 'feed down' }]);
  clock.increment(10 * MINUTE);
  const result = strategy.trigger({ type: 'MANUAL_OVERRIDE', target: 'ERROR', reason: 'again', operator: 'bob' });
  expect(result).toMatchObject({ accepted: true, from: 'ERROR', to: 'ERROR' });
  expect(result.record.message).toBe(
    `ERROR -> ERROR: manual override by bob: again; auto-recovery at ${toMarketIso(FRIDAY_11AM + 40 * MINUTE)}`,
  );
  clock.increment(30 * MINUTE);
  expect(strategy.state).toBe('READY');
});

test('an override out of ERROR clears the error count', () => {
  let failures = 1;
  const { strategy } = start({
    ...lt112,
    hooks: {
      onExit: {
        READY: () => {
          if (failures-- > 0) throw new Error('x');
        },
      },
    },
  });
  drive(strategy, [{ type: 'MARKET_OPEN' }]);
  strategy.trigger({ type: 'TIME_WINDOW_START' });
  drive(strategy, [{ type: 'SYSTEM_ERROR' }]);
  expect(strategy.getSnapshot().context.errorCount).toBe(1);
  drive(strategy, [{ type: 'MANUAL_OVERRIDE', target: 'CLOSED', reason: 'checked', operator: 'bob' }]);
  expect(strategy.getSnapshot().context.errorCount).toBe(0);
});
