/**
 * PostgreSQL, several instances: one kill switch for all. Started on any instance, every instance
 * flattens what it holds (learning it through NOTIFY and at each lease round) and records its own
 * steps; a strategy claimed from a dead instance while it is active is flattened by its new owner;
 * the run is complete only when no instance has a strategy left holding a position.
 */
import { OwnershipLostError } from '../../machines/errors';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock, type SimulatedClockHandle } from '../../services/market/clock';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { PostgresStore } from '../../services/store/postgresStore';
import { exitBroker } from '../support/exitBroker';
import { FRIDAY_11AM } from '../support/fixtures';
import { eventually, freshDatabase } from './pg';
import { toPosition } from '../support/persistedSteps';

const variants = [zeroDte, lt112, strangle];
const LEASE = 15_000;

function instance(store: PostgresStore, clock: SimulatedClockHandle, errors: unknown[] = []): Promise<PersistentStrategySystem> {
  return openStrategySystem({
    store,
    variants,
    clock,
    onStoreError: (e) => errors.push(e),
    killSwitch: { maxRetries: 5, backoffMs: 1000 },
  });
}

/** A broker on the instance's clock: answers each exit order 100 ms later, filling or rejecting it. */
const broker = (system: PersistentStrategySystem, clock: SimulatedClockHandle, answer: 'fill' | 'reject') =>
  void exitBroker(system, clock, () => answer);

const quantity = (system: PersistentStrategySystem, id: string) => system.get(id).getSnapshot().context.position?.quantity ?? 0;

async function withPosition(system: PersistentStrategySystem, id: string): Promise<void> {
  await system.add(lt112, { id });
  for (const e of toPosition) await system.send(id, e);
}

test("a kill switch started on A flattens B's positions too; each instance records its own part and the run completes when both are flat", async () => {
  const url = await freshDatabase('shared_kill');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const a = await instance(new PostgresStore({ connectionString: url, instanceId: 'a', leaseMs: LEASE }), clock);
  const b = await instance(new PostgresStore({ connectionString: url, instanceId: 'b', leaseMs: LEASE }), clock);
  await withPosition(a, 'lt-a');
  await withPosition(b, 'lt-b');
  await b.add(zeroDte, { id: 'flat-b' });
  broker(a, clock, 'fill');
  broker(b, clock, 'fill');

  const run = await a.startKillSwitch('risk desk: flatten all', 'risk-desk');
  let finished = false;
  void run.done.then(() => (finished = true));
  // B hears of it through NOTIFY: no lease round (the clock stands still), no call on B.
  await eventually(() => b.get('lt-b').state === 'EXITING', "B's exit");
  // A's own exit is written through its store's group commit: it lands in its own batch.
  await eventually(() => a.get('lt-a').state === 'EXITING', "A's exit");
  expect(b.tradingState).toBe('HALTED');
  expect(finished).toBe(false);

  clock.increment(100); // both brokers fill
  const result = await run.done;
  expect({ ...result, flattened: [...result.flattened].sort() }).toEqual({
    reason: 'risk desk: flatten all',
    flattened: ['lt-a', 'lt-b'],
    alreadyFlat: ['flat-b'],
    failed: [],
  });
  expect(quantity(a, 'lt-a')).toBe(0);
  expect(quantity(b, 'lt-b')).toBe(0);

  const stored = await a.store.loadSystemState();
  expect(stored.killSwitchParts.map((p) => [p.instanceId, p.flattened, p.pending])).toEqual(
    expect.arrayContaining([
      ['a', ['lt-a'], []],
      ['b', ['lt-b'], []],
    ]),
  );
  expect(stored.killSwitch).toMatchObject({
    reason: 'risk desk: flatten all',
    operator: 'risk-desk',
    pending: [],
    failed: [],
    alreadyFlat: ['flat-b'],
  });
  expect(stored.killSwitch!.finishedAt).not.toBeNull();
  await a.close();
  await b.close();
});

test('B dies holding a position mid kill switch: the run stays incomplete until A takes it over after the lease and flattens it', async () => {
  const url = await freshDatabase('shared_kill_dead');
  // Each instance on its own clock: B's stands still once it is dead.
  const clockA = createSimulatedClock(FRIDAY_11AM);
  const clockB = createSimulatedClock(FRIDAY_11AM);
  const storeB = new PostgresStore({ connectionString: url, instanceId: 'b', leaseMs: LEASE });
  const errorsB: unknown[] = [];
  const a = await instance(new PostgresStore({ connectionString: url, instanceId: 'a', leaseMs: LEASE }), clockA);
  const b = await instance(storeB, clockB, errorsB);
  await withPosition(a, 'lt-a');
  await withPosition(b, 'lt-b');
  broker(a, clockA, 'fill');
  broker(b, clockB, 'reject');

  const run = await a.startKillSwitch('exchange incident', 'ops');
  let finished = false;
  void run.done.then(() => (finished = true));
  await eventually(() => b.get('lt-b').state === 'EXITING', "B's exit");
  clockB.increment(100); // B's exit is rejected: it would retry after its backoff...
  await eventually(() => b.get('lt-b').state === 'PENDING_EXIT', "B's rejected exit");
  await storeB.abandon(); // ...but B dies first, holding the position

  await eventually(() => a.get('lt-a').state === 'EXITING', "A's exit"); // its broker arms the fill on entry
  clockA.increment(100); // A's own exit fills
  await eventually(() => quantity(a, 'lt-a') === 0, "A's fill");
  await a.flush();
  await new Promise((r) => setTimeout(r, 200));
  expect(finished).toBe(false); // lt-b still holds a position
  expect(a.has('lt-b')).toBe(false);

  // A's lease rounds: B's lease runs out, A claims lt-b and its part of the kill switch flattens it.
  for (let t = 0; t <= LEASE && !a.has('lt-b'); t += LEASE / 3) {
    clockA.increment(LEASE / 3);
    await eventually(async () => (await a.flush(), true), 'the round');
    await new Promise((r) => setTimeout(r, 100));
  }
  await eventually(() => a.has('lt-b') && a.get('lt-b').state === 'EXITING', 'A to take lt-b over and exit it');
  clockA.increment(100);
  const result = await run.done;
  expect({ ...result, flattened: [...result.flattened].sort() }).toEqual({
    reason: 'exchange incident',
    flattened: ['lt-a', 'lt-b'],
    alreadyFlat: [],
    failed: [],
  });
  expect(quantity(a, 'lt-a')).toBe(0);
  expect(quantity(a, 'lt-b')).toBe(0);

  const stored = await a.store.loadSystemState();
  // B's last step still lists lt-b as pending; A's lists it as flattened: the run as a whole is done.
  expect(stored.killSwitchParts.find((p) => p.instanceId === 'b')).toMatchObject({ pending: ['lt-b'], finishedAt: null });
  expect(stored.killSwitchParts.find((p) => p.instanceId === 'a')).toMatchObject({
    pending: [],
    flattened: expect.arrayContaining(['lt-a', 'lt-b']),
  });
  expect(stored.killSwitch).toMatchObject({ pending: [], failed: [] });
  expect(stored.killSwitch!.finishedAt).not.toBeNull();
  await a.close();
  await b.close();
});

test('an instance whose strategy was taken over lets go of it when its kill switch exit is refused: no retries, no ERROR; the new owner flattens it', async () => {
  const url = await freshDatabase('shared_kill_fenced');
  const clockA = createSimulatedClock(FRIDAY_11AM);
  const errorsA: unknown[] = [];
  const a = await instance(new PostgresStore({ connectionString: url, instanceId: 'a', leaseMs: LEASE }), clockA, errorsA);
  await withPosition(a, 'held');
  // A pauses past its lease; B starts later and takes 'held' over at its start.
  const clockB = createSimulatedClock(FRIDAY_11AM + 20_000);
  const b = await instance(new PostgresStore({ connectionString: url, instanceId: 'b', leaseMs: LEASE }), clockB);
  expect(b.ids()).toEqual(['held']);
  broker(b, clockB, 'fill');

  // A wakes and runs the kill switch over what it still believes it holds.
  const run = await a.startKillSwitch('flatten all', 'ops');
  await eventually(() => {
    try {
      a.get('held');
      return false;
    } catch (error) {
      return error instanceof OwnershipLostError;
    }
  }, 'A to let go of held');
  await eventually(() => b.get('held').state === 'EXITING', "B's exit");
  clockB.increment(100);
  const result = await run.done;
  expect(result).toEqual({ reason: 'flatten all', flattened: ['held'], alreadyFlat: [], failed: [] });
  expect(quantity(b, 'held')).toBe(0);
  // A wrote nothing to it: no ERROR, no retried exit; B's trail is the whole story.
  expect(
    b
      .get('held')
      .getAuditTrail()
      .filter((r) => r.trigger === 'SYSTEM_ERROR'),
  ).toEqual([]);
  expect(a.ids()).toEqual([]);
  await a.close();
  await b.close();
});
