/**
 * Group commit on SQLite: appends that are ready together share one transaction (one fsync), each
 * acknowledged after that commit; a write refused alone fails alone; a failing batch fails every
 * write and commits none; a large broadcast lets timers run between its batches.
 */
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoreConflictError, StoreUnavailableError, TradingStateRefusal } from '../../machines/errors';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import type { BatchReport } from '../../services/store/groupCommit';
import { SqliteStore, type SqliteStoreOptions } from '../../services/store/sqliteStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { setImmutable, tempDir } from './helpers';
import { newStrategy, writeAfter } from './writes';

const variants = [zeroDte, lt112, strangle];
let dir: string;
let cleanup: () => void;
let file: string;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('sl-group-'));
  file = join(dir, 'g.db');
});
afterEach(() => {
  setImmutable([file, `${file}-wal`, `${file}-shm`], false);
  cleanup();
});

/** Commits in the WAL file now (frames whose header holds a database size, of the current salt). */
function walCommits(path: string): number {
  const wal = readFileSync(`${path}-wal`);
  if (wal.length < 32) return 0;
  const pageSize = wal.readUInt32BE(8);
  const salt = wal.subarray(16, 24);
  let commits = 0;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    if (!wal.subarray(at + 8, at + 16).equals(salt)) break;
    if (wal.readUInt32BE(at + 4) !== 0) commits++;
  }
  return commits;
}

async function openSystem(count: number, options: SqliteStoreOptions = {}) {
  const batches: BatchReport[] = [];
  const store = new SqliteStore(file, { checkEveryMs: 0, ...options, onBatch: (b) => batches.push(b) });
  const system = await openStrategySystem({ store, variants, clock: createSimulatedClock(FRIDAY_11AM) });
  for (let i = 0; i < count; i++) await system.add(lt112, { id: `s${i}` });
  return { system, store, batches };
}

test('concurrent sends to 50 strategies are committed in one transaction, each acknowledged after it', async () => {
  const { system, batches } = await openSystem(50);
  const before = walCommits(file);
  const acknowledged: string[] = [];
  const results = await Promise.all(
    system.ids().map((id) => system.send(id, { type: 'MARKET_OPEN' }).then((r) => (acknowledged.push(id), r))),
  );
  expect(results.every((r) => r.accepted && r.to === 'READY')).toBe(true);
  expect(batches).toEqual([{ writes: 50, committed: 50 }]);
  // One commit frame in the WAL for the 50 transitions: one transaction, one fsync.
  expect(walCommits(file) - before).toBe(1);
  expect(acknowledged).toHaveLength(50);
  await system.close();
  const raw = new Database(file, { readonly: true });
  expect(raw.prepare("SELECT count(*) AS n FROM strategies WHERE state = 'READY' AND seq = 1").get()).toEqual({ n: 50 });
  raw.close();
});

test('a batch holds at most maxBatch writes; the rest follow in the next batches', async () => {
  const { system, batches } = await openSystem(25, { groupCommit: { maxBatch: 10 } });
  await system.broadcast({ type: 'MARKET_OPEN' });
  expect(batches.map((b) => b.writes)).toEqual([10, 10, 5]);
  await system.close();
});

test('a write refused alone (seq conflict, trading state) fails alone: its neighbours in the batch commit', async () => {
  const batches: BatchReport[] = [];
  const store = new SqliteStore(file, { checkEveryMs: 0, onBatch: (b) => batches.push(b) });
  await store.open();
  for (const id of ['a', 'b', 'c', 'd']) await store.create(newStrategy(id));
  await store.saveTradingState({ to: 'HALTED', reason: 'drill', operator: 'test', at: FRIDAY_11AM });
  const outcomes = await Promise.allSettled([
    store.append(writeAfter('a', 0)),
    store.append(writeAfter('b', 3)), // the store holds b at seq 0
    store.append(writeAfter('c', 0, { effect: 'entry' })), // an order while HALTED
    store.append(writeAfter('d', 0)),
  ]);
  expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
  expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(StoreConflictError);
  expect((outcomes[2] as PromiseRejectedResult).reason).toBeInstanceOf(TradingStateRefusal);
  expect(batches).toEqual([{ writes: 4, committed: 2 }]);
  const stored = await store.loadAll();
  expect(stored.map((s) => [s.strategyId, s.seq, s.auditTrail.length])).toEqual([
    ['a', 1, 1],
    ['b', 0, 0],
    ['c', 0, 0],
    ['d', 1, 1],
  ]);
  await store.close();
});

test('a write that cannot be serialised fails alone with StoreUnavailableError, before it joins a batch; the others commit', async () => {
  const batches: BatchReport[] = [];
  const store = new SqliteStore(file, { checkEveryMs: 0, onBatch: (b) => batches.push(b) });
  await store.open();
  for (const id of ['a', 'b', 'c']) await store.create(newStrategy(id));
  // Serialised when appended (while the transition's objects are fresh), not inside the batch.
  const unserialisable = writeAfter('b', 0, {
    snapshot: { status: 'active', output: undefined, error: undefined, ...{ context: { big: 1n } } },
  });
  const outcomes = await Promise.allSettled([
    store.append(writeAfter('a', 0)),
    store.append(unserialisable),
    store.append(writeAfter('c', 0)),
  ]);
  expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
  expect(batches).toEqual([{ writes: 2, committed: 2 }]);
  const stored = await store.loadAll();
  expect(stored.map((s) => [s.strategyId, s.seq])).toEqual([
    ['a', 1],
    ['b', 0],
    ['c', 1],
  ]);
  await store.close();
});

test('a write that breaks a constraint after changing rows fails alone: the batch is written again with a savepoint per write', async () => {
  const batches: BatchReport[] = [];
  const store = new SqliteStore(file, { checkEveryMs: 0, onBatch: (b) => batches.push(b) });
  await store.open();
  for (const id of ['f', 'g']) await store.create(newStrategy(id));
  // A record the strategy row does not know of: f's UPDATE passes, its INSERT of seq 1 breaks the key.
  const raw = new Database(file);
  raw.prepare("INSERT INTO audit_records (strategy_id, seq, at, record) VALUES ('f', 1, 0, '{}')").run();
  raw.close();
  const outcomes = await Promise.allSettled([store.append(writeAfter('f', 0)), store.append(writeAfter('g', 0))]);
  expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled']);
  expect((outcomes[0] as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
  expect(batches).toEqual([{ writes: 2, committed: 1 }]);
  const stored = await store.loadAll();
  expect(stored.map((s) => [s.strategyId, s.seq])).toEqual([
    ['f', 0],
    ['g', 1],
  ]);
  await store.close();
});

test('two writes of one strategy in one batch are committed in the order they were made', async () => {
  const store = new SqliteStore(file, { checkEveryMs: 0 });
  await store.open();
  await store.create(newStrategy('x'));
  await store.create(newStrategy('y'));
  // x: 0 -> 1 then 1 -> 2, both queued before the batch commits: the second sees the first.
  const inOrder = await Promise.allSettled([store.append(writeAfter('x', 0)), store.append(writeAfter('x', 1))]);
  expect(inOrder.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
  // y: made out of order, the later write comes first and finds the store at seq 0.
  const reversed = await Promise.allSettled([store.append(writeAfter('y', 1)), store.append(writeAfter('y', 0))]);
  expect(reversed.map((o) => o.status)).toEqual(['rejected', 'fulfilled']);
  const stored = await store.loadAll();
  expect(stored.map((s) => [s.strategyId, s.auditTrail.map((r) => r.seq)])).toEqual([
    ['x', [1, 2]],
    ['y', [1]],
  ]);
  await store.close();
});

test('a failing batch (read-only file) fails every write in it, commits none, and the strategies stay where they were', async () => {
  const { system, batches } = await openSystem(20);
  setImmutable([file, `${file}-wal`], true);
  const results = await system.broadcast({ type: 'MARKET_OPEN' });
  expect(batches).toHaveLength(1);
  expect(batches[0]).toMatchObject({ writes: 20, committed: 0 });
  for (const id of system.ids()) {
    expect(results[id]).toBeInstanceOf(StoreUnavailableError);
    expect(system.get(id).state).toBe('INITIALIZING');
  }
  setImmutable([file, `${file}-wal`], false);
  const again = await system.broadcast({ type: 'MARKET_OPEN' });
  expect(Object.values(again).every((r) => !(r instanceof Error) && r.to === 'READY')).toBe(true);
  await system.close();
  const raw = new Database(file, { readonly: true });
  expect(raw.prepare('SELECT count(*) AS n FROM audit_records').get()).toEqual({ n: 20 });
  raw.close();
});

test('timers run between the parts of a large broadcast and between its commits', async () => {
  // A batch bound the broadcast never reaches: only the broadcast's parts in flight split it.
  const { system, batches } = await openSystem(1200, { synchronous: 'NORMAL', groupCommit: { maxBatch: 100_000 } });
  let done = false;
  // Batches committed when each timer fired: a timer firing in the middle proves the loop turned.
  const seenAt: number[] = [];
  const tick = () => {
    if (done) return;
    seenAt.push(batches.length);
    setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  const results = await system.broadcast({ type: 'MARKET_OPEN' });
  done = true;
  expect(Object.keys(results)).toHaveLength(1200);
  // Parts of 64 arrive one per turn: a batch takes the first part's turn and maxWaitTurns (4) more,
  // 6 parts (384), and never more than the BROADCAST_PARTS_IN_FLIGHT (8) parts unanswered (512).
  expect(batches.map((b) => b.writes)).toEqual([384, 384, 320, 112]);
  expect(batches.every((b) => b.writes <= 8 * 64)).toBe(true);
  // 19 parts with a turn between each: the timer ran during the broadcast, also between the commits.
  expect(seenAt.length).toBeGreaterThanOrEqual(4);
  expect(seenAt.some((n) => n > 0 && n < batches.length)).toBe(true);
  await system.close();
}, 60_000);

test('a broadcast gathers its parts into batches of maxBatch, answered in the order of the strategies', async () => {
  const { system, batches } = await openSystem(600, { synchronous: 'NORMAL' });
  const results = await system.broadcast({ type: 'MARKET_OPEN' });
  // Parts of 64 go one per turn; the group commit waits for them up to its maxBatch (128).
  expect(batches).toEqual([
    { writes: 128, committed: 128 },
    { writes: 128, committed: 128 },
    { writes: 128, committed: 128 },
    { writes: 128, committed: 128 },
    { writes: 88, committed: 88 },
  ]);
  expect(Object.keys(results)).toEqual(system.ids());
  expect(Object.values(results).every((r) => !(r instanceof Error) && r.accepted && r.to === 'READY')).toBe(true);
  await system.close();
}, 60_000);

test('an onBatch callback that throws (a metrics exporter down) neither ends the process nor stalls later writes', async () => {
  const errors: unknown[][] = [];
  const spy = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args));
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    let calls = 0;
    const store = new SqliteStore(file, {
      checkEveryMs: 0,
      groupCommit: { maxBatch: 4 },
      onBatch: () => {
        calls++;
        throw new Error('metrics exporter down');
      },
    });
    const system = await openStrategySystem({ store, variants, clock: createSimulatedClock(FRIDAY_11AM) });
    for (let i = 0; i < 10; i++) await system.add(lt112, { id: `s${i}` });
    // Three batches (4 + 4 + 2): the writes queued while the first one commits are still scheduled.
    const results = await system.broadcast({ type: 'MARKET_OPEN' });
    expect(Object.values(results).map((r) => (r instanceof Error ? r.message : r.to))).toEqual(Array(10).fill('READY'));
    await new Promise((r) => setImmediate(r));
    expect(unhandled).toEqual([]);
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(String(errors[0][0])).toContain('onBatch callback threw');
    await system.close();
  } finally {
    process.off('unhandledRejection', onUnhandled);
    spy.mockRestore();
  }
});
