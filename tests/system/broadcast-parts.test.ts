/**
 * The broadcast over asynchronous sends (a store): parts of `partSize` per turn of the event
 * loop, at most `partsInFlight` parts unanswered at once, answers listed in the order of the
 * targets, a failed send answered through `onError` without stopping the rest.
 */
import type { StrategyActor, TriggerResult } from '../../services/runtime/strategyActor';
import { broadcast, BROADCAST_PART, BROADCAST_PARTS_IN_FLIGHT } from '../../services/runtime/systemOperations';

const targets = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `s${i}` }) as StrategyActor);
const accepted = (): TriggerResult => ({ accepted: true, from: 'READY', to: 'ANALYZING' }) as TriggerResult;

/** Sends answered only when `answerAll` is called (like a store's commit), counting those unanswered. */
function deferredSends() {
  const pending: Array<() => void> = [];
  let unanswered = 0;
  let most = 0;
  const send = (id: string) =>
    new Promise<TriggerResult>((resolve, reject) => {
      unanswered++;
      most = Math.max(most, unanswered);
      pending.push(() => {
        unanswered--;
        if (id === 's3') reject(new Error('store down'));
        else resolve(accepted());
      });
    });
  // Answers what is pending at every fifth turn of the event loop (a slow commit).
  let stop = false;
  let turns = 0;
  const commitEachTurn = () => {
    if (++turns % 5 === 0) for (const answer of pending.splice(0)) answer();
    if (!stop) setImmediate(commitEachTurn);
  };
  setImmediate(commitEachTurn);
  return { send, most: () => most, stop: () => (stop = true) };
}

test('the defaults: 64 strategies per turn, 8 parts in flight', () => {
  expect([BROADCAST_PART, BROADCAST_PARTS_IN_FLIGHT]).toEqual([64, 8]);
});

test('at most partsInFlight parts are unanswered at once; answers keep the order of the targets', async () => {
  const sends = deferredSends();
  const errors: string[] = [];
  const results = await broadcast(
    targets(20),
    sends.send,
    { type: 'MARKET_OPEN' },
    {
      has: () => true,
      onError: (id, error) => (errors.push(id), error as Error),
      partSize: 3,
      partsInFlight: 2,
    },
  );
  sends.stop();
  // Two parts of 3 went out before the first was answered, never a third.
  expect(sends.most()).toBe(6);
  expect(Object.keys(results)).toEqual(targets(20).map((t) => t.id));
  expect(errors).toEqual(['s3']);
  expect((results.s3 as Error).message).toBe('store down');
  expect(
    Object.entries(results)
      .filter(([id]) => id !== 's3')
      .every(([, r]) => (r as TriggerResult).accepted),
  ).toBe(true);
});

test('a target removed before its part is sent is not reached', async () => {
  const sends = deferredSends();
  const gone = new Set<string>();
  const results = await broadcast(
    targets(6),
    (id) => (gone.add('s5'), sends.send(id)),
    { type: 'MARKET_OPEN' },
    {
      has: (id) => !gone.has(id),
      onError: (_id, error) => error as Error,
      partSize: 2,
    },
  );
  sends.stop();
  expect(Object.keys(results)).toEqual(['s0', 's1', 's2', 's3', 's4']);
});
