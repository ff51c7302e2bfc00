/**
 * Group commit on PostgreSQL (the real test cluster): concurrent appends share one transaction
 * (their rows carry one xmin), and a write refused alone (seq, fencing token, trading state,
 * portfolio limit, a duplicate audit record) fails alone while its neighbours commit.
 */
import pg from 'pg';
import { OwnershipLostError, PortfolioLimitRefusal, StoreUnavailableError } from '../../machines/errors';
import type { StrategyEvent } from '../../machines/events';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import type { BatchReport } from '../../services/store/groupCommit';
import { commitPostgresBatch, type PgBatchContext } from '../../services/store/postgresBatch';
import { CHANGE_CHANNEL, PostgresStore } from '../../services/store/postgresStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { freshDatabase, sql } from './pg';
import { newStrategy, writeAfter } from './writes';

const variants = [zeroDte, lt112, strangle];

/** How many transactions wrote the rows of `table` for these strategies (distinct xmin). */
async function writers(url: string, table: 'strategies' | 'audit_records', ids: string[]): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(DISTINCT xmin::text)::int AS n FROM ${table} WHERE strategy_id = ANY($1)`,
      [ids],
    );
    return rows[0].n;
  } finally {
    await client.end();
  }
}

/** One batch at a time: these tests look at what one batch holds. */
const ONE_AT_A_TIME = { concurrency: 1 };

const statuses = (outcomes: PromiseSettledResult<unknown>[]) =>
  outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : (o.reason as Error).constructor.name));

test('concurrent sends to 30 strategies are committed in one transaction', async () => {
  const url = await freshDatabase('group');
  const batches: BatchReport[] = [];
  const store = new PostgresStore({ connectionString: url, instanceId: 'a', groupCommit: ONE_AT_A_TIME, onBatch: (b) => batches.push(b) });
  const system = await openStrategySystem({ store, variants, clock: createSimulatedClock(FRIDAY_11AM) });
  for (let i = 0; i < 30; i++) await system.add(lt112, { id: `s${i}` });
  const results = await Promise.all(system.ids().map((id) => system.send(id, { type: 'MARKET_OPEN' })));
  expect(results.every((r) => r.to === 'READY')).toBe(true);
  expect(batches).toEqual([{ writes: 30, committed: 30 }]);
  expect(await writers(url, 'strategies', system.ids())).toBe(1);
  expect(await writers(url, 'audit_records', system.ids())).toBe(1);
  await system.close();
});

test('by default two batches commit side by side: 30 concurrent sends are two transactions of 15, a strategy never in both', async () => {
  const url = await freshDatabase('side_by_side');
  const batches: BatchReport[] = [];
  const store = new PostgresStore({ connectionString: url, instanceId: 'a', onBatch: (b) => batches.push(b) });
  const system = await openStrategySystem({ store, variants, clock: createSimulatedClock(FRIDAY_11AM) });
  for (let i = 0; i < 30; i++) await system.add(lt112, { id: `s${i}` });
  const results = await Promise.all(system.ids().map((id) => system.send(id, { type: 'MARKET_OPEN' })));
  expect(results.every((r) => r.to === 'READY')).toBe(true);
  expect(batches).toEqual([
    { writes: 15, committed: 15 },
    { writes: 15, committed: 15 },
  ]);
  expect(await writers(url, 'audit_records', system.ids())).toBe(2);
  // Each strategy's writes, sent one after another by 30 senders at once, are stored in order.
  const flips: StrategyEvent[] = [
    { type: 'TIME_WINDOW_START', window: 'entry' },
    { type: 'TIME_WINDOW_END', window: 'entry' },
  ];
  await Promise.all(
    system.ids().map(async (id) => {
      for (let i = 0; i < 6; i++) expect((await system.send(id, flips[i % 2])).accepted).toBe(true);
    }),
  );
  await system.close();
  // In the order they were inserted (feed_id), each strategy's records run 1..7.
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ seqs: string }>(
    "SELECT string_agg(seq::text, ',' ORDER BY feed_id) AS seqs FROM audit_records GROUP BY strategy_id",
  );
  await client.end();
  expect(rows.map((r) => r.seqs)).toEqual(system.ids().map(() => '1,2,3,4,5,6,7'));
});

test('refused alone: a seq conflict, a stale fencing token and a halted entry fail; their neighbours commit together', async () => {
  const url = await freshDatabase('group_refusals');
  const batches: BatchReport[] = [];
  const store = new PostgresStore({ connectionString: url, instanceId: 'a', groupCommit: ONE_AT_A_TIME, onBatch: (b) => batches.push(b) });
  await store.open();
  for (const id of ['a', 'b', 'c', 'd', 'e']) await store.create(newStrategy(id));
  await store.saveTradingState({ to: 'HALTED', reason: 'drill', operator: 'test', at: FRIDAY_11AM });
  const outcomes = await Promise.allSettled([
    store.append(writeAfter('a', 0)),
    store.append(writeAfter('b', 3)),
    store.append(writeAfter('c', 0, { effect: 'entry' })),
    store.append(writeAfter('d', 0, { fence: 99 })),
    store.append(writeAfter('e', 0, { effect: 'exit' })), // HALTED refuses exits too, unless privileged (no effect)
    store.append(writeAfter('e', 0)),
  ]);
  expect(statuses(outcomes)).toEqual([
    'ok',
    'StoreConflictError',
    'TradingStateRefusal',
    'OwnershipLostError',
    'TradingStateRefusal',
    'ok',
  ]);
  expect((outcomes[1] as PromiseRejectedResult).reason).not.toBeInstanceOf(OwnershipLostError);
  expect(batches).toEqual([{ writes: 6, committed: 2 }]);
  expect(await writers(url, 'strategies', ['a', 'e'])).toBe(1);
  const stored = await store.loadAll({ claim: false });
  expect(stored.map((s) => [s.strategyId, s.seq])).toEqual([
    ['a', 1],
    ['b', 0],
    ['c', 0],
    ['d', 0],
    ['e', 1],
  ]);
  await store.close();
});

test('entries under portfolio limits go alone in the batch: the one past the limit is refused, the rest commit', async () => {
  const url = await freshDatabase('group_limits');
  const batches: BatchReport[] = [];
  const store = new PostgresStore({ connectionString: url, instanceId: 'a', groupCommit: ONE_AT_A_TIME, onBatch: (b) => batches.push(b) });
  await store.open();
  for (const id of ['p', 'q', 'r']) await store.create(newStrategy(id));
  const entry = { slot: { holds: true, group: 'index' }, limits: { maxOpenPositions: 1 } };
  const outcomes = await Promise.allSettled([
    store.append(writeAfter('p', 0, entry)),
    store.append(writeAfter('q', 0, entry)),
    store.append(writeAfter('r', 0)),
  ]);
  expect(statuses(outcomes)).toEqual(['ok', 'PortfolioLimitRefusal', 'ok']);
  expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(PortfolioLimitRefusal);
  // One batch; p's rows carry its savepoint's own xid, so xmin cannot show the shared commit here.
  expect(batches).toEqual([{ writes: 3, committed: 2 }]);
  await store.close();
});

test('a statement the server refuses (a duplicate audit record) is retried write by write: only that write fails', async () => {
  const url = await freshDatabase('group_fallback');
  const batches: BatchReport[] = [];
  const store = new PostgresStore({ connectionString: url, instanceId: 'a', groupCommit: ONE_AT_A_TIME, onBatch: (b) => batches.push(b) });
  await store.open();
  for (const id of ['f', 'g', 'h']) await store.create(newStrategy(id));
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  // A record the strategy row does not know of: the batch's INSERT of f's seq 1 breaks the key.
  await client.query("INSERT INTO audit_records (strategy_id, seq, at, record) VALUES ('f', 1, 0, '{}')");
  await client.end();
  const outcomes = await Promise.allSettled([
    store.append(writeAfter('f', 0)),
    store.append(writeAfter('g', 0)),
    store.append(writeAfter('h', 0)),
  ]);
  expect(statuses(outcomes)).toEqual(['StoreUnavailableError', 'ok', 'ok']);
  expect((outcomes[0] as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
  expect(batches).toEqual([{ writes: 3, committed: 2 }]);
  const stored = await store.loadAll({ claim: false });
  expect(stored.map((s) => [s.strategyId, s.seq])).toEqual([
    ['f', 0],
    ['g', 1],
    ['h', 1],
  ]);
  await store.close();
});

test('a value the server cannot store (a NUL in the JSON) fails its own write only, not the batch', async () => {
  // validateEvent refuses a NUL at the boundary; this is the store's own line for any that gets past it.
  const url = await freshDatabase('group_nul');
  const batches: BatchReport[] = [];
  const store = new PostgresStore({ connectionString: url, instanceId: 'a', groupCommit: ONE_AT_A_TIME, onBatch: (b) => batches.push(b) });
  await store.open();
  for (const id of ['m', 'n', 'o']) await store.create(newStrategy(id));
  const poisoned = writeAfter('n', 0);
  poisoned.records[0] = { ...poisoned.records[0], eventId: 'evil\u0000id' };
  const outcomes = await Promise.allSettled([store.append(writeAfter('m', 0)), store.append(poisoned), store.append(writeAfter('o', 0))]);
  expect(statuses(outcomes)).toEqual(['ok', 'StoreUnavailableError', 'ok']);
  expect(batches).toEqual([{ writes: 3, committed: 2 }]);
  const stored = await store.loadAll({ claim: false });
  expect(stored.map((s) => [s.strategyId, s.seq])).toEqual([
    ['m', 1],
    ['n', 0],
    ['o', 1],
  ]);
  await store.close();
});

test('a batch that committed stays committed when asking why a neighbour was refused fails: only the refused write fails', async () => {
  // The one-statement batch commits on its own; the query that then diagnoses the writes it did not
  // make runs after that commit. Before, its failure (here a lock held elsewhere past lock_timeout)
  // failed the whole batch and retried it write by write: the committed write was reported as
  // failed (a seq conflict or a lock error) although it was stored.
  const url = await freshDatabase('group_diagnosis');
  const store = new PostgresStore({ connectionString: url, instanceId: 'a' });
  await store.open();
  for (const id of ['p', 'q']) await store.create(newStrategy(id));
  // Stopped without releasing its leases: instance a still owns both, under token 1.
  await store.abandon();
  const holder = new pg.Client({ connectionString: url });
  await holder.connect();
  let locked = false;
  /** A real pool whose session, just before it asks why a write was refused, finds the table locked elsewhere. */
  class LockedBeforeDiagnosis extends pg.Pool {
    override query(...args: unknown[]): never {
      const text = (args[0] as { text?: string } | string | undefined) ?? '';
      const sqlText = typeof text === 'string' ? text : (text.text ?? '');
      const run = () => (super.query as (...a: unknown[]) => unknown)(...args) as never;
      if (!locked && sqlText.startsWith('SELECT strategy_id, owner, fencing_token')) {
        locked = true;
        return holder.query('BEGIN; LOCK TABLE strategies IN ACCESS EXCLUSIVE MODE').then(run) as never;
      }
      return run();
    }
  }
  const pool = new LockedBeforeDiagnosis({ connectionString: url, max: 2, options: '-c lock_timeout=200' });
  pool.on('error', () => undefined);
  const context: PgBatchContext = { pool, instanceId: 'a', channel: CHANGE_CHANNEL, begin: 'BEGIN', leaseUntil: FRIDAY_11AM + 60_000 };
  try {
    // p is written; q's write expects seq 5 and is refused.
    const outcome = await commitPostgresBatch(context, [
      { write: writeAfter('p', 0), token: 1 },
      { write: writeAfter('q', 5), token: 1 },
    ]);
    expect(locked).toBe(true);
    expect(outcome[0]).toBeUndefined();
    expect(outcome[1]).toBeInstanceOf(Error);
  } finally {
    await holder.query('ROLLBACK');
    await holder.end();
    await pool.end();
  }
  const rows = await sql<{ strategy_id: string; seq: string }>(url, 'SELECT strategy_id, seq FROM strategies ORDER BY strategy_id');
  expect(rows.map((r) => [r.strategy_id, Number(r.seq)])).toEqual([
    ['p', 1],
    ['q', 0],
  ]);
});
