/** Write-ahead persistence on SQLite: commit before move, restore, durable deadlines, failures. */
import Database from 'better-sqlite3';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SchemaVersionError, StoreUnavailableError, UnknownStrategyError } from '../../machines/errors';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { getStatistics } from '../../services/runtime/statistics';
import { SCHEMA_VERSION } from '../../services/store/migrations';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM, MINUTE } from '../support/fixtures';
import { setImmutable, tempDir } from './helpers';
import { toPosition } from '../support/persistedSteps';

const variants = [zeroDte, lt112, strangle];

let dir: string;
let cleanup: () => void;
let file: string;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  file = join(dir, 'strategies.db');
});
afterEach(() => {
  setImmutable([file, `${file}-wal`, `${file}-shm`], false);
  cleanup();
});

async function open(at: number) {
  const clock = createSimulatedClock(at);
  const system = await openStrategySystem({ store: new SqliteStore(file), variants, clock });
  return { clock, system };
}

test('an acknowledged transition is in the database: record and snapshot, in one transaction', async () => {
  const { system } = await open(FRIDAY_11AM);
  await system.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
  const result = await system.send('lt', { type: 'MARKET_OPEN', eventId: 'open-1' });
  expect(result).toMatchObject({ accepted: true, to: 'READY' });

  const raw = new Database(file, { readonly: true });
  const row = raw.prepare('SELECT seq, state, snapshot FROM strategies WHERE strategy_id = ?').get('lt') as {
    seq: number;
    state: string;
    snapshot: string;
  };
  expect(row).toMatchObject({ seq: 1, state: 'READY' });
  expect(JSON.parse(row.snapshot).value).toBe('READY');
  const records = raw.prepare('SELECT record FROM audit_records WHERE strategy_id = ?').all('lt') as Array<{ record: string }>;
  expect(records.map((r) => JSON.parse(r.record))).toEqual([result.record]);
  raw.close();
  await system.close();
});

test('a direct trigger on a persisted strategy is refused: events go through the store', async () => {
  const { system } = await open(FRIDAY_11AM);
  const strategy = await system.add(lt112, { id: 'lt' });
  expect(strategy.trigger({ type: 'MARKET_OPEN' })).toMatchObject({ accepted: false, code: 'STORE_REQUIRED' });
  expect(strategy.state).toBe('INITIALIZING');
  await system.close();
});

test('reopening brings back every strategy: state, position, audit trail and statistics', async () => {
  const first = await open(FRIDAY_11AM);
  await first.system.add(lt112, { id: 'holder', params: { underlying: 'SPX' } });
  await first.system.add(strangle, { id: 'flat', params: { underlying: 'AAPL' } });
  for (const e of toPosition) await first.system.send('holder', e);
  await first.system.send('flat', { type: 'MARKET_OPEN' });
  await first.system.send('flat', { type: 'ORDER_FILLED', quantity: 1 }); // rejected, audited
  first.clock.increment(7 * MINUTE);
  const before = ['holder', 'flat'].map((id) => ({
    trail: first.system.get(id).getAuditTrail().slice(),
    stats: getStatistics(first.system.get(id)),
    context: first.system.get(id).getSnapshot().context,
  }));
  await first.system.close();

  const second = await open(first.clock.now());
  expect(second.system.ids().sort()).toEqual(['flat', 'holder']);
  ['holder', 'flat'].forEach((id, i) => {
    const s = second.system.get(id);
    expect(s.getAuditTrail()).toEqual(before[i].trail);
    expect(getStatistics(s)).toEqual(before[i].stats);
    expect(s.getSnapshot().context).toEqual(before[i].context);
  });
  expect(second.system.get('holder').state).toBe('MANAGING');
  // And it carries on from there.
  expect(await second.system.send('holder', { type: 'MARGIN_CALL' })).toMatchObject({
    accepted: true,
    from: 'MANAGING',
    to: 'PENDING_EXIT',
  });
  await second.system.close();
});

test('ERROR persisted at minute 10 recovers after a restart at the original deadline, and the recovery is written', async () => {
  const first = await open(FRIDAY_11AM);
  await first.system.add(lt112, { id: 'lt' });
  await first.system.send('lt', { type: 'MARKET_OPEN' });
  await first.system.send('lt', { type: 'SYSTEM_ERROR', reason: 'feed down' });
  first.clock.increment(10 * MINUTE);
  await first.system.close();

  const second = await open(FRIDAY_11AM + 10 * MINUTE);
  expect(second.system.get('lt').state).toBe('ERROR');
  second.clock.increment(20 * MINUTE - 1);
  await second.system.flush();
  expect(second.system.get('lt').state).toBe('ERROR');
  second.clock.increment(1);
  await second.system.flush();
  expect(second.system.get('lt').state).toBe('READY');
  await second.system.close();

  const third = await open(FRIDAY_11AM + 31 * MINUTE);
  expect(third.system.get('lt').state).toBe('READY');
  expect(third.system.get('lt').getAuditTrail().at(-1)).toMatchObject({ trigger: 'lifecycle.deadline', at: FRIDAY_11AM + 30 * MINUTE });
  await third.system.close();
});

test('deadlines that passed while down fire at once on restore, in deadline order, and are written', async () => {
  const first = await open(FRIDAY_11AM);
  await first.system.add(lt112, { id: 'b-later' });
  await first.system.add(lt112, { id: 'a-sooner' });
  await first.system.send('a-sooner', { type: 'MARKET_OPEN' });
  await first.system.send('a-sooner', { type: 'SYSTEM_ERROR' });
  first.clock.increment(MINUTE);
  await first.system.send('b-later', { type: 'MARKET_OPEN' });
  await first.system.send('b-later', { type: 'SYSTEM_ERROR' });
  await first.system.close();

  const order: string[] = [];
  const clock = createSimulatedClock(FRIDAY_11AM + 3 * 60 * MINUTE);
  const second = await openStrategySystem({ store: new SqliteStore(file), variants, clock });
  second.subscribe(({ strategyId, record }) => order.push(`${strategyId}:${record.currentState}`));
  await second.flush();
  expect(order).toEqual(['a-sooner:READY', 'b-later:READY']);
  await second.close();
  const raw = new Database(file, { readonly: true });
  expect(raw.prepare("SELECT count(*) AS n FROM strategies WHERE state = 'READY'").get()).toEqual({ n: 2 });
  raw.close();
});

test('a read-only database file: StoreUnavailableError, the strategy does not move, and it works again afterwards', async () => {
  const { system } = await open(FRIDAY_11AM);
  await system.add(lt112, { id: 'lt' });
  await system.send('lt', { type: 'MARKET_OPEN' });
  const files = [file, `${file}-wal`];
  setImmutable(files, true);
  await expect(system.send('lt', { type: 'TIME_WINDOW_START' })).rejects.toThrow(StoreUnavailableError);
  await expect(system.send('lt', { type: 'TIME_WINDOW_START' })).rejects.toThrow(/SQLITE_IOERR/);
  expect(system.get('lt').state).toBe('READY');
  expect(system.get('lt').getAuditTrail()).toHaveLength(1);
  setImmutable(files, false);
  expect(await system.send('lt', { type: 'TIME_WINDOW_START' })).toMatchObject({ accepted: true, to: 'ANALYZING' });
  await system.close();
  const reopened = await open(FRIDAY_11AM);
  expect(
    reopened.system
      .get('lt')
      .getAuditTrail()
      .map((r) => r.seq),
  ).toEqual([1, 2]);
  await reopened.system.close();
});

/** Strategy lt in ERROR (recovery due 30 minutes later) on `file`, which is then made read-only: the store is down. */
async function errorWithStoreDown() {
  const errors: unknown[] = [];
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = await openStrategySystem({ store: new SqliteStore(file), variants, clock, onStoreError: (e) => errors.push(e) });
  await system.add(lt112, { id: 'lt' });
  await system.send('lt', { type: 'MARKET_OPEN' });
  await system.send('lt', { type: 'SYSTEM_ERROR' });
  setImmutable([file, `${file}-wal`], true);
  return { errors, clock, system };
}

test('a deadline that falls due while the store is down is written once the store is back', async () => {
  const { errors, clock, system } = await errorWithStoreDown();
  clock.increment(30 * MINUTE);
  await system.flush();
  expect(system.get('lt').state).toBe('ERROR');
  expect(errors[0]).toBeInstanceOf(StoreUnavailableError);
  setImmutable([file, `${file}-wal`], false);
  clock.increment(1000); // the retry
  await system.flush();
  expect(system.get('lt').state).toBe('READY');
  await system.close();
  const reopened = await open(clock.now());
  expect(reopened.system.get('lt').state).toBe('READY');
  await reopened.system.close();
});

test('close() cancels the retry of a deadline whose write failed: no timer is left to fire after it', async () => {
  const { errors, clock, system } = await errorWithStoreDown();
  clock.increment(30 * MINUTE); // the recovery falls due while the store is down: its retry is armed
  await system.flush();
  expect(errors).toHaveLength(1);
  expect(clock.nextDue()).toBe(FRIDAY_11AM + 30 * MINUTE + 1000);
  setImmutable([file, `${file}-wal`], false);
  await system.close();
  // Before, the retry stayed armed on the strategy's clock and fired after close().
  expect(clock.nextDue()).toBeNull();
  const reopened = await open(clock.now());
  expect(reopened.system.get('lt').state).toBe('ERROR'); // still due: the next open fires it
  await reopened.system.flush();
  expect(reopened.system.get('lt').state).toBe('READY');
  await reopened.system.close();
  expect(errors).toHaveLength(1);
});

test('a deadline retried after the store came back is stamped when it happens: the trail’s time never runs backwards', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = await openStrategySystem({
    store: new SqliteStore(file),
    variants,
    clock,
    retryMs: 60_000,
    onStoreError: () => undefined,
  });
  await system.add(lt112, { id: 'lt' });
  await system.send('lt', { type: 'MARKET_OPEN' });
  await system.send('lt', { type: 'SYSTEM_ERROR' });
  setImmutable([file, `${file}-wal`], true);
  clock.increment(30 * MINUTE); // the recovery falls due while the store is down
  await system.flush();
  setImmutable([file, `${file}-wal`], false);
  clock.increment(30_000);
  await system.send('lt', { type: 'TIME_WINDOW_START' }); // refused in ERROR (no edge), recorded at +30 min 30 s
  clock.increment(30_000); // the retry, one minute after the deadline
  await system.flush();
  const trail = system.get('lt').getAuditTrail();
  expect(trail.at(-1)).toMatchObject({ trigger: 'lifecycle.deadline', currentState: 'READY', at: FRIDAY_11AM + 31 * MINUTE });
  for (let i = 1; i < trail.length; i++) expect(trail[i].at).toBeGreaterThanOrEqual(trail[i - 1].at);
  await system.close();
});

test('send to an unknown strategy rejects its promise (UnknownStrategyError) instead of throwing at the caller', async () => {
  const { system } = await open(FRIDAY_11AM);
  let sent: Promise<unknown> | undefined;
  expect(() => {
    sent = system.send('nope', { type: 'MARKET_OPEN' });
  }).not.toThrow();
  await expect(sent).rejects.toBeInstanceOf(UnknownStrategyError);
  await system.close();
});

test('a database written by a newer version is refused, naming both versions, and nothing is written', async () => {
  const raw = new Database(file);
  raw.pragma('user_version = 7');
  raw.close();
  const bytes = readFileSync(file);
  const mtime = statSync(file).mtimeMs;
  const error = await new SqliteStore(file).open().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SchemaVersionError);
  expect((error as Error).message).toContain('schema version 7');
  expect((error as Error).message).toContain(`supports up to ${SCHEMA_VERSION}`);
  expect(readFileSync(file).equals(bytes)).toBe(true);
  expect(statSync(file).mtimeMs).toBe(mtime);
});

test("the newest kill switch run is read through the steps' index, not by reading every step's JSON", async () => {
  const { dir: where, cleanup: done } = tempDir('sl-ks-index-');
  try {
    const file = join(where, 'k.db');
    const store = new SqliteStore(file);
    await openStrategySystem({ store, variants: [lt112], clock: createSimulatedClock(FRIDAY_11AM) }).then((s) => s.close());
    const db = new Database(file, { readonly: true });
    const plan = (
      db
        .prepare(
          `EXPLAIN QUERY PLAN SELECT progress FROM kill_switch_steps
            WHERE (COALESCE(json_extract(progress, '$.tradingStateChanges'), -1), started_at) = (
              SELECT COALESCE(json_extract(progress, '$.tradingStateChanges'), -1) AS changes, started_at FROM kill_switch_steps
               ORDER BY changes DESC, started_at DESC LIMIT 1)
            ORDER BY seq`,
        )
        .all() as Array<{ detail: string }>
    ).map((r) => r.detail);
    db.close();
    // Both lookups use it: before, a full scan (about 370 ms at 20,000 steps, on every open and lease round).
    expect(plan.filter((d) => d.includes('kill_switch_steps_run'))).toHaveLength(2);
    const source = readFileSync(join(__dirname, '../../services/store/sqliteSystemState.ts'), 'utf8');
    expect(source).toContain("COALESCE(json_extract(progress, '$.tradingStateChanges'), -1) AS changes, started_at FROM kill_switch_steps");
  } finally {
    done();
  }
});
