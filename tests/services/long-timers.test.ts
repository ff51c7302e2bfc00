/**
 * Delays longer than one Node timer (2^31-1 ms, about 24.8 days): Node fires them after 1 ms,
 * so the real clock chains timers; the simulated clock and the strategies on it stay exact.
 */
import { lt112 } from '../../machines/variants';
import { MAX_TIMER_MS, WALL_CHECK_MS, createSimulatedClock, realClock } from '../../services/market/clock';
import { FRIDAY_11AM, MINUTE, drive, start } from '../support/fixtures';

const DAY = 24 * 60 * MINUTE;

describe('realClock under jest modern fake timers', () => {
  beforeEach(() => jest.useFakeTimers({ now: FRIDAY_11AM }));
  afterEach(() => jest.useRealTimers());

  test.each([
    ['25 days', 25 * DAY],
    ['2^31+5 ms', 2 ** 31 + 5],
    ['2^31-1 ms (one whole Node timer)', MAX_TIMER_MS],
    ['3 x (2^31-1) + 7 ms', 3 * MAX_TIMER_MS + 7],
  ])('a timer of %s fires exactly then, not before', (_name, ms) => {
    const fired: number[] = [];
    realClock.setTimeout(() => fired.push(Date.now()), ms);
    jest.advanceTimersByTime(1);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(ms - 2);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(fired).toEqual([FRIDAY_11AM + ms]);
    jest.advanceTimersByTime(10 * MAX_TIMER_MS);
    expect(fired).toHaveLength(1);
  });

  test.each([
    ['before the first link ends', 1000],
    ['on the second link', MAX_TIMER_MS + 1000],
  ])('clearTimeout cancels a chained timer %s', (_name, cancelAfter) => {
    const fired: number[] = [];
    const handle = realClock.setTimeout(() => fired.push(Date.now()), 25 * DAY + MAX_TIMER_MS);
    jest.advanceTimersByTime(cancelAfter);
    realClock.clearTimeout(handle);
    jest.advanceTimersByTime(100 * DAY);
    expect(fired).toEqual([]);
    expect(jest.getTimerCount()).toBe(0);
  });

  test('after the host slept (wall time jumped, Node timers did not move) a timer fires within a minute of waking', () => {
    // A Friday-evening timer for Monday 09:30, 62.5 h away; the host sleeps 64 h. Before, the
    // timer counted monotonic time only and fired 64 h late (Wednesday), after two missed sessions.
    const fired: number[] = [];
    const wait = 62.5 * 60 * MINUTE;
    realClock.setTimeout(() => fired.push(Date.now()), wait);
    jest.advanceTimersByTime(MINUTE);
    jest.setSystemTime(FRIDAY_11AM + 64 * 60 * MINUTE); // the wall clock after the sleep; no timer ran
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(WALL_CHECK_MS);
    expect(fired).toHaveLength(1);
    expect(fired[0] - (FRIDAY_11AM + 64 * 60 * MINUTE)).toBeLessThanOrEqual(WALL_CHECK_MS);
    expect(jest.getTimerCount()).toBe(0);
  });

  test('short and negative delays behave as before; an unknown handle is ignored', () => {
    const fired: string[] = [];
    realClock.setTimeout(() => fired.push('negative'), -5);
    realClock.setTimeout(() => fired.push('ten'), 10);
    jest.advanceTimersByTime(0);
    expect(fired).toEqual(['negative']);
    jest.advanceTimersByTime(10);
    expect(fired).toEqual(['negative', 'ten']);
    expect(() => realClock.clearTimeout({})).not.toThrow();
  });
});

describe('the simulated clock with long delays', () => {
  test('a 2^31+5 ms timer fires at its instant, not before', () => {
    const clock = createSimulatedClock(0);
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.now()), 2 ** 31 + 5);
    clock.increment(2 ** 31 + 4);
    expect(fired).toEqual([]);
    clock.increment(1);
    expect(fired).toEqual([2 ** 31 + 5]);
  });

  test('a 25-day errorRecoveryMs recovers exactly at 25 days, and later records carry their true times', () => {
    const { strategy, clock } = start({ ...lt112, id: 'slowRecovery', errorRecoveryMs: 25 * DAY });
    drive(strategy, [{ type: 'MARKET_OPEN' }, { type: 'SYSTEM_ERROR', reason: 'feed down' }]);
    const enteredAt = clock.now();
    clock.increment(1);
    expect(strategy.state).toBe('ERROR');
    clock.increment(25 * DAY - 2);
    expect(strategy.state).toBe('ERROR');
    clock.increment(1);
    expect(strategy.state).toBe('READY');
    expect(strategy.getAuditTrail().at(-1)).toMatchObject({ previousState: 'ERROR', currentState: 'READY', at: enteredAt + 25 * DAY });
    clock.increment(MINUTE);
    expect(strategy.trigger({ type: 'TIME_WINDOW_START' })).toMatchObject({ accepted: true });
    expect(strategy.getAuditTrail().at(-1)!.at).toBe(enteredAt + 25 * DAY + MINUTE);
  });

  test('a 25-day errorRecoveryMs on the real clock does not recover at once (jest fake timers)', () => {
    jest.useFakeTimers({ now: FRIDAY_11AM });
    try {
      const { strategy } = start({ ...lt112, id: 'slowRecovery', errorRecoveryMs: 25 * DAY }, { clock: realClock });
      drive(strategy, [{ type: 'MARKET_OPEN' }, { type: 'SYSTEM_ERROR', reason: 'feed down' }]);
      jest.advanceTimersByTime(DAY);
      expect(strategy.state).toBe('ERROR');
      jest.advanceTimersByTime(24 * DAY - 1);
      expect(strategy.state).toBe('ERROR');
      jest.advanceTimersByTime(1);
      expect(strategy.state).toBe('READY');
      expect(strategy.getAuditTrail().at(-1)).toMatchObject({ currentState: 'READY', at: FRIDAY_11AM + 25 * DAY });
      strategy.stop();
    } finally {
      jest.useRealTimers();
    }
  });
});
