/** The audit trail alone rebuilds every strategy; verify reports any disagreement with the snapshot. */
import { join } from 'node:path';
import type { StrategyEvent } from '../../machines/events';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { verifyStore } from '../../services/runtime/replay';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM, MINUTE, VARIANTS } from '../support/fixtures';
import { tempDir } from './helpers';
import { deepenRecord, tamperSqlite } from '../support/tamper';
import { MAX_DEPTH } from '../../machines/bounds';
import { StoredDataTooDeepError } from '../../machines/errors';
import Database from 'better-sqlite3';

const variants = [zeroDte, lt112, strangle];
let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

async function buildHistory(file: string) {
  const clock = createSimulatedClock(FRIDAY_11AM);
  let failHook = true;
  const flaky = {
    ...strangle,
    id: 'flakyStrangle',
    hooks: {
      onEnter: {
        ANALYZING: () => {
          if (failHook) {
            failHook = false;
            throw new Error('warming up');
          }
        },
      },
    },
  };
  const system = await openStrategySystem({ store: new SqliteStore(file), variants: [...variants, flaky], clock });
  await system.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
  await system.add(flaky, { id: 'st', params: { underlying: 'SPY' } });
  const lt: StrategyEvent[] = [
    { type: 'MARKET_OPEN' },
    { type: 'ORDER_FILLED', quantity: 1 },
    { type: 'TIME_WINDOW_START' },
    { type: 'ENTRY_CONDITIONS_MET', vix: 99, expiry: '2027-03-29' },
    VARIANTS[1].entry,
    { type: 'ORDER_SUBMITTED' },
    { type: 'ORDER_PARTIALLY_FILLED', quantity: 1, eventId: 'f1' },
    { type: 'ORDER_PARTIALLY_FILLED', quantity: 1, eventId: 'f1' },
    { type: 'ORDER_FILLED', quantity: 2, expiry: '2026-12-18', price: 12.5 },
    { type: 'BOGUS' } as unknown as StrategyEvent,
    { type: 'MARKET_OPEN' },
  ];
  for (const e of lt) {
    await system.send('lt', e);
    clock.increment(MINUTE);
  }
  await system.send('st', { type: 'MARKET_OPEN' });
  await system.send('st', { type: 'TIME_WINDOW_START' }); // hook fails once
  await system.send('st', { type: 'TIME_WINDOW_START' });
  await system.send('st', VARIANTS[2].entry);
  await system.send('st', { type: 'ORDER_SUBMITTED' });
  clock.increment(6 * MINUTE); // stuck in ENTERING -> ERROR
  await system.flush();
  clock.increment(30 * MINUTE); // auto-recovery
  await system.flush();
  await system.send('lt', { type: 'DEFENSIVE_EXIT_DTE' });
  await system.close();
  return [...variants, flaky];
}

test('every stored strategy replays from its trail to exactly its stored snapshot', async () => {
  const file = join(dir, 's.db');
  const all = await buildHistory(file);
  const report = await verifyStore(new SqliteStore(file), all);
  expect(report.differences).toEqual([]);
  expect(report.strategies).toBe(2);
  expect(report.records).toBeGreaterThan(15);
});

test('a tampered snapshot or record is reported with where and what differs', async () => {
  const file = join(dir, 's.db');
  const all = await buildHistory(file);
  tamperSqlite(file, {
    quantity: { strategyId: 'lt', to: 5 },
    record: { strategyId: 'st', seq: 2, replace: '"accepted":false', with: '"accepted":true' },
  });
  const report = await verifyStore(new SqliteStore(file), all);
  expect(report.differences).toEqual([
    {
      strategyId: 'lt',
      where: 'snapshot',
      field: 'position',
      stored: expect.objectContaining({ quantity: 5 }),
      replayed: expect.objectContaining({ quantity: 3 }),
    },
    { strategyId: 'st', where: 'record 2', field: 'accepted', stored: true, replayed: false },
  ]);
});

test('data nested past the limit in an old store is a typed error naming the strategy and record, not a stack overflow', async () => {
  const file = join(dir, 's.db');
  const all = await buildHistory(file);
  deepenRecord(file, 'lt', 3, 3000);
  const error = await verifyStore(new SqliteStore(file), all).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(StoredDataTooDeepError);
  expect(error).toMatchObject({ strategyId: 'lt', where: 'record 3', limit: MAX_DEPTH });
  expect((error as Error).message).toMatch(/^strategy "lt": stored record 3 nests deeper than 32 levels \(at data\.legs\.0\.note\.a\.a/);
});

test('a trail ahead of its snapshot (a record past the stored seq) is reported, not replayed into the snapshot or left out', async () => {
  const file = join(dir, 's.db');
  const all = await buildHistory(file);
  const raw = new Database(file);
  const { seq } = raw.prepare("SELECT seq FROM strategies WHERE strategy_id = 'lt'").get() as { seq: number };
  raw
    .prepare(
      "INSERT INTO audit_records (strategy_id, seq, at, record) SELECT strategy_id, seq + 1, at, json_set(record, '$.seq', seq + 1) FROM audit_records WHERE strategy_id = 'lt' AND seq = ?",
    )
    .run(seq);
  raw.close();
  const report = await verifyStore(new SqliteStore(file), all);
  expect(report.differences).toEqual([
    { strategyId: 'lt', where: `record ${seq + 1}`, field: 'seq', stored: seq + 1, replayed: undefined },
  ]);
});

describe('a trail with records missing or a record the machine cannot take is reported at that record, not as what follows from it', () => {
  /** Runs `sql` (bound to `lt`) on the store file, as an operator's stray statement or a damaged disk might. */
  function edit(file: string, sql: string): void {
    const raw = new Database(file);
    raw.prepare(sql).run({ id: 'lt' });
    raw.close();
  }
  const seqOf = (file: string) => {
    const raw = new Database(file, { readonly: true });
    const { seq } = raw.prepare("SELECT seq FROM strategies WHERE strategy_id = 'lt'").get() as { seq: number };
    raw.close();
    return seq;
  };

  test('a record deleted from the middle: the missing seq, not the next record compared with an older one', async () => {
    const file = join(dir, 's.db');
    const all = await buildHistory(file);
    edit(file, 'DELETE FROM audit_records WHERE strategy_id = :id AND seq = 3');
    const report = await verifyStore(new SqliteStore(file), all);
    // Before: `record 4` with seven fields "replayed" from record 2 (ORDER_SUBMITTED has no edge there).
    expect(report.differences).toEqual([{ strategyId: 'lt', where: 'record 3', field: 'seq', stored: 4, replayed: 3 }]);
  });

  test('a trail cut short of its snapshot: the first missing record, not the snapshot fields it explains', async () => {
    const file = join(dir, 's.db');
    const all = await buildHistory(file);
    const seq = seqOf(file);
    edit(file, `DELETE FROM audit_records WHERE strategy_id = :id AND seq > ${seq - 3}`);
    const report = await verifyStore(new SqliteStore(file), all);
    // Before: `snapshot` differences (value, enteredAt, stats, lastRecord...), as if the snapshot were wrong.
    expect(report.differences).toEqual([
      { strategyId: 'lt', where: `record ${seq - 2}`, field: 'seq', stored: undefined, replayed: seq - 2 },
    ]);
    edit(file, 'DELETE FROM audit_records WHERE strategy_id = :id');
    expect((await verifyStore(new SqliteStore(file), all)).differences).toEqual([
      { strategyId: 'lt', where: 'record 1', field: 'seq', stored: undefined, replayed: 1 },
    ]);
  });

  test('a record whose event the state has no edge for: that record, stored whole, and no record replayed', async () => {
    const file = join(dir, 's.db');
    const all = await buildHistory(file);
    edit(
      file,
      `UPDATE audit_records SET record = replace(record, '"trigger":"MARKET_OPEN"', '"trigger":"ORDER_SUBMITTED"') WHERE strategy_id = :id AND seq = 1`,
    );
    const report = await verifyStore(new SqliteStore(file), all);
    // Before: one difference per field of record 1 (replayed: none); a later record was compared with the previous record.
    expect(report.differences).toEqual([
      {
        strategyId: 'lt',
        where: 'record 1',
        field: 'record',
        stored: expect.objectContaining({ seq: 1, trigger: 'ORDER_SUBMITTED', accepted: true }),
        replayed: undefined,
      },
    ]);
  });
});
