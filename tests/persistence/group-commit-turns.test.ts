/**
 * Group commit's gathering by turns of the event loop (no SQLite: a commit function that records
 * its batches): writes arriving turn after turn share a batch, up to `maxBatch` and
 * `maxWaitTurns`; a burst queued at once waits no more than one extra turn, a lone write none.
 */
import { createGroupCommit, DEFAULT_GROUP_COMMIT, type GroupCommitOptions } from '../../services/store/groupCommit';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function recorder(options: GroupCommitOptions = {}) {
  const batches: number[][] = [];
  const group = createGroupCommit<number>((writes) => {
    batches.push([...writes]);
    return writes.map(() => undefined);
  }, options);
  return { batches, group };
}

/** Submits `perTurn` writes in each of `turns` successive turns of the event loop. */
async function submitOverTurns(group: ReturnType<typeof recorder>['group'], turns: number, perTurn: number) {
  const acks: Array<Promise<void>> = [];
  let n = 0;
  for (let t = 0; t < turns; t++) {
    for (let i = 0; i < perTurn; i++) acks.push(group.submit(n++));
    await turn();
  }
  await Promise.all(acks);
}

test('the defaults: batches of at most 256, gathered over up to 4 more turns, no timer', () => {
  expect(DEFAULT_GROUP_COMMIT).toEqual({ maxBatch: 256, maxWaitMs: 0, maxWaitTurns: 4 });
});

test('writes arriving in successive turns share one batch', async () => {
  const { batches, group } = recorder();
  await submitOverTurns(group, 3, 10);
  expect(batches.map((b) => b.length)).toEqual([30]);
  expect(batches[0]).toEqual(Array.from({ length: 30 }, (_, i) => i));
});

test('a lone write is committed at the next turn: it waits for no company that is not coming', async () => {
  const { batches, group } = recorder();
  const ack = group.submit(1);
  await turn();
  expect(batches).toEqual([[1]]);
  await ack;
});

test('a lone write commits before the next turn of the event loop: after the microtasks queued with it', async () => {
  const { batches, group } = recorder();
  let turned = false;
  setImmediate(() => (turned = true));
  await group.submit(1);
  expect(batches).toEqual([[1]]);
  expect(turned).toBe(false);
  // A write made by a microtask queued before the first write's (a burst's sends, each one microtask
  // into its strategy's queue) joins it: they keep their turn.
  let third: Promise<void> | undefined;
  queueMicrotask(() => void (third = group.submit(3)));
  const joined = group.submit(2);
  await Promise.resolve();
  expect(batches).toEqual([[1]]);
  await Promise.all([joined, third]);
  expect(batches).toEqual([[1], [2, 3]]);
});

test('a burst queued at once waits one more turn at most', async () => {
  const { batches, group } = recorder();
  const acks = [1, 2, 3].map((w) => group.submit(w));
  await turn();
  await turn();
  expect(batches).toEqual([[1, 2, 3]]);
  await Promise.all(acks);
});

test('maxWaitTurns bounds the wait: writes that keep coming are committed in several batches', async () => {
  const { batches, group } = recorder({ maxWaitTurns: 1 });
  await submitOverTurns(group, 6, 5);
  // Each batch waits one more turn at most, so holds the writes of two turns at most.
  expect(batches.every((b) => b.length <= 10)).toBe(true);
  expect(batches.length).toBeGreaterThanOrEqual(3);
  expect(batches.flat()).toEqual(Array.from({ length: 30 }, (_, i) => i));
});

test('maxWaitTurns 0 commits what is queued at the first turn', async () => {
  const { batches, group } = recorder({ maxWaitTurns: 0 });
  await submitOverTurns(group, 3, 4);
  expect(batches.map((b) => b.length)).toEqual([4, 4, 4]);
});

test('a full batch ends the wait: maxBatch writes go without waiting for more turns', async () => {
  const { batches, group } = recorder({ maxBatch: 8 });
  await submitOverTurns(group, 4, 4);
  expect(batches.map((b) => b.length)).toEqual([8, 8]);
});
