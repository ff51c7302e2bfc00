/** Fault injection: a failing store, a silent broker, a clock that jumps back, async hooks. */
import { join } from 'node:path';
import { StoreUnavailableError } from '../../machines/errors';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock, type Clock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { verifyStore } from '../../services/runtime/replay';
import { getStatistics } from '../../services/runtime/statistics';
import { SqliteStore } from '../../services/store/sqliteStore';
import type { StrategyWrite } from '../../services/store/types';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FRIDAY_11AM, MINUTE, drive, start } from '../support/fixtures';
import { tempDir } from '../persistence/helpers';
import { toPosition as toManaging } from '../support/persistedSteps';

const variants = [zeroDte, lt112, strangle];

/** The real SQLite store, made to fail its Nth write (a full disk, say). */
class FailingOnNthWrite extends SqliteStore {
  writes = 0;
  constructor(
    path: string,
    private readonly failures: Set<number>,
  ) {
    super(path);
  }
  override async append(write: StrategyWrite): Promise<void> {
    this.writes++;
    if (this.failures.has(this.writes))
      throw new StoreUnavailableError(this.name, `SQLITE_FULL: database or disk is full (injected at write ${this.writes})`);
    return super.append(write);
  }
}

test('a store that fails on the 3rd and 7th writes: those sends reject, nothing moves, the store stays consistent', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'f.db');
    const store = new FailingOnNthWrite(file, new Set([3, 7]));
    const system = await openStrategySystem({ store, variants, clock: createSimulatedClock(FRIDAY_11AM) });
    await system.add(lt112, { id: 'lt' });
    const outcomes: string[] = [];
    for (const event of toManaging) {
      const before = system.get('lt').state;
      try {
        const result = await system.send('lt', event);
        outcomes.push(`${event.type}:${result.to}`);
      } catch (error) {
        expect(error).toBeInstanceOf(StoreUnavailableError);
        expect(system.get('lt').state).toBe(before);
        outcomes.push(`${event.type}:failed`);
        // The caller retries once the store is back.
        outcomes.push(`${event.type}:${(await system.send('lt', event)).to}`);
      }
    }
    expect(outcomes).toEqual([
      'MARKET_OPEN:READY',
      'TIME_WINDOW_START:ANALYZING',
      'ENTRY_CONDITIONS_MET:failed',
      'ENTRY_CONDITIONS_MET:PENDING_ENTRY',
      'ORDER_SUBMITTED:ENTERING',
      'ORDER_FILLED:POSITION_OPEN',
      'MARKET_OPEN:failed',
      'MARKET_OPEN:MANAGING',
    ]);
    await system.close();
    const report = await verifyStore(new SqliteStore(file), variants);
    expect(report).toMatchObject({ strategies: 1, records: 6, differences: [] });
  } finally {
    cleanup();
  }
});

test('a broker that never answers the kill switch: the exit is stuck, the strategy ends in ERROR and is reported', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = createStrategySystem({ clock });
  system.add(lt112, { id: 'silent' });
  drive(system.get('silent'), toManaging);
  const done = system.killSwitch('broker outage drill');
  clock.increment(10 * MINUTE);
  const result = await done;
  expect(result.failed).toEqual([{ strategyId: 'silent', reason: 'stuck in EXITING for 10m0s' }]);
  expect(system.get('silent').state).toBe('ERROR');
});

/** A clock whose wall time can jump, like a host clock corrected by NTP; timers run on the simulated time. */
function jumpingClock(start: number) {
  const inner = createSimulatedClock(start);
  let skew = 0;
  const clock: Clock & { jump(ms: number): void; advance(ms: number): void } = {
    now: () => inner.now() + skew,
    setTimeout: (fn, ms) => inner.setTimeout(fn, ms),
    clearTimeout: (h) => inner.clearTimeout(h),
    jump: (ms) => (skew += ms),
    advance: (ms) => inner.increment(ms),
  };
  return clock;
}

test('a clock that jumps backwards: no negative durations, the trail never goes back, no deadline fires twice', () => {
  const clock = jumpingClock(FRIDAY_11AM);
  const { strategy } = start(lt112, { clock });
  drive(strategy, [{ type: 'MARKET_OPEN' }, { type: 'SYSTEM_ERROR', reason: 'x' }]);
  clock.advance(10 * MINUTE);
  clock.jump(-60 * MINUTE);
  expect(strategy.trigger({ type: 'TIME_WINDOW_START' })).toMatchObject({ accepted: false });
  const stats = getStatistics(strategy);
  for (const ms of Object.values(stats.timeInStateMs)) expect(ms).toBeGreaterThanOrEqual(0);
  expect(stats.timeInCurrentStateMs).toBeGreaterThanOrEqual(0);
  clock.advance(20 * MINUTE);
  clock.advance(60 * MINUTE);
  const recoveries = strategy.getAuditTrail().filter((r) => r.trigger === 'lifecycle.deadline');
  expect(recoveries).toHaveLength(1);
  expect(strategy.state).toBe('READY');
  const times = strategy.getAuditTrail().map((r) => r.at);
  expect(times).toEqual([...times].sort((a, b) => a - b));
});

test('an async hook is refused as a hook failure instead of hanging the transition', () => {
  const { strategy } = start({
    ...lt112,
    hooks: { onEnter: { READY: (() => new Promise<void>(() => undefined)) as unknown as () => void } },
  });
  const result = strategy.trigger({ type: 'MARKET_OPEN' });
  expect(result).toMatchObject({ accepted: false, code: 'HOOK_FAILED', to: 'INITIALIZING' });
  expect(result.reason).toContain('hooks must be synchronous, but this one returned a promise');
});
