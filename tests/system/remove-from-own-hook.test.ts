/**
 * `remove` called from inside a hook of the strategy being removed, while its transition is being
 * computed. An in-memory system removed it at once (the committed state, before the transition,
 * was flat), stopped its actor under the transition, and the transition's write then found no
 * strategy: the caller's `send` threw `StoreConflictError` ("not stored"), a throw `send` never
 * documents, for a strategy it had just seen accepted by the hook. Now that `remove` is refused
 * with `StrategyInTransitionError` and nothing changes: the transition commits, and the strategy
 * can be removed once it is over (from a transition listener, or later). A persisted system
 * queues the removal after the transition's write: both are committed, in that order.
 */
import { join } from 'node:path';
import type { StrategyDefinition } from '../../machines/definition';
import { StrategyInTransitionError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM } from '../support/fixtures';

/** lt112 whose onEnter(READY) hook calls `remove` (the system is set once it exists). */
function removingOnReady() {
  const calls: { remove?: () => unknown; outcome?: unknown } = {};
  const def: StrategyDefinition = {
    ...lt112,
    hooks: {
      onEnter: {
        READY: () => {
          try {
            calls.outcome = calls.remove?.();
          } catch (error) {
            calls.outcome = error;
          }
        },
      },
    },
  };
  return { def, calls };
}

test('in memory: remove from its own hook is refused with StrategyInTransitionError; the transition commits', () => {
  const { def, calls } = removingOnReady();
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add(def, { id: 'a' });
  calls.remove = () => system.remove('a');
  expect(system.send('a', { type: 'MARKET_OPEN' })).toMatchObject({ accepted: true, to: 'READY' });
  expect(calls.outcome).toBeInstanceOf(StrategyInTransitionError);
  expect(calls.outcome).toMatchObject({ strategyId: 'a', operation: 'remove' });
  expect(system.has('a')).toBe(true);
  expect(system.get('a').getSnapshot().status).toBe('active');
  expect(system.get('a').getAuditTrail()).toMatchObject([{ seq: 1, trigger: 'MARKET_OPEN', currentState: 'READY' }]);
  // Once the transition is over, the removal goes through.
  calls.remove = undefined;
  system.remove('a');
  expect(system.has('a')).toBe(false);
  system.stop();
});

test('in memory: remove from a transition listener (after the commit) removes the strategy', () => {
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add(lt112, { id: 'a' });
  system.subscribe(({ strategyId, record }) => {
    if (strategyId === 'a' && record.currentState === 'READY') system.remove('a');
  });
  expect(system.send('a', { type: 'MARKET_OPEN' })).toMatchObject({ accepted: true, to: 'READY' });
  expect(system.has('a')).toBe(false);
  system.stop();
});

test('persisted (SQLite): remove from its own hook is queued after the transition; both are committed', async () => {
  const { dir, cleanup } = tempDir();
  const { def, calls } = removingOnReady();
  const system = await openStrategySystem({
    store: new SqliteStore(join(dir, 's.db')),
    variants: [def],
    clock: createSimulatedClock(FRIDAY_11AM),
  });
  try {
    await system.add(def, { id: 'a' });
    calls.remove = () => system.remove('a');
    await expect(system.send('a', { type: 'MARKET_OPEN' })).resolves.toMatchObject({ accepted: true, to: 'READY' });
    await expect(calls.outcome).resolves.toBeUndefined();
    expect(system.has('a')).toBe(false);
    expect(await system.store.loadAll()).toEqual([]);
  } finally {
    await system.close();
    cleanup();
  }
});
