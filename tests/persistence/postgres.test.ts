/** The multi-instance store on a real PostgreSQL cluster (started by bin/pg-test-cluster.sh). */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import pg from 'pg';
import { SchemaVersionError, StoreConflictError, StoreUnavailableError } from '../../machines/errors';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { verifyStore } from '../../services/runtime/replay';
import { SCHEMA_VERSION } from '../../services/store/migrations';
import { CHANGE_CHANNEL, changesOf, PostgresStore, type StoreChange } from '../../services/store/postgresStore';
import { FRIDAY_11AM, MINUTE } from '../support/fixtures';
import { WindowedStrategy } from '../../services/store/windowedStrategy';
import { freshDatabase } from './pg';
import { checkAgainstReference, referenceTrails, runAndKill } from './crashHarness';
import { toPosition } from '../support/persistedSteps';

const variants = [zeroDte, lt112, strangle];

test('write-ahead, restore and replay on PostgreSQL', async () => {
  const url = await freshDatabase('restore');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const a = await openStrategySystem({ store: new PostgresStore({ connectionString: url, instanceId: 'a' }), variants, clock });
  await a.add(lt112, { id: 'lt' });
  for (const e of toPosition) await a.send('lt', e);
  await a.send('lt', { type: 'SYSTEM_ERROR', reason: 'feed' });
  const trail = a.get('lt').getAuditTrail().slice();
  await a.close();

  clock.increment(10 * MINUTE);
  const b = await openStrategySystem({ store: new PostgresStore({ connectionString: url, instanceId: 'b' }), variants, clock });
  expect(b.get('lt').getAuditTrail()).toEqual(trail);
  expect(b.get('lt').state).toBe('ERROR');
  clock.increment(20 * MINUTE);
  await b.flush();
  expect(b.get('lt').state).toBe('MANAGING');
  await b.close();
  expect((await verifyStore(new PostgresStore({ connectionString: url }), variants)).differences).toEqual([]);
});

test("a windowed load hands each strategy's newest records over unparsed until read: the same records and fields as the whole load", async () => {
  const url = await freshDatabase('window');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const a = await openStrategySystem({ store: new PostgresStore({ connectionString: url, instanceId: 'a' }), variants, clock });
  await a.add(lt112, { id: 'lt' });
  await a.add(zeroDte, { id: 'quiet' });
  for (const e of toPosition) await a.send('lt', e);
  await a.close();
  const store = new PostgresStore({ connectionString: url, instanceId: 'reader' });
  await store.open();
  try {
    const whole = await store.loadAll({ claim: false });
    const windowed = await store.loadAll({ claim: false, window: 3 });
    const expected = whole.map((s) => ({ ...s, auditTrail: s.auditTrail.slice(-3) }));
    expect(expected.map((s) => s.auditTrail.length)).toEqual([3, 0]);
    // Plain stored strategies to every reader: a spread, a clone, deep equality, JSON.
    expect(windowed).toEqual(expected);
    expect(windowed.map((s) => ({ ...s }))).toEqual(expected);
    expect(structuredClone(windowed)).toEqual(expected);
    expect(JSON.parse(JSON.stringify(windowed))).toEqual(JSON.parse(JSON.stringify(expected)));
    // Each window is held as text (WindowedStrategy) and parsed once, on first read.
    expect(windowed.every((s) => s instanceof WindowedStrategy)).toBe(true);
    expect(windowed[0].auditTrail).toBe(windowed[0].auditTrail);
  } finally {
    await store.close();
  }
});

test('a database with a newer schema is refused, naming both versions, and nothing is written', async () => {
  const url = await freshDatabase('schema');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('CREATE TABLE schema_meta (id INT PRIMARY KEY, version INT NOT NULL); INSERT INTO schema_meta VALUES (1, 9)');
  const error = await new PostgresStore({ connectionString: url }).open().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SchemaVersionError);
  expect((error as Error).message).toMatch(new RegExp(`schema version 9.*supports up to ${SCHEMA_VERSION}\\.`));
  const tables = await client.query("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'strategies'");
  expect(tables.rows[0].n).toBe(0);
  await client.end();
});

describe('two instances', () => {
  test('failover: when an instance dies, another takes its strategies over after the lease expires', async () => {
    const url = await freshDatabase('failover');
    const clock = createSimulatedClock(FRIDAY_11AM);
    const storeA = new PostgresStore({ connectionString: url, instanceId: 'a', leaseMs: 15_000 });
    const deadInstanceErrors: unknown[] = [];
    const a = await openStrategySystem({ store: storeA, variants, clock, onStoreError: (e) => deadInstanceErrors.push(e) });
    await a.add(lt112, { id: 'lt' });
    await a.send('lt', { type: 'MARKET_OPEN' });
    const b = await openStrategySystem({
      store: new PostgresStore({ connectionString: url, instanceId: 'b', leaseMs: 15_000 }),
      variants,
      clock,
    });
    expect(b.ids()).toEqual([]); // a's lease is live

    // a dies without releasing anything; b's lease maintenance runs every 5 s of the clock.
    await storeA.abandon();
    clock.increment(10_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(b.ids()).toEqual([]);
    for (let i = 0; i < 4 && !b.has('lt'); i++) {
      clock.increment(5_000);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(b.ids()).toEqual(['lt']);
    expect(b.get('lt').state).toBe('READY');
    expect(await b.send('lt', { type: 'TIME_WINDOW_START' })).toMatchObject({ accepted: true, to: 'ANALYZING' });
    await b.close();
    await a.close();
    expect(deadInstanceErrors.length).toBeGreaterThan(0); // the dead instance could not renew
  });

  test("fencing: after a takeover the stale owner's write is refused, and only one transition is stored", async () => {
    const url = await freshDatabase('fencing');
    const clock = createSimulatedClock(FRIDAY_11AM);
    const a = await openStrategySystem({
      store: new PostgresStore({ connectionString: url, instanceId: 'a', leaseMs: 15_000 }),
      variants,
      clock: createSimulatedClock(FRIDAY_11AM),
    });
    await a.add(lt112, { id: 'lt' });
    await a.send('lt', { type: 'MARKET_OPEN' });
    // a is paused (its clock stands still, it renews nothing); b's clock runs past a's lease.
    clock.increment(20_000);
    const b = await openStrategySystem({
      store: new PostgresStore({ connectionString: url, instanceId: 'b', leaseMs: 15_000 }),
      variants,
      clock,
    });
    expect(b.ids()).toEqual(['lt']);
    // Both now try the same transition: only the owner's commits.
    await expect(a.send('lt', { type: 'TIME_WINDOW_START' })).rejects.toThrow(StoreConflictError);
    await expect(b.send('lt', { type: 'TIME_WINDOW_START' })).resolves.toMatchObject({ accepted: true });
    expect(a.has('lt')).toBe(false); // the fenced instance let go of it
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const rows = await client.query("SELECT seq, record->>'trigger' AS trigger FROM audit_records WHERE strategy_id = 'lt' ORDER BY seq");
    expect(rows.rows).toEqual([
      { seq: '1', trigger: 'MARKET_OPEN' },
      { seq: '2', trigger: 'TIME_WINDOW_START' },
    ]);
    await client.end();
    await a.close();
    await b.close();
  });

  test('changes are published with LISTEN/NOTIFY to watchers', async () => {
    const url = await freshDatabase('notify');
    const store = new PostgresStore({ connectionString: url, instanceId: 'a' });
    const system = await openStrategySystem({ store, variants, clock: createSimulatedClock(FRIDAY_11AM) });
    const changes: StoreChange[] = [];
    const watcher = new PostgresStore({ connectionString: url, instanceId: 'dashboard' });
    const stop = await watcher.watch((c) => changes.push(c));
    await system.add(strangle, { id: 'st' });
    await system.send('st', { type: 'MARKET_OPEN' });
    await system.send('st', { type: 'TIME_WINDOW_START' });
    for (let i = 0; i < 50 && changes.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(changes).toEqual([
      { strategyId: 'st', seq: 1, state: 'READY', instanceId: 'a' },
      { strategyId: 'st', seq: 2, state: 'ANALYZING', instanceId: 'a' },
    ]);
    await stop();
    await system.close();
  });

  test('a batch publishes its changes in a few NOTIFYs, not one per row; watchers still get each change', async () => {
    const url = await freshDatabase('notify_batch');
    const store = new PostgresStore({ connectionString: url, instanceId: 'a' });
    const system = await openStrategySystem({ store, variants, clock: createSimulatedClock(FRIDAY_11AM) });
    const ids = Array.from({ length: 300 }, (_, i) => `strategy-with-a-longish-id-${String(i).padStart(4, '0')}`);
    for (const id of ids) await system.add(lt112, { id });
    const changes: StoreChange[] = [];
    const watcher = new PostgresStore({ connectionString: url, instanceId: 'dashboard' });
    const stop = await watcher.watch((c) => changes.push(c));
    const listener = new pg.Client({ connectionString: url });
    listener.on('error', () => undefined); // a cluster torn down after a failure must not crash the run
    await listener.connect();
    const payloads: string[] = [];
    listener.on('notification', (m) => payloads.push(m.payload ?? ''));
    await listener.query(`LISTEN ${CHANGE_CHANNEL}`);
    try {
      await system.broadcast({ type: 'MARKET_OPEN' });
      // Notifications arrive asynchronously: wait for all of them (up to 15 s on a loaded CI machine).
      const arrived = () => changes.length >= ids.length && payloads.flatMap(changesOf).length >= ids.length;
      for (let i = 0; i < 750 && !arrived(); i++) await new Promise((r) => setTimeout(r, 20));
      expect(changes.map((c) => c.strategyId).sort()).toEqual([...ids].sort());
      expect(new Set(changes.map((c) => `${c.seq} ${c.state} ${c.instanceId}`))).toEqual(new Set(['1 READY a']));
      // Each payload lists many rows and stays under PostgreSQL's 8000-byte limit; changesOf reads them.
      expect(payloads.length).toBeLessThan(ids.length / 10);
      for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThan(8000);
      expect(payloads.flatMap(changesOf)).toEqual(changes);
    } finally {
      await listener.end();
      await stop();
      await system.close();
    }
  });
});

test('PostgreSQL stopped mid-run: StoreUnavailableError, nothing moves; started again: it carries on', async () => {
  const dir = process.env.PG_TEST_DIR;
  if (!dir) throw new Error('this test needs the cluster started by the test run (PG_TEST_DIR)');
  const url = await freshDatabase('outage');
  const system = await openStrategySystem({
    store: new PostgresStore({ connectionString: url, instanceId: 'a' }),
    variants,
    clock: createSimulatedClock(FRIDAY_11AM),
  });
  await system.add(lt112, { id: 'lt' });
  await system.send('lt', { type: 'MARKET_OPEN' });
  const script = resolve(__dirname, '../../bin/pg-test-cluster.sh');
  execFileSync(script, ['pause', dir]);
  try {
    const error = await system.send('lt', { type: 'TIME_WINDOW_START' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(system.get('lt').state).toBe('READY');
  } finally {
    execFileSync(script, ['resume', dir]);
  }
  expect(await system.send('lt', { type: 'TIME_WINDOW_START' })).toMatchObject({ accepted: true, from: 'READY', to: 'ANALYZING' });
  await system.close();
}, 60_000);

test('SIGKILL at 12 random points against PostgreSQL: the store equals a crash-free replay of what was committed', async () => {
  const url = await freshDatabase('crash');
  const TOTAL = 600;
  const reference = referenceTrails(TOTAL);
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  let kills = 0;
  for (let run = 0; run < 25 && kills < 12; run++) {
    const { acked, finished } = await runAndKill(
      ['stream', 'postgres', url, String(TOTAL)],
      5 + Math.floor(random() * 25),
      Math.floor(random() * 4),
    );
    if (!finished) kills++;
    await checkAgainstReference(new PostgresStore({ connectionString: url, instanceId: 'checker' }), acked, reference);
    if (finished) break;
  }
  expect(kills).toBeGreaterThanOrEqual(10);
}, 180_000);
