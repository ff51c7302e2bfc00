/**
 * PostgreSQL: a strategy a lease round refuses to take over (its row disagrees with its audit
 * trail, or its snapshot cannot be restored) is reported once and set aside by this instance: not
 * claimed again, its lease and fencing token left alone, while its row and trail stay as they are.
 * Before, every round claimed it, reported it and released it again: one log line per strategy per
 * round per instance, for ever, and a fencing token bumped each time. Once an operator repairs the
 * row, the next round takes it over; once the strategy is removed, it is forgotten.
 */
import { SnapshotRestoreError, StoreCorruptError } from '../../machines/errors';
import { lt112, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import type { LeaseChange } from '../../services/runtime/leaseRound';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { PostgresStore } from '../../services/store/postgresStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { feed } from '../support/restartHarness';
import { freshDatabase, sql } from './pg';

jest.setTimeout(60_000);
const LEASE = 3000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Row = { snapshot: unknown; seq: string; state: string };
let url: string;
beforeEach(async () => {
  url = await freshDatabase('lease_set_aside');
});

/** A dead instance `c` (its clock far behind: its leases long run out) leaves `z` (0DTE, filled) and `ok`; returns z's row as it was while pending. */
async function deadInstanceLeaves(): Promise<Row> {
  const store = new PostgresStore({ connectionString: url, instanceId: 'c', leaseMs: LEASE });
  const c = await openStrategySystem({ store, variants: [zeroDte, lt112], clock: createSimulatedClock(FRIDAY_11AM - 60_000) });
  await c.add(zeroDte, { id: 'z' });
  await feed(c, 'z', [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START', window: 'entry' },
    { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2026-01-02' },
    { type: 'ORDER_SUBMITTED' },
  ]);
  await c.flush();
  const [pending] = await sql<Row>(url, "SELECT snapshot, seq, state FROM strategies WHERE strategy_id = 'z'");
  await feed(c, 'z', [{ type: 'ORDER_FILLED', quantity: 2, expiry: '2026-01-02' }]);
  await c.add(lt112, { id: 'ok' });
  await c.flush();
  await store.abandon();
  return pending;
}

const damages: Array<[string, (pending: Row) => Promise<unknown>, unknown]> = [
  [
    'a row put back from before the fill (StoreCorruptError)',
    (pending) =>
      sql(url, "UPDATE strategies SET snapshot = $1, seq = $2, state = $3 WHERE strategy_id = 'z'", [
        JSON.stringify(pending.snapshot),
        pending.seq,
        pending.state,
      ]),
    StoreCorruptError,
  ],
  [
    'a snapshot stored as null (SnapshotRestoreError)',
    () => sql(url, "UPDATE strategies SET snapshot = 'null'::jsonb WHERE strategy_id = 'z'"),
    SnapshotRestoreError,
  ],
];

test.each(damages)('%s: reported once over many rounds, not claimed again until repaired', async (_what, damage, errorType) => {
  const errors: Array<[unknown, string]> = [];
  const changes: LeaseChange[] = [];
  const clockB = createSimulatedClock(FRIDAY_11AM);
  const storeB = new PostgresStore({ connectionString: url, instanceId: 'b', leaseMs: LEASE });
  const b = await openStrategySystem({
    store: storeB,
    variants: [zeroDte, lt112],
    clock: clockB,
    onStoreError: (e, id) => errors.push([e, id]),
    onLeaseChange: (change) => changes.push(change),
  });
  const pending = await deadInstanceLeaves();
  const [intact] = await sql<Row>(url, "SELECT snapshot, seq, state FROM strategies WHERE strategy_id = 'z'");
  await damage(pending);
  const row = async () =>
    (
      await sql<{ owner: string | null; fencing_token: string }>(url, "SELECT owner, fencing_token FROM strategies WHERE strategy_id = 'z'")
    )[0];
  const okLease = async () =>
    Number((await sql(url, "SELECT lease_expires_at FROM strategies WHERE strategy_id = 'ok'"))[0]?.lease_expires_at ?? 0);
  /** One lease round of b, waited for: `ok` renewed (or claimed) by it, z let go of, then a moment more. */
  const round = async () => {
    clockB.increment(LEASE / 3);
    const due = clockB.now() + LEASE;
    for (let i = 0; i < 80 && ((await okLease()) < due || (await row())?.owner === 'b'); i++) await sleep(25);
    await sleep(100);
  };
  try {
    await round();
    expect(b.ids()).toEqual(['ok']);
    const tokenAfterFirst = (await row()).fencing_token;
    // Six more rounds: two whole lease periods.
    for (let i = 0; i < 6; i++) await round();
    const reports = errors.filter(([, id]) => id === 'z');
    expect(reports).toHaveLength(1);
    expect(reports[0][0]).toBeInstanceOf(errorType);
    expect(await row()).toEqual({ owner: null, fencing_token: tokenAfterFirst });
    expect(storeB.setAsideIds()).toEqual(['z']);
    expect(b.has('z')).toBe(false);
    // The operator's log says it once, and what it means.
    expect(changes.filter((c) => c.strategyId === 'z')).toEqual([
      {
        strategyId: 'z',
        change: 'setAside',
        reason: expect.stringMatching(/not claimed again by this instance until its row or audit trail changes/),
      },
    ]);

    // The operator puts the row back as it was: the next round takes it over, its position with it.
    await sql(url, "UPDATE strategies SET snapshot = $1, seq = $2, state = $3 WHERE strategy_id = 'z'", [
      JSON.stringify(intact.snapshot),
      intact.seq,
      intact.state,
    ]);
    for (let i = 0; i < 3 && !b.has('z'); i++) {
      clockB.increment(LEASE / 3);
      for (let j = 0; j < 40 && !b.has('z'); j++) await sleep(25);
    }
    expect(b.has('z')).toBe(true);
    expect(b.peek('z').snapshot).toMatchObject({ value: 'POSITION_OPEN', context: { position: { quantity: 2 } } });
    expect(storeB.setAsideIds()).toEqual([]);
    expect(errors.filter(([, id]) => id === 'z')).toHaveLength(1);
  } finally {
    await b.close();
  }
});

test('a strategy set aside and then removed by an operator is forgotten at the next round', async () => {
  const errors: Array<[unknown, string]> = [];
  const clockB = createSimulatedClock(FRIDAY_11AM);
  const storeB = new PostgresStore({ connectionString: url, instanceId: 'b', leaseMs: LEASE });
  const b = await openStrategySystem({
    store: storeB,
    variants: [zeroDte, lt112],
    clock: clockB,
    onStoreError: (e, id) => errors.push([e, id]),
  });
  await deadInstanceLeaves();
  await sql(url, "UPDATE strategies SET snapshot = '7'::jsonb WHERE strategy_id = 'z'");
  try {
    for (let i = 0; i < 3 && storeB.setAsideIds().length === 0; i++) {
      clockB.increment(LEASE / 3);
      for (let j = 0; j < 40 && storeB.setAsideIds().length === 0; j++) await sleep(25);
    }
    expect(storeB.setAsideIds()).toEqual(['z']);
    await sql(url, "DELETE FROM audit_records WHERE strategy_id = 'z'");
    await sql(url, "DELETE FROM strategies WHERE strategy_id = 'z'");
    for (let i = 0; i < 3 && storeB.setAsideIds().length > 0; i++) {
      clockB.increment(LEASE / 3);
      for (let j = 0; j < 40 && storeB.setAsideIds().length > 0; j++) await sleep(25);
    }
    expect(storeB.setAsideIds()).toEqual([]);
    expect(errors.filter(([, id]) => id === 'z')).toHaveLength(1);
  } finally {
    await b.close();
  }
});

test('a variant this instance does not run, refused at its open: reported once, left to an instance that runs it', async () => {
  await deadInstanceLeaves();
  const errors: Array<[unknown, string]> = [];
  const clockB = createSimulatedClock(FRIDAY_11AM);
  const storeB = new PostgresStore({ connectionString: url, instanceId: 'b', leaseMs: LEASE });
  const b = await openStrategySystem({ store: storeB, variants: [lt112], clock: clockB, onStoreError: (e, id) => errors.push([e, id]) });
  const owner = async () => (await sql<{ owner: string | null }>(url, "SELECT owner FROM strategies WHERE strategy_id = 'z'"))[0].owner;
  try {
    expect(b.ids()).toEqual(['ok']);
    for (let i = 0; i < 40 && storeB.setAsideIds().length === 0; i++) await sleep(25);
    expect(storeB.setAsideIds()).toEqual(['z']);
    for (let round = 0; round < 6; round++) {
      clockB.increment(LEASE / 3);
      const due = clockB.now() + LEASE;
      for (
        let i = 0;
        i < 80 && Number((await sql(url, "SELECT lease_expires_at FROM strategies WHERE strategy_id = 'ok'"))[0].lease_expires_at) < due;
        i++
      )
        await sleep(25);
      await sleep(100);
      expect(await owner()).toBeNull();
    }
    expect(errors.filter(([, id]) => id === 'z')).toHaveLength(1);
    expect(errors[0][0]).toBeInstanceOf(SnapshotRestoreError);
    const a = await openStrategySystem({
      store: new PostgresStore({ connectionString: url, instanceId: 'a', leaseMs: LEASE }),
      variants: [zeroDte, lt112],
      clock: createSimulatedClock(FRIDAY_11AM),
    });
    expect(a.ids()).toEqual(['z']);
    expect(await owner()).toBe('a');
    await a.close();
  } finally {
    await b.close();
  }
});
