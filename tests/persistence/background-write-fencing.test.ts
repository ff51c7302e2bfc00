/**
 * A write made in the background (a failed hook's record, stored after the safety transition that
 * caused it) that the store refuses because another instance owns the strategy now is fenced like
 * `send`: this instance lets go of its copy and writes nothing more to it.
 */
import { OwnershipLostError } from '../../machines/errors';
import type { StrategyEvent } from '../../machines/events';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { PostgresStore } from '../../services/store/postgresStore';
import { FRIDAY_11AM, VARIANTS } from '../support/fixtures';
import { freshDatabase } from './pg';

const toPosition: StrategyEvent[] = [
  { type: 'MARKET_OPEN' },
  { type: 'TIME_WINDOW_START' },
  VARIANTS[1].entry,
  { type: 'ORDER_SUBMITTED' },
  { type: 'ORDER_FILLED', quantity: 2, expiry: '2026-12-18' },
];
/** lt112 with a hook that fails on entering EXITING: after a safety exit, one more record to store. */
const failingHook = {
  ...lt112,
  hooks: {
    onEnter: {
      EXITING: () => {
        throw new Error('notifier down');
      },
    },
  },
};

test("the background store of a failed hook's record, refused for ownership, lets go of the strategy", async () => {
  const url = await freshDatabase('bg_fence');
  const errors: unknown[] = [];
  const store = new PostgresStore({ connectionString: url, instanceId: 'a' });
  const system = await openStrategySystem({
    store,
    variants: [zeroDte, failingHook, strangle],
    clock: createSimulatedClock(FRIDAY_11AM),
    onStoreError: (e) => errors.push(e),
  });
  await system.add(failingHook, { id: 'held' });
  for (const e of toPosition) await system.send('held', e);
  // The lease goes at the moment the exit commits: the hook's record that follows is refused.
  system.subscribe(({ record }) => {
    if (record.currentState === 'EXITING' && record.trigger === 'EMERGENCY_EXIT') void store.release('held');
  });

  expect(await system.send('held', { type: 'EMERGENCY_EXIT', reason: 'drill' })).toMatchObject({ accepted: true, to: 'EXITING' });
  await system.flush();
  expect(errors.some((e) => e instanceof OwnershipLostError)).toBe(true);
  expect(() => system.get('held')).toThrow(OwnershipLostError);
  expect(system.ids()).toEqual([]);
  await expect(system.send('held', { type: 'ORDER_FILLED', quantity: 2 })).rejects.toThrow(OwnershipLostError);
  await system.close();
});
