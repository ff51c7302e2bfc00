/**
 * A kill switch's run is known by its HALTED's place in the trading state history and its start
 * time. An instance that finds the HALTED before the run's first step is stored (a crash between
 * the two writes, or another instance hearing the HALTED first) takes the HALTED's own time as the
 * start. The instance that pressed it must stamp the same time, or the same kill switch is stored
 * as two runs. Here the clock moves between the two writes (the wait for writes in flight).
 */
import { join } from 'node:path';
import type { TradingStateChange } from '../../machines/coordinator';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { interruptedKillSwitchStart } from '../../services/store/killSwitchSteps';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM } from '../support/fixtures';
import { storedSystemState } from '../support/persistedSteps';

test("the run a kill switch stores starts at its HALTED's time, as every other instance derives it", async () => {
  const { dir, cleanup } = tempDir('sl-kill-identity-');
  try {
    const clock = createSimulatedClock(FRIDAY_11AM);
    /** A real store on whose trading state writes the clock moves on (time passing before the run's first step). */
    class SlowSqliteStore extends SqliteStore {
      override async saveTradingState(change: Parameters<SqliteStore['saveTradingState']>[0]): Promise<TradingStateChange> {
        const saved = await super.saveTradingState(change);
        clock.increment(250);
        return saved;
      }
    }
    const system = await openStrategySystem({ store: new SlowSqliteStore(join(dir, 's.db')), variants: [zeroDte, lt112, strangle], clock });
    await system.add(lt112, { id: 'lt' });
    await system.killSwitch('drawdown', 'ops');
    await system.close();
    const state = await storedSystemState(new SqliteStore(join(dir, 's.db'), { checkEveryMs: 0 }));
    const halted = state.tradingStateHistory.at(-1);
    expect(halted?.to).toBe('HALTED');
    expect(state.killSwitch?.startedAt).toBe(halted?.at);
    expect(state.killSwitch?.tradingStateChanges).toBe(state.tradingStateHistory.length);
    // The run an instance derives from the HALTED alone is the stored run: the same identity.
    const derived = interruptedKillSwitchStart(state.tradingStateHistory.slice(), null);
    expect([derived?.tradingStateChanges, derived?.startedAt]).toEqual([
      state.killSwitch?.tradingStateChanges,
      state.killSwitch?.startedAt,
    ]);
  } finally {
    cleanup();
  }
});
