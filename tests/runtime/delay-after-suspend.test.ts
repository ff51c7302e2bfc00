/**
 * A durable delay whose timer fires late (the host slept past it) is stamped when it happens: the
 * ERROR recovery due Monday 16:05 that runs on waking Tuesday 10:16 is recorded on Tuesday, after
 * the bells recorded on waking (the trail's time never runs backwards along its seqs), and counted
 * on Tuesday by the automatic-recovery circuit breaker.
 *
 * The sleep is made with Jest's fake timers over the package's own realClock: the wall clock
 * (Date.now) jumps while the timers stand still, as on a suspended host; then the pending
 * one-minute links fire.
 */
import { DateTime } from 'luxon';
import { strangle } from '../../machines/variants';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { realClock } from '../../services/market/clock';
import { MARKET_ZONE } from '../../services/market/time';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { startTradingDay, type TradingTarget } from '../../services/day/tradingDay';

const ny = (iso: string) => DateTime.fromISO(iso, { zone: MARKET_ZONE }).toMillis();
const hhmm = (at: number) => DateTime.fromMillis(at, { zone: MARKET_ZONE }).toFormat('ccc HH:mm:ss');
afterEach(() => jest.useRealTimers());

test('ERROR recovery that fires after a suspend is stamped when it happens, and the trail time runs forward', () => {
  jest.useFakeTimers({ now: ny('2026-11-30T09:00') });
  const strategy = createStrategyActor(createStrategyMachine(strangle), { id: 'st', clock: realClock });
  const target: TradingTarget = {
    ids: () => ['st'],
    has: (id) => id === 'st',
    get: () => strategy,
    send: (_id, event) => strategy.trigger(event),
    subscribe: (listener) => strategy.subscribe(listener),
  };
  const day = startTradingDay({ target, clock: realClock, onError: () => undefined });
  try {
    jest.advanceTimersByTime(ny('2026-11-30T15:35') - Date.now());
    strategy.trigger({ type: 'SYSTEM_ERROR', reason: 'feed down' }); // recovery due Mon 16:05
    jest.advanceTimersByTime(60_000);
    // Host asleep from Mon 15:36 to Tue 10:15: the wall clock moves, Node's timers do not.
    jest.setSystemTime(ny('2026-12-01T10:15'));
    jest.advanceTimersByTime(120_000);

    const trail = strategy.getAuditTrail().filter((r) => r.at >= ny('2026-11-30T15:00'));
    const recovery = trail.find((r) => r.trigger === 'lifecycle.deadline')!;
    expect(recovery).toBeDefined();
    // It happened on waking, Tuesday: not at Monday 16:05, while the process was asleep.
    expect(recovery.at).toBeGreaterThanOrEqual(ny('2026-12-01T10:15'));
    // Time runs forward along the seqs.
    const backwards = trail.filter((r, i) => i > 0 && r.at < trail[i - 1].at).map((r) => `seq ${r.seq} ${r.trigger} at ${hhmm(r.at)}`);
    expect(backwards).toEqual([]);
    expect(strategy.getSnapshot().context.autoRecoveries.day).toBe('2026-12-01');
  } finally {
    day.stop();
    strategy.stop();
  }
});
