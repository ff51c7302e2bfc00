/**
 * The trading state survives restarts on SQLite and PostgreSQL: it is written before it answers,
 * kept with its history (reason, operator, time), and back before any strategy moves on reopen.
 */
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { StoreUnavailableError } from '../../machines/errors';
import type { StrategyEvent } from '../../machines/events';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock, type SimulatedClockHandle } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { PostgresStore } from '../../services/store/postgresStore';
import { SCHEMA_VERSION } from '../../services/store/migrations';
import { SqliteStore } from '../../services/store/sqliteStore';
import type { StrategyStore } from '../../services/store/types';
import { setImmutable, tempDir } from '../persistence/helpers';
import { freshDatabase } from '../persistence/pg';
import { FRIDAY_11AM, MINUTE, VARIANTS } from '../support/fixtures';

const variants = [zeroDte, lt112, strangle];
const toAnalyzing: StrategyEvent[] = [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }];

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('sl-trading-')));
afterEach(() => {
  const file = join(dir, 'strategies.db');
  setImmutable([file, `${file}-wal`, `${file}-shm`], false);
  cleanup();
});

/** Each kind of store, reopened on the same data as a restarted process would. */
const stores: Array<[string, () => Promise<() => StrategyStore>]> = [
  ['SQLite', async () => () => new SqliteStore(join(dir, 'strategies.db'))],
  [
    'PostgreSQL',
    async () => {
      const url = await freshDatabase('trading');
      return () => new PostgresStore({ connectionString: url, instanceId: 'only' });
    },
  ],
];

describe.each(stores)('on %s', (_name, storeFactory) => {
  const open = (store: StrategyStore, clock: SimulatedClockHandle, inspect?: (e: InspectionEvent) => void) =>
    openStrategySystem({ store, variants, clock, ...(inspect ? { inspect } : {}) });

  test.each(['HALTED', 'REDUCING'] as const)(
    '%s survives close and reopen, with its reason, operator and time in the kept history',
    async (state) => {
      const makeStore = await storeFactory();
      const clock = createSimulatedClock(FRIDAY_11AM);
      const first = await open(makeStore(), clock);
      expect(await first.setTradingState('REDUCING', 'drawdown limit', 'risk-desk')).toEqual({
        from: 'ACTIVE',
        to: 'REDUCING',
        reason: 'drawdown limit',
        operator: 'risk-desk',
        at: FRIDAY_11AM,
      });
      clock.increment(MINUTE);
      await first.setTradingState(state, 'exchange incident', 'ops');
      await first.close();

      const second = await open(makeStore(), clock);
      expect(second.tradingState).toBe(state);
      expect(second.tradingStateHistory()).toEqual([
        { from: 'ACTIVE', to: 'REDUCING', reason: 'drawdown limit', operator: 'risk-desk', at: FRIDAY_11AM },
        { from: 'REDUCING', to: state, reason: 'exchange incident', operator: 'ops', at: FRIDAY_11AM + MINUTE },
      ]);
      await second.close();
    },
  );

  test('the entry gate refuses right after reopen: the trading state is back before the first strategy starts', async () => {
    const makeStore = await storeFactory();
    const clock = createSimulatedClock(FRIDAY_11AM);
    const first = await open(makeStore(), clock);
    await first.add(lt112, { id: 'lt' });
    for (const e of toAnalyzing) await first.send('lt', e);
    await first.setTradingState('HALTED', 'exchange incident', 'ops');
    await first.close();

    const seen: string[] = [];
    const second = await open(makeStore(), clock, (e) => {
      if (e.type !== '@xstate.event') return;
      if (e.event.type === 'system.restoreTradingState') seen.push('trading state restored');
      else if (e.event.type === 'xstate.init' && (e.actorRef as AnyActorRef).id === 'lt') seen.push('strategy started');
    });
    // A restored strategy with nothing to run at once starts after the open (in the background): still after the trading state.
    await second.whenLive();
    expect(seen.slice(0, 2)).toEqual(['trading state restored', 'strategy started']);
    expect(await second.send('lt', VARIANTS[1].entry)).toMatchObject({ accepted: false, code: 'TRADING_HALTED', to: 'ANALYZING' });
    expect(second.get('lt').getAuditTrail().at(-1)).toMatchObject({ accepted: false, code: 'TRADING_HALTED' });
    await second.close();
  });
});

test('a store that fails during setTradingState: StoreUnavailableError, and the trading state does not change, now or after a restart', async () => {
  const file = join(dir, 'strategies.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = await openStrategySystem({ store: new SqliteStore(file), variants, clock });
  await system.add(lt112, { id: 'lt' });
  for (const e of toAnalyzing) await system.send('lt', e);
  setImmutable([file, `${file}-wal`], true);
  await expect(system.setTradingState('HALTED', 'incident', 'ops')).rejects.toThrow(StoreUnavailableError);
  expect(system.tradingState).toBe('ACTIVE');
  expect(system.tradingStateHistory()).toEqual([]);
  setImmutable([file, `${file}-wal`], false);
  await system.close();
  const reopened = await openStrategySystem({ store: new SqliteStore(file), variants, clock });
  expect(reopened.tradingState).toBe('ACTIVE');
  expect(await reopened.send('lt', VARIANTS[1].entry)).toMatchObject({ accepted: true, to: 'PENDING_ENTRY' });
  await reopened.close();
});

test('the store refuses an entry in its own transaction when the stored state is HALTED: answered and audited as TRADING_HALTED', async () => {
  const file = join(dir, 'strategies.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = await openStrategySystem({ store: new SqliteStore(file), variants, clock });
  await system.add(lt112, { id: 'lt' });
  for (const e of toAnalyzing) await system.send('lt', e);
  // Another writer halts behind this system's back: its own gate still says ACTIVE.
  const other = new Database(file);
  other.prepare("UPDATE trading_state SET state = 'HALTED' WHERE id = 1").run();
  other
    .prepare(
      "INSERT INTO trading_state_changes (from_state, to_state, reason, operator, at) VALUES ('ACTIVE', 'HALTED', 'elsewhere', 'other', ?)",
    )
    .run(FRIDAY_11AM);
  other.close();
  expect(system.tradingState).toBe('ACTIVE');

  const result = await system.send('lt', VARIANTS[1].entry);
  expect(result).toMatchObject({ accepted: false, code: 'TRADING_HALTED', from: 'ANALYZING', to: 'ANALYZING' });
  expect(result.reason).toMatch(/trading state is HALTED.*entry/);
  expect(system.get('lt').state).toBe('ANALYZING');
  await system.flush();
  expect(system.tradingState).toBe('HALTED'); // learnt from the refusal
  await system.close();
  const reopened = await openStrategySystem({ store: new SqliteStore(file), variants, clock });
  expect(reopened.get('lt').getAuditTrail().at(-1)).toMatchObject({
    trigger: 'ENTRY_CONDITIONS_MET',
    accepted: false,
    code: 'TRADING_HALTED',
  });
  await reopened.close();
});

test('a store written by version 1 migrates to version 2: strategies kept, trading state ACTIVE', async () => {
  const file = join(dir, 'strategies.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = await openStrategySystem({ store: new SqliteStore(file), variants, clock });
  await system.add(lt112, { id: 'lt' });
  await system.close();
  // Back to what version 1 wrote: its two tables and no marker file beside them.
  const raw = new Database(file);
  for (const { name } of raw
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('strategies', 'audit_records') AND name NOT LIKE 'sqlite_%'",
    )
    .all() as Array<{ name: string }>)
    raw.exec(`DROP TABLE ${name}`);
  raw.pragma('user_version = 1');
  raw.close();
  rmSync(`${file}.id`);

  const migrated = await openStrategySystem({ store: new SqliteStore(file), variants, clock });
  expect(migrated.ids()).toEqual(['lt']);
  expect(migrated.tradingState).toBe('ACTIVE');
  await migrated.setTradingState('HALTED', 'after migration', 'ops');
  await migrated.close();
  const check = new Database(file, { readonly: true });
  expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
  expect(check.prepare('SELECT state FROM trading_state').get()).toEqual({ state: 'HALTED' });
  check.close();
});
