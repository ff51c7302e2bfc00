/**
 * Ownership across PostgreSQL instances, in one process: every instance on its own simulated
 * clock (a paused instance is one whose clock stands still), the real test cluster underneath.
 */
import pg from 'pg';
import { OwnershipLostError, StoreConflictError, StoreUnavailableError, StrategyNotFlatError } from '../../machines/errors';
import type { StrategyEvent } from '../../machines/events';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock, type SimulatedClockHandle } from '../../services/market/clock';
import { openStrategySystem, type LeaseChange, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { verifyStore } from '../../services/runtime/replay';
import { PostgresStore } from '../../services/store/postgresStore';
import { FRIDAY_11AM, VARIANTS } from '../support/fixtures';
import { freshDatabase, sql } from './pg';

const variants = [zeroDte, lt112, strangle];
const toPosition: StrategyEvent[] = [
  { type: 'MARKET_OPEN' },
  { type: 'TIME_WINDOW_START' },
  VARIANTS[1].entry,
  { type: 'ORDER_SUBMITTED' },
  { type: 'ORDER_FILLED', quantity: 2, expiry: '2026-12-18' },
];
const LEASE = 15_000;

/** Waits (bounded, real time) for work the lease timer started in the background. */
async function until(condition: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function instance(
  url: string,
  id: string,
  clock: SimulatedClockHandle,
  errors: unknown[] = [],
  chosen = variants,
  leaseChanges: LeaseChange[] = [],
): Promise<PersistentStrategySystem> {
  return openStrategySystem({
    store: new PostgresStore({ connectionString: url, instanceId: id, leaseMs: LEASE }),
    variants: chosen,
    clock,
    onStoreError: (e) => errors.push(e),
    onLeaseChange: (change) => leaseChanges.push(change),
  });
}

test("a stale instance's remove deletes nothing and answers an ownership error", async () => {
  const url = await freshDatabase('stale_remove');
  const a = await instance(url, 'a', createSimulatedClock(FRIDAY_11AM));
  await a.add(lt112, { id: 'lt' });
  await a.send('lt', { type: 'MARKET_OPEN' });
  // a is paused past its lease; b takes the strategy over and moves it on.
  const b = await instance(url, 'b', createSimulatedClock(FRIDAY_11AM + 20_000));
  expect(await b.send('lt', { type: 'TIME_WINDOW_START' })).toMatchObject({ accepted: true });

  const error = await a.remove('lt').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(OwnershipLostError);
  expect(error).toBeInstanceOf(StoreConflictError); // what the HTTP layer answers 409 OWNED_ELSEWHERE
  expect((error as Error).message).toMatch(/strategy "lt": instance a does not own it: remove refused: it is owned by b now/);
  expect(await sql(url, "SELECT count(*)::int AS n FROM audit_records WHERE strategy_id = 'lt'")).toEqual([{ n: 2 }]);
  // From then on a answers the ownership error for that id, not a 404.
  expect(() => a.get('lt')).toThrow(OwnershipLostError);
  await expect(a.send('lt', { type: 'TIME_WINDOW_END' })).rejects.toThrow(OwnershipLostError);
  await a.close();
  await b.close();
  expect((await verifyStore(new PostgresStore({ connectionString: url }), variants)).differences).toEqual([]);
});

test('a lease round: a fenced strategy holding a position is let go, and what the round claimed is restored or released', async () => {
  const url = await freshDatabase('fenced_round');
  const errors: unknown[] = [];
  const clockA = createSimulatedClock(FRIDAY_11AM);
  // a runs only zeroDte and lt112: a strangle it claims cannot be restored there.
  const changes: LeaseChange[] = [];
  const a = await instance(url, 'a', clockA, errors, [zeroDte, lt112], changes);
  await a.add(lt112, { id: 'held' });
  for (const e of toPosition) await a.send('held', e);
  await a.add(zeroDte, { id: 'flat' });
  // a pauses; b's clock is past a's lease, so b takes both over at its start.
  const b = await instance(url, 'b', createSimulatedClock(FRIDAY_11AM + 20_000));
  expect(b.ids().sort()).toEqual(['flat', 'held']);
  // c started long ago and died: its two strategies' leases expired before a's next round.
  const c = new PostgresStore({ connectionString: url, instanceId: 'c', leaseMs: LEASE });
  const cSystem = await openStrategySystem({ store: c, variants, clock: createSimulatedClock(FRIDAY_11AM - 20_000) });
  await cSystem.add(lt112, { id: 'orphan' });
  await cSystem.add(strangle, { id: 'unknown-here' });
  await c.abandon();

  // a wakes: one round loses 'held' (with a position) and 'flat', claims 'orphan' and 'unknown-here'.
  clockA.increment(LEASE / 3);
  await until(() => a.has('orphan'));
  await until(async () => (await sql(url, "SELECT owner FROM strategies WHERE strategy_id = 'unknown-here'"))[0].owner === null);
  expect(a.ids()).toEqual(['orphan']);
  expect(a.get('orphan').state).toBe('INITIALIZING');
  expect(() => a.get('held')).toThrow(OwnershipLostError);
  const refused = await a.send('held', { type: 'MARKET_OPEN' }).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(OwnershipLostError);
  expect((refused as Error).message).toMatch(/instance a does not own it: its lease was taken over by another instance/);
  expect(errors.some((e) => e instanceof StrategyNotFlatError)).toBe(false);
  expect(errors.map((e) => String(e))).toEqual([expect.stringMatching(/variant "strangle", which is not among the variants given/)]);
  // What the round did is told, for the operator's log: two lost, one claimed, and the one it could
  // not restore set aside (released, not claimed again by a until it changes).
  expect(changes.map((c) => [c.change, c.strategyId, c.state ?? null]).sort()).toEqual([
    ['claimed', 'orphan', 'INITIALIZING'],
    ['lost', 'flat', null],
    ['lost', 'held', null],
    ['setAside', 'unknown-here', null],
  ]);
  // The position lives on with b, which serves it.
  expect(b.get('held').getSnapshot().context.position?.quantity).toBe(2);
  expect(await b.send('held', { type: 'MARKET_OPEN' })).toMatchObject({ accepted: true, to: 'MANAGING' });
  await a.close();
  await b.close();
  await cSystem.close();
  expect((await verifyStore(new PostgresStore({ connectionString: url }), variants)).differences).toEqual([]);
});

describe('a row lock held by a paused instance', () => {
  /** A dead instance's strategy and a paused one's, both past their leases; the paused one's row locked. */
  async function scene(name: string) {
    const url = await freshDatabase(name);
    for (const [owner, id] of [
      ['dead', 'dead-1'],
      ['paused', 'paused-1'],
    ]) {
      const store = new PostgresStore({
        connectionString: url,
        instanceId: owner,
        leaseMs: LEASE,
        clock: createSimulatedClock(FRIDAY_11AM - 20_000),
      });
      const system = await openStrategySystem({ store, variants, clock: createSimulatedClock(FRIDAY_11AM - 20_000) });
      await system.add(lt112, { id });
      await store.abandon();
    }
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    await locker.query("BEGIN; SELECT * FROM strategies WHERE strategy_id = 'paused-1' FOR UPDATE");
    return { url, locker };
  }

  test("stalls neither the takeover of a dead instance's strategies nor the renewal of one's own", async () => {
    const { url, locker } = await scene('locked_claim');
    const clock = createSimulatedClock(FRIDAY_11AM);
    const errors: unknown[] = [];
    const started = Date.now();
    const live = await instance(url, 'live', clock, errors);
    expect(live.ids()).toEqual(['dead-1']); // the locked row is skipped, not waited for
    await live.add(lt112, { id: 'own' });
    clock.increment(LEASE / 3);
    await until(
      async () =>
        Number((await sql<{ at: string }>(url, "SELECT lease_expires_at AS at FROM strategies WHERE strategy_id = 'own'"))[0].at) ===
        FRIDAY_11AM + LEASE / 3 + LEASE,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    // Released, the locked strategy is taken over on the next round.
    await locker.query('ROLLBACK');
    await locker.end();
    clock.increment(LEASE / 3);
    await until(() => live.has('paused-1'));
    expect(errors).toEqual([]);
    await live.close();
  });

  test('a write waits for it at most the lock timeout, then fails as retryable and moves nothing', async () => {
    const url = await freshDatabase('locked_write');
    const clock = createSimulatedClock(FRIDAY_11AM);
    const system = await openStrategySystem({
      store: new PostgresStore({ connectionString: url, instanceId: 'a', leaseMs: LEASE, lockTimeoutMs: 300 }),
      variants,
      clock,
    });
    await system.add(lt112, { id: 'lt' });
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    await locker.query("BEGIN; SELECT * FROM strategies WHERE strategy_id = 'lt' FOR UPDATE");
    const started = Date.now();
    const error = await system.send('lt', { type: 'MARKET_OPEN' }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(/a lock was held elsewhere for more than 300 ms \(55P03\)/);
    expect(system.get('lt').state).toBe('INITIALIZING');
    await locker.query('ROLLBACK');
    await locker.end();
    expect(await system.send('lt', { type: 'MARKET_OPEN' })).toMatchObject({ accepted: true, to: 'READY' });
    await system.close();
  });
});

test('verifyStore beside a live instance: a transition committed after it read a snapshot is not replayed into it (no false difference)', async () => {
  // Before, verifyStore read each snapshot, then the trail with no upper bound: a record the owner
  // committed in between was replayed past the snapshot, and a sound store was reported as differing.
  const url = await freshDatabase('verify_live');
  const live = await openStrategySystem({
    store: new PostgresStore({ connectionString: url, instanceId: 'live' }),
    variants,
    clock: createSimulatedClock(FRIDAY_11AM),
  });
  await live.add(lt112, { id: 'v' });
  expect((await live.send('v', { type: 'MARKET_OPEN' })).accepted).toBe(true);
  /** The verifier's store, whose owner commits one more transition right after the snapshots were read. */
  class WrittenBetween extends PostgresStore {
    private written = false;
    override async loadAll(options?: Parameters<PostgresStore['loadAll']>[0]) {
      const stored = await super.loadAll(options);
      if (!this.written) {
        this.written = true;
        expect((await live.send('v', { type: 'TIME_WINDOW_START' })).accepted).toBe(true);
      }
      return stored;
    }
  }
  try {
    const report = await verifyStore(new WrittenBetween({ connectionString: url }), variants);
    expect(report.differences).toEqual([]);
    expect(report).toMatchObject({ strategies: 1, records: 1 });
  } finally {
    await live.close();
  }
  // Read again, the newer snapshot and its trail agree too.
  expect((await verifyStore(new PostgresStore({ connectionString: url }), variants)).records).toBe(2);
});
