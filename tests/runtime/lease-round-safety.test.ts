/**
 * The trading-state reload (beforeRound) and the kill switch's adoption (afterRound) run beside the
 * lease rounds, one at a time. A reload asked for while an adoption ran was dropped (only a wanted
 * adoption was remembered), and adoptions that each outlasted a period starved the reloads for
 * good: a kill switch started elsewhere, its NOTIFY missed, was never learnt. A store with only
 * the lease calls and a simulated clock drive createLeaseKeeper.
 */
import { createLeaseKeeper } from '../../services/runtime/leaseRound';
import { createSimulatedClock } from '../../services/market/clock';
import type { StoredStrategy, StrategyStore } from '../../services/store/types';

const LEASE = 3000;
const PERIOD = LEASE / 3;
const flush = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};
interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}
const deferred = (): Deferred => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};
const stored = (id: string): StoredStrategy =>
  ({ strategyId: id, variant: 'v', snapshot: { value: 'IDLE', context: {} } }) as unknown as StoredStrategy;

/** `roundMs`: how long each round's lease statements take on the clock (a slow server). */
function harness(claims: string[][], roundMs = 0) {
  const clock = createSimulatedClock(0);
  const log: string[] = [];
  const reloads: Deferred[] = [];
  const adoptions: Deferred[] = [];
  const errors: string[] = [];
  let roundNo = 0;
  const store = {
    leaseMs: LEASE,
    maintainLeases: async () => {
      const ids = claims[roundNo++] ?? [];
      log.push(`round ${roundNo}`);
      if (roundMs > 0) clock.increment(roundMs);
      return { claimed: ids.map(stored), lost: [] };
    },
    release: async () => undefined,
  } as unknown as StrategyStore;
  const held = new Set<string>();
  const keeper = createLeaseKeeper({
    store,
    clock,
    instanceId: 'a',
    has: (id) => held.has(id),
    detach: (id) => void held.delete(id),
    restore: (s) => void held.add(s.strategyId),
    enqueue: (_id, task) => task(),
    report: (error, where) => void errors.push(`${where}: ${String(error)}`),
    beforeRound: () => {
      const d = deferred();
      reloads.push(d);
      log.push(`reload ${reloads.length} started`);
      return d.promise.then(() => void log.push(`reload ${reloads.indexOf(d) + 1} done`));
    },
    afterRound: () => {
      const d = deferred();
      adoptions.push(d);
      log.push(`adoption ${adoptions.length} started`);
      return d.promise.then(() => void log.push(`adoption ${adoptions.indexOf(d) + 1} done`));
    },
  });
  return { clock, log, reloads, adoptions, errors, keeper };
}

test('a round that starts while an adoption is running still reloads the trading state (after it): its reload is not dropped', async () => {
  // Round 1 claims 'x'; round 2 starts while the adoption of 'x' waits (a broker, a slow query).
  const h = harness([['x'], [], []]);
  h.keeper.start();
  h.clock.increment(PERIOD); // round 1
  await flush();
  h.reloads[0].resolve();
  await flush();
  expect(h.adoptions).toHaveLength(1); // adoption of 'x' running
  h.clock.increment(PERIOD); // round 2, during the adoption
  await flush();
  h.adoptions[0].resolve();
  await flush();
  // Round 2 asked for a reload (a NOTIFY may have been missed): it must run once the adoption is done.
  expect(h.log).toContain('round 2');
  expect(h.reloads).toHaveLength(2);
  h.keeper.stop();
});

test('reloads are not starved for good by adoptions that outlast a period: every round claims one strategy', async () => {
  // E.g. a strategy this instance cannot restore is claimed, released and claimed again every round;
  // each adoption (kill switch check: loadSystemState, holdingPositions) takes a little over a period.
  const h = harness(Array.from({ length: 10 }, (_, i) => [`s${i}`]));
  h.keeper.start();
  h.clock.increment(PERIOD); // round 1
  await flush();
  h.reloads[0].resolve();
  await flush();
  for (let round = 2; round <= 10; round++) {
    h.clock.increment(PERIOD); // next round starts while the previous adoption still runs
    await flush();
    h.adoptions[h.adoptions.length - 1].resolve(); // then that adoption finishes
    await flush();
  }
  // Ten rounds over more than three leases: one reload, at round 1.
  expect(h.reloads.length).toBeGreaterThan(1);
  h.keeper.stop();
});

test("an adoption waits for its round's reload: a kill switch learnt in that reload flattens what the round claimed", async () => {
  const h = harness([['x']]);
  h.keeper.start();
  h.clock.increment(PERIOD); // round 1: its reload starts, then it claims 'x'
  await flush();
  expect(h.log).toEqual(['reload 1 started', 'round 1']);
  expect(h.adoptions).toHaveLength(0); // not before the reload is done
  h.reloads[0].resolve();
  await flush();
  expect(h.log).toEqual(['reload 1 started', 'round 1', 'reload 1 done', 'adoption 1 started']);
  h.adoptions[0].resolve();
  h.keeper.stop();
});

test('renewals do not wait for the reload or the adoption: the rounds go on every period', async () => {
  const h = harness([['x'], [], [], []]);
  h.keeper.start();
  for (let i = 0; i < 4; i++) {
    h.clock.increment(PERIOD);
    await flush();
  }
  // Neither the first reload nor anything after it ever finished.
  expect(h.log.filter((l) => l.startsWith('round'))).toEqual(['round 1', 'round 2', 'round 3', 'round 4']);
  expect(h.reloads).toHaveLength(1);
  h.keeper.stop();
});

test('rounds start a third of a lease apart, counted from the start of the one before: a slow round does not push the next renewal back', async () => {
  // Each round's statements take 400 ms of the clock (of a 1,000 ms period).
  const h = harness([], 400);
  h.keeper.start();
  h.clock.increment(PERIOD); // round 1 at 1,000, over at 1,400
  await flush();
  expect(h.log.filter((l) => l.startsWith('round'))).toEqual(['round 1']);
  h.clock.increment(PERIOD - 400 - 1); // 1,999: not yet
  await flush();
  expect(h.log.filter((l) => l.startsWith('round'))).toEqual(['round 1']);
  h.clock.increment(1); // 2,000: a period after round 1 started (from its end it would be 2,400)
  await flush();
  expect(h.log.filter((l) => l.startsWith('round'))).toEqual(['round 1', 'round 2']);
  h.keeper.stop();
});
