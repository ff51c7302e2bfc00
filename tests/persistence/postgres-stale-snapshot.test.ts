/**
 * PostgreSQL, as tests/persistence/stale-snapshot.test.ts is for SQLite: a strategies row and its
 * audit trail are written in one transaction, so the row's seq is its newest record's and records
 * are numbered from 1 without gaps. A row an operator put back from an older backup (a snapshot
 * older than the transitions recorded after it), a seq past the newest record, or a restore window
 * with records missing is refused with StoreCorruptError naming the strategy: at the open the
 * whole open is refused, as SQLite's is, and nothing is written (no lease taken, no token bumped);
 * a lease round taking the strategy over from a dead instance reports it and lets it go, and takes
 * the others over. A snapshot that is JSON of the wrong shape is a SnapshotRestoreError, never a
 * TypeError, at the open and at a takeover.
 */
import { StoreCorruptError, SnapshotRestoreError } from '../../machines/errors';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { PostgresStore } from '../../services/store/postgresStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { feed } from '../support/restartHarness';
import { eventually, freshDatabase, sql } from './pg';

jest.setTimeout(60_000);
const variants = [zeroDte, lt112, strangle];
const LEASE = 3000;
const clock = () => createSimulatedClock(FRIDAY_11AM);
let url: string;
beforeEach(async () => {
  url = await freshDatabase('stale_snapshot');
});

const newStore = (instanceId: string) => new PostgresStore({ connectionString: url, instanceId, leaseMs: LEASE });
const open = (instanceId = 'new') => openStrategySystem({ store: newStore(instanceId), variants, clock: clock() });
type Row = { snapshot: unknown; seq: string; state: string };
/** Every strategies row and the trail's keys, as an operator would compare them. */
const everything = async () => ({
  rows: await sql(url, 'SELECT strategy_id, owner, lease_expires_at, fencing_token, seq, state, snapshot FROM strategies ORDER BY 1'),
  records: await sql(url, 'SELECT strategy_id, seq FROM audit_records ORDER BY 1, 2'),
});

/**
 * A closed store: `z` (0DTE) filled for 2 contracts, `lt` (LT112) moved through 20 window events,
 * `s` (strangle) just added; returns z's row as it was while its order was pending. With `dead`,
 * the instance writing it dies instead of closing, on a clock far behind (its leases long run out).
 */
async function storeWithPendingRow(dead?: { instanceId: string }): Promise<Row> {
  const store = newStore(dead?.instanceId ?? 'old');
  const system = await openStrategySystem({ store, variants, clock: createSimulatedClock(FRIDAY_11AM - (dead ? 60_000 : 0)) });
  await system.add(zeroDte, { id: 'z' });
  await feed(system, 'z', [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START', window: 'entry' },
    { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2026-01-02' },
    { type: 'ORDER_SUBMITTED' },
  ]);
  await system.flush();
  const [pending] = await sql<Row>(url, "SELECT snapshot, seq, state FROM strategies WHERE strategy_id = 'z'");
  await feed(system, 'z', [{ type: 'ORDER_FILLED', quantity: 2, expiry: '2026-01-02' }]);
  await system.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
  await system.send('lt', { type: 'MARKET_OPEN' });
  for (let i = 0; i < 20; i++) await system.send('lt', { type: i % 2 === 0 ? 'TIME_WINDOW_START' : 'TIME_WINDOW_END' });
  await system.add(strangle, { id: 's', params: { underlying: 'SPX' } });
  await system.flush();
  if (dead) await store.abandon();
  else await system.close();
  return pending;
}
const putBack = (pending: Row) =>
  sql(url, "UPDATE strategies SET snapshot = $1, seq = $2, state = $3 WHERE strategy_id = 'z'", [
    JSON.stringify(pending.snapshot),
    pending.seq,
    pending.state,
  ]);

/** The open is refused with StoreCorruptError, and nothing of the store changed (no lease, no token, no record). */
async function refusal(): Promise<StoreCorruptError> {
  const before = await everything();
  const error = await open().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(StoreCorruptError);
  expect(error).toMatchObject({ path: newStore('x').name });
  expect((error as Error).message).toMatch(/^store postgres:\S+ holds data it did not write so \(strategy "/);
  expect(await everything()).toEqual(before);
  return error as StoreCorruptError;
}

describe('at the open', () => {
  test('a snapshot older than its trail (the row put back from before the fill) is refused, not restored without its position', async () => {
    const pending = await storeWithPendingRow();
    await putBack(pending);
    const error = await refusal();
    expect(error.detail).toContain('strategy "z"');
    expect(error.detail).toContain(`seq ${pending.seq}`);
    expect(error.detail).toContain(`seq ${Number(pending.seq) + 1}`);
    expect(error.detail).toContain(`(snapshot in state "${pending.state}")`);
  });

  test('a seq lower than the newest audit record is refused', async () => {
    await storeWithPendingRow();
    await sql(url, "UPDATE strategies SET seq = seq - 2 WHERE strategy_id = 'lt'");
    expect((await refusal()).detail).toContain('strategy "lt"');
  });

  test('a trail missing its newest records is refused', async () => {
    await storeWithPendingRow();
    await sql(
      url,
      "DELETE FROM audit_records WHERE strategy_id = 'z' AND seq = (SELECT MAX(seq) FROM audit_records WHERE strategy_id = 'z')",
    );
    expect((await refusal()).detail).toMatch(/^strategy "z": its row is at seq \d+, but its audit trail ends at seq \d+/);
  });

  test('a gap in the restore window is refused; one older than the window is not read at open', async () => {
    await storeWithPendingRow();
    await sql(url, "DELETE FROM audit_records WHERE strategy_id = 'lt' AND seq = 18");
    expect((await refusal()).detail).toMatch(/^strategy "lt": its newest \d+ audit records .* should all be stored/);
    const store = newStore('window');
    await store.open();
    await expect(store.loadAll({ window: 3 })).resolves.toHaveLength(3);
    await store.close();
  });

  test('tooling (claim: false) reads the rows as stored, to report them', async () => {
    const pending = await storeWithPendingRow();
    await putBack(pending);
    const store = newStore('tool');
    await store.open();
    const z = (await store.loadAll({ window: 5, claim: false })).find((s) => s.strategyId === 'z');
    expect(z?.seq).toBe(Number(pending.seq));
    await store.close();
  });

  test('a store whose rows and trails agree restores every strategy, the position with it', async () => {
    await storeWithPendingRow();
    const system = await open();
    expect(system.ids().sort()).toEqual(['lt', 's', 'z']);
    expect(system.peek('z').snapshot).toMatchObject({ value: 'POSITION_OPEN', context: { position: { quantity: 2 } } });
    await system.close();
  });

  test.each(['null', '7', '"MANAGING"', '[1,2]', '{}', '{"value":"READY"}'])(
    'a snapshot stored as %s is reported as SnapshotRestoreError naming the strategy and released; the others start',
    async (json) => {
      await storeWithPendingRow();
      await sql(url, "UPDATE strategies SET snapshot = $1::jsonb WHERE strategy_id = 'z'", [json]);
      const errors: Array<[unknown, string]> = [];
      const system = await openStrategySystem({
        store: newStore('new'),
        variants,
        clock: clock(),
        onStoreError: (e, id) => errors.push([e, id]),
      });
      try {
        expect(system.ids().sort()).toEqual(['lt', 's']);
        expect(errors[0][1]).toBe('z');
        expect(errors[0][0]).toBeInstanceOf(SnapshotRestoreError);
        expect(String(errors[0][0])).toMatch(/stored strategy "z" of variant "zeroDte" cannot be restored: /);
        await eventually(
          async () => (await sql(url, "SELECT owner FROM strategies WHERE strategy_id = 'z'"))[0].owner === null,
          'z released',
        );
      } finally {
        await system.close();
      }
    },
  );
});

describe('at a takeover from a dead instance', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** A live instance `b` whose lease rounds take over what the dead instance `c` left. */
  async function takeOver(edit: (pending: Row) => Promise<unknown>): Promise<{ ids: string[]; errors: Array<[unknown, string]> }> {
    const errors: Array<[unknown, string]> = [];
    const clockB = clock();
    const b = await openStrategySystem({ store: newStore('b'), variants, clock: clockB, onStoreError: (e, id) => errors.push([e, id]) });
    try {
      await edit(await storeWithPendingRow({ instanceId: 'c' }));
      for (let i = 0; i < 5 && b.ids().length < 2; i++) {
        clockB.increment(LEASE / 3);
        for (let j = 0; j < 40 && b.ids().length < 2; j++) await sleep(25);
      }
      await eventually(async () => (await sql(url, "SELECT owner FROM strategies WHERE strategy_id = 'z'"))[0].owner !== 'b', 'z let go');
      return { ids: b.ids().sort(), errors };
    } finally {
      await b.close();
    }
  }

  test('a row put back from before the fill is reported as StoreCorruptError and let go of; the others are taken over', async () => {
    const result = await takeOver(putBack);
    expect(result.ids).toEqual(['lt', 's']);
    const refused = result.errors.filter(([, id]) => id === 'z');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0][0]).toBeInstanceOf(StoreCorruptError);
    expect((refused[0][0] as StoreCorruptError).detail).toMatch(
      /^strategy "z": its row \(snapshot in state "ENTERING"\) is at seq \d+, but its audit trail goes on to seq \d+/,
    );
  });

  test.each(['null', '7', '{}'])('a snapshot stored as %s is reported as SnapshotRestoreError and let go of', async (json) => {
    const result = await takeOver(() => sql(url, "UPDATE strategies SET snapshot = $1::jsonb WHERE strategy_id = 'z'", [json]));
    expect(result.ids).toEqual(['lt', 's']);
    const refused = result.errors.filter(([, id]) => id === 'z');
    expect(refused[0][0]).toBeInstanceOf(SnapshotRestoreError);
    expect(String(refused[0][0])).toMatch(/stored strategy "z" of variant "zeroDte" cannot be restored: /);
  });
});
