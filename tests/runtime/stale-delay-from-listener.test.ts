/**
 * A transition listener that moves a simulated clock on (a backtest or simulation driver reacting
 * to a strategy's records). Its strategy has just left a state with a deadline (PENDING_ENTRY's
 * stuck deadline), and that deadline's timer is re-armed only once every listener has heard the
 * transition. Moved past it from inside the listener, the old timer fired into the in-memory
 * pipeline and its delayed event was taken on the new state: a spurious NO_EDGE rejection of
 * `xstate.after.stuckPendingEntry...` in ENTERING, audited and counted like a caller's refused event.
 * Now a delayed event that its strategy no longer waits for is dropped, as a persistent system's
 * deadline queue already did ("superseded while queued"); the new state's own deadline still fires.
 */
import { join } from 'node:path';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import type { StrategyEvent } from '../../machines/events';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import type { TransitionRecord } from '../../machines/types';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM, VARIANTS } from '../support/fixtures';

const HOUR = 60 * 60_000;
const toEntering: StrategyEvent[] = [
  { type: 'MARKET_OPEN' },
  { type: 'TIME_WINDOW_START' },
  VARIANTS[1].entry,
  { type: 'ORDER_SUBMITTED' },
];
const moves = (trail: readonly TransitionRecord[]) => trail.map((r) => `${r.trigger} ${r.previousState}->${r.currentState} ${r.accepted}`);

/** What each system must audit: the four moves, then ENTERING's own stuck deadline; no refusal. */
function expectNoStaleDeadline(trail: readonly TransitionRecord[]): void {
  expect(trail.filter((r) => !r.accepted)).toEqual([]);
  expect(moves(trail).slice(0, 5)).toEqual([
    'MARKET_OPEN INITIALIZING->READY true',
    'TIME_WINDOW_START READY->ANALYZING true',
    'ENTRY_CONDITIONS_MET ANALYZING->PENDING_ENTRY true',
    'ORDER_SUBMITTED PENDING_ENTRY->ENTERING true',
    'lifecycle.deadline ENTERING->ERROR true',
  ]);
}

test('in-memory system: a listener moving the clock past the deadline of the state just left audits no stale deadline', () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = createStrategySystem({ clock });
  system.add(lt112, { id: 'a' });
  system.subscribe(({ record }) => {
    if (record.trigger === 'ORDER_SUBMITTED') clock.increment(HOUR);
  });
  for (const event of toEntering) expect(system.send('a', event)).toMatchObject({ accepted: true });
  expectNoStaleDeadline(system.get('a').getAuditTrail());
  system.stop();
});

test('lone strategy: the same from its own subscribe', () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const strategy = createStrategyActor(createStrategyMachine(lt112), { id: 'a', clock });
  strategy.subscribe(({ record }) => {
    if (record.trigger === 'ORDER_SUBMITTED') clock.increment(HOUR);
  });
  for (const event of toEntering) expect(strategy.trigger(event)).toMatchObject({ accepted: true });
  expectNoStaleDeadline(strategy.getAuditTrail());
  strategy.stop();
});

test('persisted (SQLite): the same, in memory and in the store', async () => {
  const { dir, cleanup } = tempDir();
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = await openStrategySystem({ store: new SqliteStore(join(dir, 's.db')), variants: [lt112], clock });
  try {
    await system.add(lt112, { id: 'a' });
    system.subscribe(({ record }) => {
      if (record.trigger === 'ORDER_SUBMITTED') clock.increment(HOUR);
    });
    for (const event of toEntering) expect(await system.send('a', event)).toMatchObject({ accepted: true });
    await system.flush();
    expectNoStaleDeadline(system.get('a').getAuditTrail());
    expectNoStaleDeadline(await system.store.readAuditTrail('a', { limit: 100 }));
  } finally {
    await system.close();
    cleanup();
  }
});
