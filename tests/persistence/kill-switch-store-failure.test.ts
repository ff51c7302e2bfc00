/**
 * A kill switch whose exit cannot be written (the store refuses the commit for a moment: a full
 * disk, a read-only file) retries that exit on its backoff, as it retries a rejected exit, instead
 * of giving up on the position at once: trading is HALTED and nothing else would ever flatten it.
 */
import { join } from 'node:path';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import type { BatchReport } from '../../services/store/groupCommit';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM, VARIANTS, managing } from '../support/fixtures';
import { advance } from '../support/persistedSteps';
import { setImmutable, tempDir } from './helpers';

let file: string;
let cleanup: () => void;
beforeEach(() => {
  const made = tempDir('sl-kill-store-');
  cleanup = made.cleanup;
  file = join(made.dir, 'k.db');
});
afterEach(() => {
  setImmutable([file, `${file}-wal`, `${file}-shm`], false);
  cleanup();
});

/**
 * A system over `file` with one write per batch and strategies a and b managing 2 contracts each;
 * `failFrom(n)` makes the file read-only under the n-th batch from then on (counted afresh).
 */
async function twoPositions(maxRetries: number) {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const batches: BatchReport[] = [];
  let failAt = Infinity;
  const store = new SqliteStore(file, {
    checkEveryMs: 0,
    groupCommit: { maxBatch: 1 },
    onBatch: (batch) => {
      batches.push(batch);
      if (batches.length === failAt) setImmutable([file, `${file}-wal`], true);
    },
  });
  const system = await openStrategySystem({
    store,
    variants: [lt112],
    clock,
    killSwitch: { maxRetries, backoffMs: 1000 },
    onStoreError: () => undefined,
  });
  for (const id of ['a', 'b']) {
    await system.add(lt112, { id });
    for (const event of managing(VARIANTS[1].entry, 2)) await system.send(id, event);
  }
  const failFrom = (n: number) => {
    batches.length = 0;
    failAt = n;
  };
  return { clock, batches, system, failFrom };
}

test('an exit the store failed to write is retried on the backoff; the position is flattened once the store is back', async () => {
  // One write per batch: the first exit commits, then the file is made read-only under the second.
  const { clock, batches, system, failFrom } = await twoPositions(3);
  failFrom(1);
  const run = await system.startKillSwitch('drill');
  await advance(system, clock, 0);
  expect(batches.map((b) => b.committed)).toEqual([1, 0]);
  expect(['a', 'b'].map((id) => system.get(id).state)).toEqual(['EXITING', 'MANAGING']);

  // The store is back: the next retry (1 s later) writes b's exit.
  setImmutable([file, `${file}-wal`], false);
  await advance(system, clock, 1000);
  expect(['a', 'b'].map((id) => system.get(id).state)).toEqual(['EXITING', 'EXITING']);
  for (const id of ['a', 'b']) await system.send(id, { type: 'ORDER_FILLED', quantity: 2 });
  // Before, b was given up on at once ("could not start an exit"), still holding 2 contracts.
  await expect(run.done).resolves.toMatchObject({ flattened: ['a', 'b'], failed: [] });
  await system.close();
});

test('an exit the store keeps refusing is given up after maxRetries, reported failed with the store error', async () => {
  const { clock, batches, system, failFrom } = await twoPositions(2);
  failFrom(1);
  const run = await system.startKillSwitch('drill');
  // The first attempt, then retries after 1 s and 2 s: three attempts in all, each refused.
  await advance(system, clock, 2999);
  expect(batches.map((b) => b.committed)).toEqual([1, 0, 0]);
  await advance(system, clock, 1);
  expect(batches.map((b) => b.committed)).toEqual([1, 0, 0, 0]);
  // Given up: no further attempt, however long the store stays down.
  await advance(system, clock, 60_000, 1000);
  expect(batches).toHaveLength(4);
  expect(system.get('b').state).toBe('MANAGING');
  setImmutable([file, `${file}-wal`], false);
  await system.send('a', { type: 'ORDER_FILLED', quantity: 2 });
  await expect(run.done).resolves.toMatchObject({
    flattened: ['a'],
    failed: [{ strategyId: 'b', reason: expect.stringMatching(/^kill switch could not start an exit \(3 attempts\): .*SQLITE_IOERR/) }],
  });
  await system.close();
});
