/**
 * A kill switch interrupted by a restart carries on: HALTED and its progress are in the store,
 * the reopened system keeps sending exits with the retry policy until flat, and records the result.
 */
import { join } from 'node:path';
import { KillSwitchInterruptedError } from '../../machines/errors';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock, type SimulatedClockHandle } from '../../services/market/clock';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { PostgresStore } from '../../services/store/postgresStore';
import { SqliteStore } from '../../services/store/sqliteStore';
import type { StrategyStore } from '../../services/store/types';
import { tempDir } from '../persistence/helpers';
import { freshDatabase } from '../persistence/pg';
import { exitBroker } from '../support/exitBroker';
import { FRIDAY_11AM } from '../support/fixtures';
import { advance, storedSystemState, toPosition } from '../support/persistedSteps';

const variants = [zeroDte, lt112, strangle];

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('sl-kill-')));
afterEach(() => cleanup());

/** A broker on the simulated clock: answers each exit order 100 ms later from a script; returns the orders' instants. */
const broker = (system: PersistentStrategySystem, clock: SimulatedClockHandle, answers: Array<'reject' | 'fill'>) =>
  exitBroker(system, clock, () => answers.shift() ?? 'reject');
/** Milliseconds after 11:00 of each instant. */
const fromEleven = (instants: number[]) => instants.map((at) => at - FRIDAY_11AM);

const stores: Array<[string, () => Promise<() => StrategyStore>]> = [
  ['SQLite', async () => () => new SqliteStore(join(dir, 'strategies.db'))],
  [
    'PostgreSQL',
    async () => {
      const url = await freshDatabase('killswitch');
      return () => new PostgresStore({ connectionString: url, instanceId: 'only' });
    },
  ],
];

test.each(stores)('on %s: closed mid-retry, reopened, the kill switch flattens and records its result', async (_name, storeFactory) => {
  const makeStore = await storeFactory();
  const clock = createSimulatedClock(FRIDAY_11AM);
  const killSwitch = { maxRetries: 5, backoffMs: 1000 };
  const first = await openStrategySystem({ store: makeStore(), variants, clock, killSwitch });
  await first.add(lt112, { id: 'lt' });
  await first.add(lt112, { id: 'flat' });
  for (const e of toPosition) await first.send('lt', e);
  const firstOrders = broker(first, clock, ['reject']);

  const run = await first.startKillSwitch('risk desk: flatten all', 'risk-desk');
  const interrupted = expect(run.done).rejects.toThrow(KillSwitchInterruptedError);
  await advance(first, clock, 600); // the exit is rejected at +100 ms; the retry is due at +1100 ms
  expect(first.get('lt').state).toBe('PENDING_EXIT');
  await first.close();
  await interrupted;
  expect(fromEleven(firstOrders)).toEqual([0]);

  const second = await openStrategySystem({ store: makeStore(), variants, clock, killSwitch });
  expect(second.tradingState).toBe('HALTED');
  expect(second.tradingStateHistory().at(-1)).toMatchObject({
    to: 'HALTED',
    reason: 'kill switch: risk desk: flatten all',
    operator: 'risk-desk',
  });
  const secondOrders = broker(second, clock, ['reject', 'fill']);
  expect(second.resumedKillSwitch).toBeDefined();
  await advance(second, clock, 3000);
  const result = await second.resumedKillSwitch!.done;

  expect(result).toEqual({ reason: 'risk desk: flatten all', flattened: ['lt'], alreadyFlat: ['flat'], failed: [] });
  expect(second.get('lt').state).toBe('CLOSED');
  expect(second.get('lt').getSnapshot().context.position?.quantity ?? 0).toBe(0);
  // After the restart: an exit at once, rejected at +700 ms, retried after the 1 s backoff, filled.
  expect(fromEleven(secondOrders)).toEqual([600, 1700]);
  // Nobody else may place orders: still HALTED once the kill switch is done.
  expect(second.tradingState).toBe('HALTED');
  await second.close();

  const stored = await storedSystemState(makeStore());
  expect(stored.killSwitch).toMatchObject({
    reason: 'risk desk: flatten all',
    operator: 'risk-desk',
    startedAt: FRIDAY_11AM,
    pending: [],
    flattened: ['lt'],
    alreadyFlat: ['flat'],
    failed: [],
  });
  expect(stored.killSwitch!.finishedAt).toBeGreaterThan(FRIDAY_11AM);

  // A third start has nothing to resume.
  const third = await openStrategySystem({ store: makeStore(), variants, clock });
  expect(third.resumedKillSwitch).toBeUndefined();
  await third.close();
});

test('an unfinished kill switch that an operator overruled (ACTIVE again) is not resumed: positions opened since are left alone', async () => {
  const file = join(dir, 'strategies.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const first = await openStrategySystem({ store: new SqliteStore(file), variants, clock });
  await first.add(lt112, { id: 'lt' });
  for (const e of toPosition) await first.send('lt', e);
  broker(first, clock, ['reject']);
  const run = await first.startKillSwitch('drill');
  const interrupted = expect(run.done).rejects.toThrow(KillSwitchInterruptedError);
  await advance(first, clock, 300);
  await first.close();
  await interrupted;

  const store = new SqliteStore(file);
  await store.open();
  await store.saveTradingState({ to: 'ACTIVE', reason: 'drill over', operator: 'ops', at: clock.now() });
  await store.close();

  const second = await openStrategySystem({ store: new SqliteStore(file), variants, clock });
  expect(second.tradingState).toBe('ACTIVE');
  expect(second.resumedKillSwitch).toBeUndefined();
  await advance(second, clock, 3000);
  expect(second.get('lt').state).toBe('PENDING_EXIT');
  expect(second.get('lt').getSnapshot().context.position?.quantity).toBe(2);
  await second.close();
});
