/**
 * A PostgreSQL lease round renews, claims and loads in steps that each commit on their own. When a
 * later step fails, what the earlier ones found must not be lost: a strategy claimed whose load then
 * failed is restored by a later round (before: its lease was renewed for ever by an instance that
 * never served it, and no other instance could take it over), and a strategy the renewal found lost
 * is let go of by a later round (before: the stale copy stayed in memory, in an old state).
 */
import pg from 'pg';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { PostgresStore } from '../../services/store/postgresStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { freshDatabase, sql } from './pg';

jest.setTimeout(60_000);
const LEASE = 3000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a round whose load fails after its claim committed: a later round restores the strategy', async () => {
  const url = await freshDatabase('lease_claim_load');
  const errors: unknown[] = [];
  const clockB = createSimulatedClock(FRIDAY_11AM);
  const b = await openStrategySystem({
    store: new PostgresStore({ connectionString: url, instanceId: 'b', leaseMs: LEASE }),
    variants: [lt112],
    clock: clockB,
    onStoreError: (e) => errors.push(e),
  });
  // c, on a clock far behind, creates 'x' and dies: its lease has long expired on b's clock.
  const cStore = new PostgresStore({ connectionString: url, instanceId: 'c', leaseMs: LEASE });
  const c = await openStrategySystem({ store: cStore, variants: [lt112], clock: createSimulatedClock(FRIDAY_11AM - 60_000) });
  await c.add(lt112, { id: 'x' });
  await c.send('x', { type: 'MARKET_OPEN' });
  await cStore.abandon();

  // Another session locks audit_records during b's next round: the claim commits, the load fails.
  const locker = new pg.Client({ connectionString: url });
  await locker.connect();
  await locker.query('BEGIN; LOCK TABLE audit_records IN ACCESS EXCLUSIVE MODE');
  clockB.increment(LEASE / 3);
  for (let i = 0; i < 100 && errors.length === 0; i++) await sleep(50);
  await locker.query('COMMIT');
  await locker.end();
  expect(String(errors[0])).toContain('55P03');
  expect(b.has('x')).toBe(false);

  // The fault is gone: the next rounds serve it.
  for (let i = 0; i < 3 && !b.has('x'); i++) {
    clockB.increment(LEASE / 3);
    for (let j = 0; j < 40 && !b.has('x'); j++) await sleep(25);
  }
  try {
    expect(b.has('x')).toBe(true);
    expect(b.get('x').state).toBe('READY');
    expect((await b.send('x', { type: 'TIME_WINDOW_START' })).accepted).toBe(true);
    expect(await sql(url, "SELECT owner, snapshot->>'value' AS value FROM strategies WHERE strategy_id = 'x'")).toEqual([
      { owner: 'b', value: 'ANALYZING' },
    ]);
  } finally {
    await b.close();
  }
});

test('a round whose claim fails after its renewal found a lease lost: a later round lets go of the stale copy', async () => {
  const url = await freshDatabase('lease_lost_claim');
  const errors: unknown[] = [];
  const clockA = createSimulatedClock(FRIDAY_11AM);
  const a = await openStrategySystem({
    store: new PostgresStore({ connectionString: url, instanceId: 'a', leaseMs: LEASE }),
    variants: [lt112],
    clock: clockA,
    onStoreError: (e) => errors.push(e),
  });
  await a.add(lt112, { id: 'x' });
  await a.send('x', { type: 'MARKET_OPEN' });
  // a pauses (its clock stands still); b, past a's lease, takes 'x' over at its open and moves it on.
  const b = await openStrategySystem({
    store: new PostgresStore({ connectionString: url, instanceId: 'b', leaseMs: LEASE }),
    variants: [lt112],
    clock: createSimulatedClock(FRIDAY_11AM + 20_000),
  });
  expect(b.has('x')).toBe(true);
  await b.send('x', { type: 'TIME_WINDOW_START' });
  // A free strategy for a's claim to take, and a one-time failure of that claim statement.
  const cStore = new PostgresStore({ connectionString: url, instanceId: 'c', leaseMs: LEASE });
  const c = await openStrategySystem({ store: cStore, variants: [lt112], clock: createSimulatedClock(FRIDAY_11AM - 60_000) });
  await c.add(lt112, { id: 'y' });
  await cStore.abandon();
  await sql(
    url,
    `CREATE FUNCTION fail_claim() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$;
     CREATE TRIGGER fail_claim BEFORE UPDATE ON strategies FOR EACH ROW WHEN (NEW.owner = 'a' AND NEW.fencing_token <> OLD.fencing_token) EXECUTE FUNCTION fail_claim();`,
  );
  clockA.increment(LEASE / 3); // a's round: the renewal finds 'x' lost, the claim of 'y' fails
  for (let i = 0; i < 100 && errors.length === 0; i++) await sleep(50);
  await sql(url, 'DROP TRIGGER fail_claim ON strategies');
  expect(String(errors[0])).toContain('injected failure');
  for (let i = 0; i < 3 && (a.has('x') || !a.has('y')); i++) {
    clockA.increment(LEASE / 3);
    for (let j = 0; j < 40 && (a.has('x') || !a.has('y')); j++) await sleep(25);
  }
  try {
    expect(a.has('x')).toBe(false);
    await expect(a.send('x', { type: 'TIME_WINDOW_END' })).rejects.toMatchObject({ name: 'OwnershipLostError' });
    expect(a.has('y')).toBe(true);
    expect(b.get('x').state).toBe('ANALYZING');
  } finally {
    await a.close();
    await b.close();
  }
});

test('a reload of the trading state that waits on a lock does not hold up the renewal: the instance keeps its leases', async () => {
  const url = await freshDatabase('lease_reload_stuck');
  const clockA = createSimulatedClock(FRIDAY_11AM);
  const a = await openStrategySystem({
    // A lock is waited for up to 20 s (real time), longer than a lease: a setting a user may choose
    // (the default, a fifth of the lease, bounds the wait); the rounds below take far less.
    store: new PostgresStore({ connectionString: url, instanceId: 'a', leaseMs: LEASE, lockTimeoutMs: 20_000, queryTimeoutMs: 30_000 }),
    variants: [lt112],
    clock: clockA,
  });
  await a.add(lt112, { id: 'x' });
  const lease = async () => Number((await sql(url, "SELECT lease_expires_at FROM strategies WHERE strategy_id = 'x'"))[0].lease_expires_at);
  // Another session holds the trading state's history locked: every reload waits behind it.
  const locker = new pg.Client({ connectionString: url });
  await locker.connect();
  await locker.query('BEGIN; LOCK TABLE trading_state_changes IN ACCESS EXCLUSIVE MODE');
  try {
    // Four rounds, more than a lease on a's clock: each renews 'x' although the first reload is still waiting.
    for (let round = 1; round <= 4; round++) {
      clockA.increment(LEASE / 3);
      const due = clockA.now() + LEASE;
      for (let i = 0; i < 80 && (await lease()) < due; i++) await sleep(25);
      expect(await lease()).toBe(due);
    }
    expect(a.has('x')).toBe(true);
  } finally {
    await locker.query('COMMIT');
    await locker.end();
    await a.close();
  }
});
