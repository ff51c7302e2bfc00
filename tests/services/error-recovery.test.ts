/**
 * ERROR recovery and stuck-state deadlines on the simulated clock, including across a
 * persist/restore (XState does not restore `after` timers: statelyai/xstate 5331).
 */
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategyActor, type PersistedStrategy } from '../../services/runtime/strategyActor';
import { FRIDAY_11AM, MINUTE, VARIANTS, drive, start } from '../support/fixtures';

const SECOND = 1000;
const entry = VARIANTS[1].entry;
const toManaging = [
  { type: 'MARKET_OPEN' },
  { type: 'TIME_WINDOW_START' },
  entry,
  { type: 'ORDER_SUBMITTED' },
  { type: 'ORDER_FILLED', quantity: 2, expiry: '2026-12-18' },
  { type: 'MARKET_OPEN' },
] as const;

function inError(holdPosition = false) {
  const { strategy, clock } = start(lt112);
  drive(strategy, holdPosition ? [...toManaging] : [{ type: 'MARKET_OPEN' }]);
  expect(strategy.trigger({ type: 'SYSTEM_ERROR', reason: 'feed down' })).toMatchObject({ accepted: true, to: 'ERROR' });
  return { strategy, clock };
}

/** Persists through JSON, as a store would. */
function roundTrip(saved: PersistedStrategy): PersistedStrategy {
  return JSON.parse(JSON.stringify(saved)) as PersistedStrategy;
}

describe('ERROR auto-recovery', () => {
  test('is still ERROR at 29:59 and READY at 30:00 when flat, with errorCount back to 0', () => {
    const { strategy, clock } = inError();
    clock.increment(29 * MINUTE + 59 * SECOND);
    expect(strategy.state).toBe('ERROR');
    clock.increment(SECOND);
    expect(strategy.state).toBe('READY');
    expect(strategy.getSnapshot().context.errorCount).toBe(0);
    const record = strategy.getAuditTrail().at(-1)!;
    expect(record).toMatchObject({
      previousState: 'ERROR',
      currentState: 'READY',
      trigger: 'lifecycle.deadline',
      accepted: true,
      at: FRIDAY_11AM + 30 * MINUTE,
    });
    expect(record.timestamp).toBe('2026-12-04T11:30:00.000-05:00');
  });

  test('recovers to MANAGING when a position is held', () => {
    const { strategy, clock } = inError(true);
    clock.increment(30 * MINUTE);
    expect(strategy.state).toBe('MANAGING');
    expect(strategy.getSnapshot().context.position?.quantity).toBe(2);
  });

  test('records when and why it entered ERROR, and when it will recover', () => {
    const { strategy } = inError();
    const record = strategy.getAuditTrail().at(-1)!;
    expect(record.message).toBe('READY -> ERROR: feed down; auto-recovery at 2026-12-04T11:30:00.000-05:00');
    expect(strategy.getSnapshot().context.deadline).toEqual({ kind: 'ERROR_RECOVERY', state: 'ERROR', at: FRIDAY_11AM + 30 * MINUTE });
  });

  test('RESET recovers at once, and the pending timer does not fire later', () => {
    const { strategy, clock } = inError();
    expect(strategy.trigger({ type: 'RESET' })).toMatchObject({ accepted: true, from: 'ERROR', to: 'READY' });
    drive(strategy, [{ type: 'TIME_WINDOW_START' }]);
    const length = strategy.getAuditTrail().length;
    clock.increment(60 * MINUTE);
    expect(strategy.state).toBe('ANALYZING');
    expect(strategy.getAuditTrail()).toHaveLength(length);
  });

  test("honours a definition's errorRecoveryMs", () => {
    const { strategy, clock } = start({ ...lt112, id: 'fastRecovery', errorRecoveryMs: 5 * MINUTE });
    drive(strategy, [{ type: 'MARKET_OPEN' }, { type: 'SYSTEM_ERROR' }]);
    clock.increment(5 * MINUTE - 1);
    expect(strategy.state).toBe('ERROR');
    clock.increment(1);
    expect(strategy.state).toBe('READY');
  });
});

describe('durable recovery deadline across a restart', () => {
  test('persisted at minute 10 and restored: recovers at the original deadline (minute 30), not 30 minutes after the restore', () => {
    const { strategy, clock } = inError();
    clock.increment(10 * MINUTE);
    const saved = roundTrip(strategy.getPersistedSnapshot());
    strategy.stop();

    const clock2 = createSimulatedClock(clock.now());
    const restored = createStrategyActor(createStrategyMachine(lt112), { clock: clock2, snapshot: saved });
    expect(restored.state).toBe('ERROR');
    expect(restored.getAuditTrail()).toEqual(saved.auditTrail);
    clock2.increment(20 * MINUTE - 1);
    expect(restored.state).toBe('ERROR');
    clock2.increment(1);
    expect(restored.state).toBe('READY');
    expect(restored.getAuditTrail().at(-1)!.at).toBe(FRIDAY_11AM + 30 * MINUTE);
  });

  test('restored after the deadline passed: recovers at once, stamped with the restore time', () => {
    const { strategy, clock } = inError(true);
    const saved = roundTrip(strategy.getPersistedSnapshot());
    strategy.stop();

    const clock2 = createSimulatedClock(clock.now() + 2 * 60 * MINUTE);
    const restored = createStrategyActor(createStrategyMachine(lt112), { clock: clock2, snapshot: saved });
    expect(restored.state).toBe('MANAGING');
    const record = restored.getAuditTrail().at(-1)!;
    expect(record).toMatchObject({ previousState: 'ERROR', currentState: 'MANAGING', at: clock2.now() });
    expect(record.data).toMatchObject({ kind: 'ERROR_RECOVERY', dueAt: FRIDAY_11AM + 30 * MINUTE });
  });

  test('a snapshot of another variant is refused with a typed error', () => {
    const { strategy } = inError();
    const saved = strategy.getPersistedSnapshot();
    expect(() => createStrategyActor(createStrategyMachine(VARIANTS[2].def), { snapshot: saved })).toThrow(
      'snapshot of variant "lt112" cannot restore into machine "strangle"',
    );
  });
});

describe('circuit breaker', () => {
  test('after maxAutoRecoveries recoveries on one trading day, ERROR holds until RESET', () => {
    const { strategy, clock } = start(lt112);
    drive(strategy, [{ type: 'MARKET_OPEN' }]);
    for (let i = 0; i < 3; i++) {
      drive(strategy, [{ type: 'SYSTEM_ERROR', reason: `fault ${i}` }]);
      clock.increment(30 * MINUTE);
      expect(strategy.state).toBe('READY');
    }
    drive(strategy, [{ type: 'SYSTEM_ERROR', reason: 'fault 3' }]);
    expect(strategy.getSnapshot().context.deadline).toBeNull();
    expect(strategy.getAuditTrail().at(-1)!.message).toContain('circuit breaker open (3 auto-recoveries today)');
    clock.increment(3 * 60 * MINUTE);
    expect(strategy.state).toBe('ERROR');
    expect(strategy.trigger({ type: 'RESET' })).toMatchObject({ accepted: true, to: 'READY' });
  });

  test('the count starts again on the next New York trading day', () => {
    const { strategy, clock } = start({ ...lt112, id: 'oneRecovery', maxAutoRecoveries: 1 });
    drive(strategy, [{ type: 'MARKET_OPEN' }, { type: 'SYSTEM_ERROR' }]);
    clock.increment(30 * MINUTE);
    drive(strategy, [{ type: 'SYSTEM_ERROR' }]);
    clock.increment(60 * MINUTE);
    expect(strategy.state).toBe('ERROR'); // breaker open today
    drive(strategy, [{ type: 'RESET' }]);
    clock.set(Date.parse('2026-12-07T10:00:00-05:00')); // Monday
    drive(strategy, [{ type: 'SYSTEM_ERROR' }]);
    clock.increment(30 * MINUTE);
    expect(strategy.state).toBe('READY');
  });
});

describe('stuck-state deadlines', () => {
  test.each([
    ['PENDING_ENTRY', 5, [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }, entry]],
    ['ENTERING', 5, [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }, entry, { type: 'ORDER_SUBMITTED' }]],
    ['PENDING_EXIT', 10, [...toManaging, { type: 'MARGIN_CALL' }]],
    ['EXITING', 10, [...toManaging, { type: 'MARGIN_CALL' }, { type: 'ORDER_SUBMITTED' }]],
    [
      'PARTIAL_EXIT',
      10,
      [...toManaging, { type: 'MARGIN_CALL' }, { type: 'ORDER_SUBMITTED' }, { type: 'ORDER_PARTIALLY_FILLED', quantity: 1 }],
    ],
  ] as const)('%s goes to ERROR after %i minutes without an answer, with the reason audited', (state, minutes, path) => {
    const { strategy, clock } = start(lt112);
    drive(strategy, [...path] as never);
    expect(strategy.state).toBe(state);
    clock.increment(minutes * MINUTE - 1);
    expect(strategy.state).toBe(state);
    clock.increment(1);
    expect(strategy.state).toBe('ERROR');
    const record = strategy.getAuditTrail().at(-1)!;
    expect(record.message).toContain(`stuck in ${state} for ${minutes}m0s`);
    expect(strategy.getSnapshot().context.lastError?.reason).toBe(`stuck in ${state} for ${minutes}m0s`);
  });

  test('a partial fill is an answer: the ENTERING deadline restarts', () => {
    const { strategy, clock } = start(lt112);
    drive(strategy, [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }, entry, { type: 'ORDER_SUBMITTED' }]);
    clock.increment(4 * MINUTE);
    drive(strategy, [{ type: 'ORDER_PARTIALLY_FILLED', quantity: 1 }]);
    clock.increment(4 * MINUTE);
    expect(strategy.state).toBe('ENTERING');
    clock.increment(MINUTE);
    expect(strategy.state).toBe('ERROR');
    // Holding a partial position, it recovers to MANAGING, never READY.
    clock.increment(30 * MINUTE);
    expect(strategy.state).toBe('MANAGING');
  });

  test('a stuck deadline survives a restart too', () => {
    const { strategy, clock } = start(lt112);
    drive(strategy, [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }, entry, { type: 'ORDER_SUBMITTED' }]);
    clock.increment(3 * MINUTE);
    const saved = roundTrip(strategy.getPersistedSnapshot());
    strategy.stop();
    const clock2 = createSimulatedClock(clock.now());
    const restored = createStrategyActor(createStrategyMachine(lt112), { clock: clock2, snapshot: saved });
    clock2.increment(2 * MINUTE - 1);
    expect(restored.state).toBe('ENTERING');
    clock2.increment(1);
    expect(restored.state).toBe('ERROR');
  });

  test('leaving the state disarms its deadline', () => {
    const { strategy, clock } = start(lt112);
    drive(strategy, [
      { type: 'MARKET_OPEN' },
      { type: 'TIME_WINDOW_START' },
      entry,
      { type: 'ORDER_SUBMITTED' },
      { type: 'ORDER_FILLED', quantity: 1 },
    ]);
    clock.increment(60 * MINUTE);
    expect(strategy.state).toBe('POSITION_OPEN');
    expect(strategy.getSnapshot().context.deadline).toBeNull();
  });

  test('stuck deadlines are configurable per state', () => {
    const { strategy, clock } = start({ ...lt112, id: 'quick', stuckDeadlinesMs: { ENTERING: 30 * SECOND } });
    drive(strategy, [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }, entry, { type: 'ORDER_SUBMITTED' }]);
    clock.increment(30 * SECOND);
    expect(strategy.getAuditTrail().at(-1)!.message).toContain('stuck in ENTERING for 30s');
  });
});
