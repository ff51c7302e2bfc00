/**
 * Group commit's gathering by turns of the event loop (no SQLite: a commit function that records
 * its batches): writes arriving turn after turn share a batch, up to `maxBatch` and
 * `maxWaitTurns`; a burst queued at once waits no more than one extra turn, a lone write none.
 */
import { createGroupCommit, DEFAULT_GROUP_COMMIT, LONE_WRITES_TURN_MS, type GroupCommitOptions } from '../../services/store/groupCommit';

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

test('the defaults: batches of at most 128, gathered over up to 4 more turns, no timer', () => {
  expect(DEFAULT_GROUP_COMMIT).toEqual({ maxBatch: 128, maxWaitMs: 0, maxWaitTurns: 4, concurrency: 1 });
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

test('lone writes awaited one after another give the event loop a turn at least every LONE_WRITES_TURN_MS', async () => {
  // Each commit holds the thread for 1 ms, as a synchronous fsync does.
  const group = createGroupCommit<number>((writes) => {
    const end = performance.now() + 1;
    while (performance.now() < end);
    return writes.map(() => undefined);
  });
  let turned = false;
  setImmediate(() => (turned = true));
  let atOnce = 0;
  const start = performance.now();
  let secondAnswered = 0; // when the second write was answered (ms since start)
  for (let i = 0; i < 200 && !turned; i++) {
    await group.submit(i);
    if (i === 1) secondAnswered = performance.now() - start;
    if (!turned) atOnce++;
  }
  expect(LONE_WRITES_TURN_MS).toBe(10);
  expect(turned).toBe(true);
  // Committed at once while the budget lasts (not one turn per write), then a turn. The budget is
  // real time: a CI worker descheduled for more than it between the first two writes (they take
  // about 2 ms) spends it there, and the second write rightly takes its turn. Anything else with a
  // single write at once is a turn given before the budget was spent.
  expect(atOnce).toBeGreaterThanOrEqual(1);
  if (atOnce === 1) expect(secondAnswered).toBeGreaterThan(LONE_WRITES_TURN_MS);
  expect(atOnce).toBeLessThanOrEqual(LONE_WRITES_TURN_MS + 2);
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

test('a commit that answers at once (SQLite) still splits a batch over maxBatch with a turn between the parts', async () => {
  const { batches, group } = recorder({ maxBatch: 2 });
  const acks = [0, 1, 2, 3, 4].map((w) => group.submit(w));
  await turn();
  expect(batches).toEqual([[0, 1]]);
  await turn();
  expect(batches).toEqual([
    [0, 1],
    [2, 3],
  ]);
  await turn();
  expect(batches).toEqual([[0, 1], [2, 3], [4]]);
  await Promise.all(acks);
});

/** A commit that stays open until the test ends it: batches as they start, and a way to end each. */
function openCommits(options: GroupCommitOptions, keyed = true) {
  const started: string[][] = [];
  const ends: Array<() => void> = [];
  const group = createGroupCommit<string>(
    (writes) => {
      started.push([...writes]);
      return new Promise((resolve) => ends.push(() => resolve(writes.map(() => undefined))));
    },
    options,
    undefined,
    keyed ? (write) => write.split(':')[0] : undefined,
  );
  return { started, ends, group };
}

test('concurrency 2: writes found together commit as two batches side by side', async () => {
  const { started, ends, group } = openCommits({ concurrency: 2 });
  const acks = Array.from({ length: 10 }, (_, i) => group.submit(`s${i}:1`));
  await turn();
  await turn();
  // Both started before either ended.
  expect(started).toEqual([
    ['s0:1', 's1:1', 's2:1', 's3:1', 's4:1'],
    ['s5:1', 's6:1', 's7:1', 's8:1', 's9:1'],
  ]);
  ends.forEach((end) => end());
  await Promise.all(acks);
});

test('concurrency 2: a write of a strategy whose batch is in flight waits for it (order per strategy kept)', async () => {
  const { started, ends, group } = openCommits({ concurrency: 2 });
  const first = group.submit('a:1');
  await Promise.resolve();
  expect(started).toEqual([['a:1']]);
  const second = group.submit('a:2');
  const other = group.submit('b:1');
  await turn();
  await turn();
  // a:2 heads the queue and a:1 is still committing: no second batch overtakes it.
  expect(started).toEqual([['a:1']]);
  ends[0]();
  await first;
  await turn();
  // Then both go, split side by side as writes found with none in flight are.
  expect(started).toEqual([['a:1'], ['a:2'], ['b:1']]);
  ends[1]();
  ends[2]();
  await Promise.all([second, other]);
});

test('without a key per write, batches commit one at a time whatever the concurrency', async () => {
  const { started, ends, group } = openCommits({ concurrency: 2 }, false);
  const acks = Array.from({ length: 4 }, (_, i) => group.submit(`s${i}:1`));
  await turn();
  await turn();
  expect(started).toEqual([['s0:1', 's1:1', 's2:1', 's3:1']]);
  ends[0]();
  await Promise.all(acks);
  await group.drain();
});
