/**
 * PostgreSQL, several instances: a kill switch with an entry order working on an instance that
 * dies (B). A kill switch is complete only when no stored strategy holds a position or has an entry
 * order working (PENDING_ENTRY, ENTERING), whichever instance owns it: the run waits for the
 * instance that takes the strategy over (A) to watch the entry. A rejected entry leaves it flat,
 * never held: listed as already flat by its new owner, it settles the dead part's pending entry and
 * the run completes; an entry that fills after all is flattened by the new owner.
 */
import { lt112 } from '../../machines/variants';
import { createSimulatedClock, type SimulatedClockHandle } from '../../services/market/clock';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { PostgresStore } from '../../services/store/postgresStore';
import { exitBroker } from '../support/exitBroker';
import { FRIDAY_11AM } from '../support/fixtures';
import { toPosition } from '../support/persistedSteps';
import { eventually, freshDatabase } from './pg';

const LEASE = 15_000;

function instance(store: PostgresStore, clock: SimulatedClockHandle): Promise<PersistentStrategySystem> {
  return openStrategySystem({
    store,
    variants: [lt112],
    clock,
    onStoreError: () => undefined,
    killSwitch: { maxRetries: 5, backoffMs: 1000 },
  });
}

/** Instances A and B over a fresh database, each on its own simulated clock; `setup` runs on A first. */
async function twoInstances(database: string, setupA?: (a: PersistentStrategySystem) => Promise<void>) {
  const url = await freshDatabase(database);
  const clockA = createSimulatedClock(FRIDAY_11AM);
  const clockB = createSimulatedClock(FRIDAY_11AM);
  const storeB = new PostgresStore({ connectionString: url, instanceId: 'b', leaseMs: LEASE });
  const a = await instance(new PostgresStore({ connectionString: url, instanceId: 'a', leaseMs: LEASE }), clockA);
  const b = await instance(storeB, clockB);
  await setupA?.(a);
  // B has an entry order working.
  await b.add(lt112, { id: 'entry-b' });
  for (const e of toPosition.slice(0, 4)) await b.send('entry-b', e);
  expect(b.get('entry-b').state).toBe('ENTERING');
  return { a, b, clockA, storeB };
}

/** A's lease rounds until B's lease has run out and A has claimed entry-b, still ENTERING. */
async function claimEntryB(a: PersistentStrategySystem, clockA: SimulatedClockHandle) {
  for (let t = 0; t <= 2 * LEASE && !a.has('entry-b'); t += LEASE / 3) {
    clockA.increment(LEASE / 3);
    await a.flush();
    await new Promise((r) => setTimeout(r, 100));
  }
  await eventually(() => a.has('entry-b') && a.get('entry-b').state === 'ENTERING', 'A to take entry-b over');
}

test('B dies with an entry order working mid kill switch: A takes it over, the entry is rejected, and the run completes with it already flat', async () => {
  // A holds a position (its run stays open while it flattens it).
  const { a, b, clockA, storeB } = await twoInstances('shared_kill_dead_entry', async (a) => {
    await a.add(lt112, { id: 'lt-a' });
    for (const e of toPosition) await a.send('lt-a', e);
  });
  void exitBroker(a, clockA, () => 'fill');

  const run = await a.startKillSwitch('exchange incident', 'ops');
  let finished = false;
  void run.done.then(() => (finished = true));
  // B joins through NOTIFY and records entry-b as pending (its entry may still fill), then dies.
  await eventually(async () => {
    const parts = (await a.store.loadSystemState()).killSwitchParts;
    return parts.some((p) => p.instanceId === 'b' && p.pending.includes('entry-b'));
  }, "B's part listing entry-b as pending");
  await storeB.abandon();

  // A's lease rounds: its own exit fills, B's lease runs out and A claims entry-b, still ENTERING.
  await claimEntryB(a, clockA);
  expect(a.get('lt-a').getSnapshot().context.position?.quantity ?? 0).toBe(0);
  expect(finished).toBe(false); // entry-b's entry may still fill

  // The broker rejects the entry: entry-b is flat and never held a position.
  await a.send('entry-b', { type: 'ORDER_REJECTED', reason: 'exchange closed' });
  expect(a.get('entry-b').state).toBe('READY');
  await eventually(() => finished, 'the kill switch run to complete', 5000);
  const result = await run.done;
  expect(result).toEqual({ reason: 'exchange incident', flattened: ['lt-a'], alreadyFlat: ['entry-b'], failed: [] });
  const stored = await a.store.loadSystemState();
  expect(stored.killSwitch).toMatchObject({ pending: [], alreadyFlat: ['entry-b'], flattened: ['lt-a'] });
  expect(stored.killSwitch!.finishedAt).not.toBeNull();
  await a.close();
  await b.close();
});

test('an entry order working on a dead instance keeps the kill switch open; its new owner flattens the fill', async () => {
  const { a, b, clockA, storeB } = await twoInstances('shared_kill_entry_elsewhere');
  await storeB.abandon(); // B dies with its entry order working at the broker
  void exitBroker(a, clockA, () => 'fill');

  const run = await a.startKillSwitch('exchange incident', 'ops');
  let finished = false;
  void run.done.then(() => (finished = true));
  await a.flush();
  await new Promise((r) => setTimeout(r, 300));
  expect(finished).toBe(false); // entry-b's entry may still fill
  expect((await a.store.loadSystemState()).killSwitch!.finishedAt).toBeNull();

  // B's lease runs out: A claims entry-b (still ENTERING) and its part watches the entry.
  await claimEntryB(a, clockA);

  // The entry fills after all: the kill switch exits it at once, and the exit fills.
  await a.send('entry-b', { type: 'ORDER_FILLED', quantity: 2, expiry: '2026-12-18' });
  expect(a.get('entry-b').state).toBe('POSITION_OPEN');
  clockA.increment(1); // the kill switch's exit of a fill is deferred by a zero delay on the clock
  await eventually(() => a.get('entry-b').state === 'EXITING', "the kill switch's exit of entry-b");
  clockA.increment(100);
  const result = await run.done;
  expect(result).toEqual({ reason: 'exchange incident', flattened: ['entry-b'], alreadyFlat: [], failed: [] });
  expect(a.get('entry-b').getSnapshot().context.position?.quantity ?? 0).toBe(0);
  expect((await a.store.loadSystemState()).killSwitch!.finishedAt).not.toBeNull();
  await a.close();
  await b.close();
});
