/**
 * Portfolio limits of persisted systems under concurrency: in one process (the slot is reserved
 * at gate time, before the write) and across PostgreSQL instances (counted in the store).
 */
import pg from 'pg';
import type { PortfolioLimits } from '../../guards/portfolio';
import { StoreUnavailableError } from '../../machines/errors';
import type { StrategyEvent } from '../../machines/events';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { verifyStore } from '../../services/runtime/replay';
import { PostgresStore } from '../../services/store/postgresStore';
import { SqliteStore } from '../../services/store/sqliteStore';
import type { TriggerResult } from '../../services/runtime/strategyActor';
import { FRIDAY_11AM, VARIANTS } from '../support/fixtures';
import { tempDir } from './helpers';
import { freshDatabase } from './pg';

const variants = [zeroDte, lt112, strangle];
const GROUP = 'us-equity-index'; // every built-in variant's correlation group
const limits: PortfolioLimits = { maxPerGroup: { [GROUP]: 1 }, maxOpenPositions: 1 };
const toAnalyzing: StrategyEvent[] = [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }];

/** Adds one strategy of each variant, ids `${prefix}0..2`, and brings them to ANALYZING. */
async function analyzing(system: PersistentStrategySystem, prefix: string): Promise<string[]> {
  const ids = VARIANTS.map((_, i) => `${prefix}${i}`);
  for (const [i, id] of ids.entries()) {
    await system.add(VARIANTS[i].def, { id });
    for (const e of toAnalyzing) await system.send(id, e);
  }
  return ids;
}

const entryOf = (id: string) => VARIANTS[Number(id.slice(-1))].entry;

function expectOneEntered(results: TriggerResult[]) {
  expect(results.filter((r) => r.accepted)).toEqual([expect.objectContaining({ to: 'PENDING_ENTRY' })]);
  for (const r of results.filter((x) => !x.accepted))
    expect(r).toMatchObject({ from: 'ANALYZING', to: 'ANALYZING', code: 'CORRELATION_LIMIT' });
}

test('three concurrent entries with maxPerGroup 1 (SQLite): exactly one enters, the others are refused and audited', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const store = new SqliteStore(`${dir}/limits.db`);
    const system = await openStrategySystem({ store, variants, clock: createSimulatedClock(FRIDAY_11AM), limits });
    const ids = await analyzing(system, 's');
    const results = await Promise.all(ids.map((id) => system.send(id, entryOf(id))));
    expectOneEntered(results);
    expect(system.summary().portfolio.slotsUsed).toBe(1);
    for (const [i, id] of ids.entries()) {
      if (results[i].accepted) continue;
      expect(system.get(id).getAuditTrail().at(-1)).toMatchObject({
        trigger: 'ENTRY_CONDITIONS_MET',
        accepted: false,
        code: 'CORRELATION_LIMIT',
      });
    }
    await system.close();
    const report = await verifyStore(new SqliteStore(`${dir}/limits.db`), variants);
    expect(report.differences).toEqual([]);
    expect(report.records).toBe(3 * 3); // two moves and one entry, accepted or refused, each
  } finally {
    cleanup();
  }
});

test('a slot reserved for an entry whose write failed is returned', async () => {
  const url = await freshDatabase('slot_release');
  const system = await openStrategySystem({
    store: new PostgresStore({ connectionString: url, instanceId: 'a', lockTimeoutMs: 200 }),
    variants,
    clock: createSimulatedClock(FRIDAY_11AM),
    limits,
  });
  const [first, second] = await analyzing(system, 's');
  const locker = new pg.Client({ connectionString: url });
  await locker.connect();
  await locker.query('BEGIN');
  await locker.query('SELECT * FROM strategies WHERE strategy_id = $1 FOR UPDATE', [first]);
  await expect(system.send(first, entryOf(first))).rejects.toThrow(StoreUnavailableError);
  expect(system.summary().portfolio.slotsUsed).toBe(0);
  expect(await system.send(second, entryOf(second))).toMatchObject({ accepted: true, to: 'PENDING_ENTRY' });
  await locker.query('ROLLBACK');
  await locker.end();
  await system.close();
});

test('two PostgreSQL instances with maxPerGroup 1, entering at once: exactly one PENDING_ENTRY across both', async () => {
  const groupLimit: PortfolioLimits = { maxPerGroup: { [GROUP]: 1 } };
  for (let round = 0; round < 3; round++) {
    const url = await freshDatabase(`limits_two_${round}`);
    const clock = createSimulatedClock(FRIDAY_11AM);
    const a = await openStrategySystem({
      store: new PostgresStore({ connectionString: url, instanceId: 'a' }),
      variants,
      clock,
      limits: groupLimit,
    });
    const [x] = await analyzing(a, 'x');
    const b = await openStrategySystem({
      store: new PostgresStore({ connectionString: url, instanceId: 'b' }),
      variants,
      clock,
      limits: groupLimit,
    });
    const [y] = await analyzing(b, 'y');
    const results = await Promise.all([a.send(x, entryOf(x)), b.send(y, entryOf(y))]);
    expectOneEntered(results);
    const loser = results[0].accepted ? { system: b, id: y } : { system: a, id: x };
    const winner = results[0].accepted ? { system: a, id: x } : { system: b, id: y };
    expect(results.find((r) => !r.accepted)?.reason).toBe(`CORRELATION_LIMIT: group ${GROUP} holds 1 of 1 open positions (all instances)`);
    expect(loser.system.get(loser.id).getAuditTrail().at(-1)).toMatchObject({ accepted: false, code: 'CORRELATION_LIMIT' });
    // The winner gives its slot back: the store sees it, and the other instance may enter.
    expect(await winner.system.send(winner.id, { type: 'TIME_WINDOW_END' })).toMatchObject({ accepted: true, to: 'READY' });
    expect(await loser.system.send(loser.id, entryOf(loser.id))).toMatchObject({ accepted: true, to: 'PENDING_ENTRY' });
    await a.close();
    await b.close();
    expect((await verifyStore(new PostgresStore({ connectionString: url }), variants)).differences).toEqual([]);
  }
});

test('two PostgreSQL instances: an override to PENDING_ENTRY the store refuses from a flat ERROR strategy returns its slot', async () => {
  const url = await freshDatabase('limits_override_refused');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const open = (instanceId: string) =>
    openStrategySystem({ store: new PostgresStore({ connectionString: url, instanceId }), variants, clock, limits });
  const a = await open('a');
  const [x, x1] = await analyzing(a, 'x');
  const b = await open('b');
  const [y] = await analyzing(b, 'y');
  expect(await b.send(y, entryOf(y))).toMatchObject({ accepted: true, to: 'PENDING_ENTRY' });
  // x in ERROR, flat and without a slot (it came from ANALYZING); the operator tries to enter by hand.
  expect(await a.send(x, { type: 'SYSTEM_ERROR', reason: 'feed lost', hold: true })).toMatchObject({ to: 'ERROR' });
  const override: StrategyEvent = { type: 'MANUAL_OVERRIDE', target: 'PENDING_ENTRY', reason: 'enter by hand', operator: 'ops' };
  expect(await a.send(x, override)).toMatchObject({
    accepted: false,
    to: 'ERROR',
    code: 'CORRELATION_LIMIT',
    reason: 'CORRELATION_LIMIT: 1 of 1 open positions overall are taken (all instances)',
  });
  expect(a.summary().portfolio.slotsUsed).toBe(0);
  // b gives its slot back: a's other strategy may enter (before, x's refused reservation held a's count at the limit).
  expect(await b.send(y, { type: 'TIME_WINDOW_END' })).toMatchObject({ accepted: true, to: 'READY' });
  expect(await a.send(x1, entryOf(x1))).toMatchObject({ accepted: true, to: 'PENDING_ENTRY' });
  await a.close();
  await b.close();
});
