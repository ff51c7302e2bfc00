/**
 * PostgreSQL, several instances: one trading state for all. A change reaches every instance at
 * once (NOTIFY) and at each lease round, and an order-producing write is refused in its own
 * transaction when the stored state forbids it, whatever the writing instance believes.
 */
import pg from 'pg';
import { TradingStateRefusal } from '../../machines/errors';
import type { StrategyEvent } from '../../machines/events';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock, type SimulatedClockHandle } from '../../services/market/clock';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { PostgresStore } from '../../services/store/postgresStore';
import { FRIDAY_11AM, VARIANTS } from '../support/fixtures';
import { freshDatabase } from './pg';

const variants = [zeroDte, lt112, strangle];
const toAnalyzing: StrategyEvent[] = [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }];
const entry = VARIANTS[1].entry;

/** Waits (real time, bounded) for a condition another connection brings about. */
async function eventually(check: () => boolean, what: string, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function instance(url: string, id: string, clock: SimulatedClockHandle): Promise<PersistentStrategySystem> {
  return openStrategySystem({ store: new PostgresStore({ connectionString: url, instanceId: id, leaseMs: 15_000 }), variants, clock });
}

/** Changes the stored trading state from outside any instance, without NOTIFY: a change whose news has not arrived. */
async function changeQuietly(url: string, to: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('BEGIN');
  const { rows } = await client.query<{ state: string }>('SELECT state FROM trading_state WHERE id = 1 FOR UPDATE');
  await client.query('UPDATE trading_state SET state = $1 WHERE id = 1', [to]);
  await client.query(
    "INSERT INTO trading_state_changes (from_state, to_state, reason, operator, at) VALUES ($1, $2, 'behind its back', 'test', $3)",
    [rows[0].state, to, FRIDAY_11AM],
  );
  await client.query('COMMIT');
  await client.end();
}

test('a halt on A halts B: B learns it at once, refuses an entry at once, and still after B restarts', async () => {
  const url = await freshDatabase('shared_halt');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const a = await instance(url, 'a', clock);
  const b = await instance(url, 'b', clock);
  await b.add(lt112, { id: 'lt-b' });
  for (const e of toAnalyzing) await b.send('lt-b', e);

  // NOTIFY: no lease round (the clock does not move), no send on B.
  await a.setTradingState('REDUCING', 'drawdown limit', 'risk-desk');
  await eventually(() => b.tradingState === 'REDUCING', 'B to learn REDUCING');
  expect(b.tradingStateHistory().at(-1)).toMatchObject({ from: 'ACTIVE', to: 'REDUCING', operator: 'risk-desk' });

  await a.setTradingState('HALTED', 'exchange incident', 'ops');
  expect(await b.send('lt-b', entry)).toMatchObject({
    accepted: false,
    code: expect.stringMatching(/^TRADING_(HALTED|REDUCING)$/),
    to: 'ANALYZING',
  });
  await eventually(() => b.tradingState === 'HALTED', 'B to learn HALTED');
  expect(await b.send('lt-b', entry)).toMatchObject({ accepted: false, code: 'TRADING_HALTED', to: 'ANALYZING' });

  await b.close();
  const restarted = await instance(url, 'b', clock);
  expect(restarted.tradingState).toBe('HALTED');
  expect(await restarted.send('lt-b', entry)).toMatchObject({ accepted: false, code: 'TRADING_HALTED' });
  expect(restarted.get('lt-b').state).toBe('ANALYZING');
  await restarted.close();
  await a.close();
});

test("an instance that has not heard of the halt yet: the store refuses its entry in the write's own transaction, audited as TRADING_HALTED", async () => {
  const url = await freshDatabase('shared_refuse');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const b = await instance(url, 'b', clock);
  await b.add(lt112, { id: 'lt-b' });
  for (const e of toAnalyzing) await b.send('lt-b', e);
  await changeQuietly(url, 'HALTED');
  expect(b.tradingState).toBe('ACTIVE'); // its own gate would let the entry in

  const result = await b.send('lt-b', entry);
  expect(result).toMatchObject({ accepted: false, code: 'TRADING_HALTED', from: 'ANALYZING', to: 'ANALYZING' });
  expect(b.get('lt-b').getAuditTrail().at(-1)).toMatchObject({ trigger: 'ENTRY_CONDITIONS_MET', accepted: false, code: 'TRADING_HALTED' });
  await b.flush();
  await eventually(() => b.tradingState === 'HALTED', 'B to reload the stored state after the refusal');
  await b.close();

  // The store's own answer, without any instance's gate in front of it.
  const store = new PostgresStore({ connectionString: url, instanceId: 'c', clock });
  await store.open();
  const [stored] = await store.loadAll();
  const write = {
    strategyId: 'lt-b',
    expectedSeq: stored.seq,
    records: [],
    snapshot: stored.snapshot,
    state: 'ANALYZING',
    at: FRIDAY_11AM,
  };
  await expect(store.append({ ...write, effect: 'entry' })).rejects.toThrow(TradingStateRefusal);
  await expect(store.append({ ...write, effect: 'exit' })).rejects.toThrow(/trading state is HALTED/);
  await expect(store.append(write)).resolves.toBeUndefined(); // no order: not the trading state's business
  await store.close();
});

test('a change whose NOTIFY was missed is picked up at the next lease round', async () => {
  const url = await freshDatabase('shared_lease');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const b = await instance(url, 'b', clock);
  await changeQuietly(url, 'REDUCING');
  expect(b.tradingState).toBe('ACTIVE');
  clock.increment(5_000); // a third of the lease
  await eventually(() => b.tradingState === 'REDUCING', 'the lease round to reload the trading state');
  await b.close();
});
