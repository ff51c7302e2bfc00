/**
 * The wall clock stepped backwards (NTP correcting a clock that ran ahead) under the package's
 * realClock. The step is made with Jest's fake timers: `setSystemTime` moves Date.now while the
 * timers (and performance.now) keep counting elapsed time, as on a real host.
 *
 * Waits for a length of time (a kill switch's retry backoff, a lease round, a store retry) last
 * that long, whatever the wall clock does: before, realClock turned every wait into a wall-clock
 * instant, so a 1 s retry after a 5-minute step back waited 5 minutes and 1 s, the kill switch
 * leaving a rejected exit unretried all that time. Instants (a bell, a durable delay's due
 * instant) still follow the wall clock: neither rings early because the step made the wait look longer.
 */
import { lt112 } from '../../machines/variants';
import { realClock } from '../../services/market/clock';
import { startMarketClock } from '../../services/market/marketClock';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FRIDAY_11AM, MINUTE } from '../support/fixtures';
import { toPosition } from '../support/persistedSteps';
import { FlakyMemoryStore } from '../support/flakyStore';
import { startTradingDay } from '../../services/day/tradingDay';

const STEP = 5 * MINUTE;
const stepBack = (ms: number) => jest.setSystemTime(Date.now() - ms);

// Event-loop turns (setImmediate) stay real: the kill switch's run waits on them, not on its clock.
beforeEach(() => jest.useFakeTimers({ now: FRIDAY_11AM, doNotFake: ['setImmediate'] }));
afterEach(() => jest.useRealTimers());

test('a 1 s wait on the real clock lasts 1 s when the wall clock is stepped back 5 minutes', () => {
  const fired: number[] = [];
  realClock.setTimeout(() => fired.push(Date.now()), 1000);
  jest.advanceTimersByTime(200);
  stepBack(STEP);
  jest.advanceTimersByTime(799);
  expect(fired).toEqual([]);
  jest.advanceTimersByTime(1);
  expect(fired).toEqual([FRIDAY_11AM + 1000 - STEP]);
  expect(jest.getTimerCount()).toBe(0);
});

test('the kill switch retries a rejected exit after its 1 s backoff though the wall clock was stepped back 5 minutes', async () => {
  const system = createStrategySystem({ clock: realClock, killSwitch: { maxRetries: 3, backoffMs: 1000 } });
  system.add(lt112, { id: 'lt' });
  for (const event of toPosition) system.send('lt', event);
  const answers: Array<'reject' | 'fill'> = ['reject', 'fill'];
  let exits = 0;
  // A broker answering each exit order 100 ms later.
  system.subscribe(({ record }) => {
    if (!record.accepted || record.currentState !== 'EXITING') return;
    exits++;
    const answer = answers.shift() ?? 'reject';
    realClock.setTimeout(() => {
      const quantity = system.get('lt').getSnapshot().context.position?.quantity ?? 0;
      system.send('lt', answer === 'fill' ? { type: 'ORDER_FILLED', quantity } : { type: 'ORDER_REJECTED', reason: 'no liquidity' });
    }, 100);
  });
  const done = system.killSwitch('risk desk: flatten all');
  jest.advanceTimersByTime(100); // the first exit rejected
  expect(exits).toBe(1);
  expect(system.get('lt').state).toBe('PENDING_EXIT');
  stepBack(STEP);
  jest.advanceTimersByTime(1000 + 100); // the backoff, then the broker's fill
  expect(exits).toBe(2);
  expect(system.get('lt').state).toBe('CLOSED');
  await expect(done).resolves.toMatchObject({ flattened: ['lt'], failed: [] });
  expect(system.get('lt').state).toBe('CLOSED');
});

test('a bell still rings at its wall-clock instant after a step back, not when the wait armed before it ends', () => {
  const rung: Array<{ type: string; at: number }> = [];
  const open = Date.parse('2026-12-07T09:30:00-05:00'); // Monday
  jest.setSystemTime(open - 2 * MINUTE);
  const bells = startMarketClock({ clock: realClock, target: (event) => rung.push({ type: event.type, at: Date.now() }) });
  stepBack(STEP);
  jest.advanceTimersByTime(2 * MINUTE + STEP - 1);
  expect(rung).toEqual([]);
  jest.advanceTimersByTime(WALL_SLACK);
  expect(rung).toHaveLength(1);
  expect(rung[0].type).toBe('MARKET_OPEN');
  expect(rung[0].at).toBeGreaterThanOrEqual(open);
  bells.stop();
});

test('an ERROR recovery fires at its original instant after a step back, not after 30 minutes of elapsed time', () => {
  const system = createStrategySystem({ clock: realClock });
  system.add(lt112, { id: 'lt' });
  system.send('lt', { type: 'MARKET_OPEN' });
  system.send('lt', { type: 'SYSTEM_ERROR', reason: 'feed down' });
  const due = system.get('lt').getSnapshot().context.deadline?.at as number;
  expect(due).toBe(FRIDAY_11AM + 30 * MINUTE);
  jest.advanceTimersByTime(10 * MINUTE);
  stepBack(STEP);
  jest.advanceTimersByTime(20 * MINUTE); // 30 minutes elapsed; the wall clock says 11:25
  expect(system.get('lt').state).toBe('ERROR');
  jest.advanceTimersByTime(STEP + WALL_SLACK);
  expect(system.get('lt').state).toBe('READY');
  const recoveries = system
    .get('lt')
    .getAuditTrail()
    .filter((r) => r.trigger === 'lifecycle.deadline');
  expect(recoveries).toHaveLength(1);
  expect(recoveries[0].at).toBeGreaterThanOrEqual(due);
  system.get('lt').stop();
});

test('a bell the store refused, its retry due after a step back: sent again once the clock reaches the open again, not lost', () => {
  // The trading day's retries work out what the present requires: 1 s after the refused open, the
  // clock stepped back reads 09:25 and nothing is due yet; the retry waits for its instant by the
  // clock (09:30:01), when the market is open by the corrected clock too.
  const open = Date.parse('2026-11-23T09:30:00-05:00'); // Monday
  jest.setSystemTime(open - MINUTE);
  const store = new FlakyMemoryStore();
  const system = createStrategySystem({ store, clock: realClock });
  system.add(lt112, { id: 'lt' });
  const day = startTradingDay({ target: system, clock: realClock, onError: () => undefined });
  try {
    store.full = true;
    jest.advanceTimersByTime(MINUTE); // the open's write is refused: worked out again at 09:30:01
    expect(store.refused).toBe(1);
    store.full = false;
    stepBack(STEP);
    jest.advanceTimersByTime(STEP - 1);
    expect(system.get('lt').state).toBe('INITIALIZING');
    jest.advanceTimersByTime(1000 + WALL_SLACK);
    expect(system.get('lt').state).toBe('READY');
    expect(system.get('lt').getAuditTrail().at(-1)).toMatchObject({
      trigger: 'MARKET_OPEN',
      data: { catchUp: expect.stringMatching(/^sent again: the store refused the write when it was due/) as unknown },
    });
  } finally {
    day.stop();
    system.stop();
  }
});

/** How late a wall-clock instant may ring after a step back: one elapsed-time timer of slack. */
const WALL_SLACK = 1;
