/**
 * A kill switch stores HALTED first and its run's first step after it. A process killed between
 * the two writes (kill -9, power loss) leaves HALTED in force with no run stored: the next open
 * starts the run from that HALTED and flattens every position, and an instance following the
 * shared store carries it on too. Before, the positions stayed open, silently, and `status`
 * showed no run.
 */
import { join } from 'node:path';
import { renderStatus, statusOf, systemStatusOf } from '../../bin/cli/status';
import { InvalidOptionsError } from '../../machines/errors';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { PostgresStore } from '../../services/store/postgresStore';
import { SqliteStore } from '../../services/store/sqliteStore';
import type { StrategyStore } from '../../services/store/types';
import { tempDir } from '../persistence/helpers';
import { eventually, freshDatabase } from '../persistence/pg';
import { exitBroker } from '../support/exitBroker';
import { FRIDAY_11AM } from '../support/fixtures';
import { advance, storedSystemState, toPosition } from '../support/persistedSteps';

const variants = [zeroDte, lt112, strangle];

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('sl-kill-start-')));
afterEach(() => cleanup());

const quantity = (system: PersistentStrategySystem, id: string) => system.get(id).getSnapshot().context.position?.quantity ?? 0;

const stores: Array<[string, () => Promise<() => StrategyStore>]> = [
  ['SQLite', async () => () => new SqliteStore(join(dir, 'strategies.db'))],
  [
    'PostgreSQL',
    async () => {
      const url = await freshDatabase('killstart');
      return () => new PostgresStore({ connectionString: url, instanceId: 'only' });
    },
  ],
];

test.each(stores)(
  'on %s: killed after HALTED was stored and before the run was, the reopened system starts the run and flattens',
  async (_name, storeFactory) => {
    const makeStore = await storeFactory();
    const clock = createSimulatedClock(FRIDAY_11AM);
    const first = await openStrategySystem({ store: makeStore(), variants, clock });
    await first.add(lt112, { id: 'lt' });
    await first.add(lt112, { id: 'flat' });
    for (const e of toPosition) await first.send('lt', e);
    await first.close();

    // What the kill switch's first write leaves when the process dies right after it.
    clock.increment(1000);
    const pressedAt = clock.now();
    const crashed = makeStore();
    await crashed.open();
    await crashed.saveTradingState({ to: 'HALTED', reason: 'kill switch: risk desk: flatten all', operator: 'risk-desk', at: pressedAt });
    const left = await crashed.loadSystemState();
    await crashed.close();
    expect(left.killSwitch).toBeNull();
    // `status` tells the operator: the run is not finished and the service carries it on.
    expect(systemStatusOf(left).killSwitch).toMatchObject({
      reason: 'risk desk: flatten all',
      operator: 'risk-desk',
      finishedAt: null,
      overruled: false,
      interruptedStart: true,
    });
    expect(renderStatus(statusOf('strategies.db', [], left), [])).toMatch(
      /^Kill switch: "risk desk: flatten all" by risk-desk, started .*, NOT FINISHED: interrupted before its first step was stored .* flattens every position$/m,
    );

    clock.increment(1000);
    const second = await openStrategySystem({ store: makeStore(), variants, clock, killSwitch: { maxRetries: 5, backoffMs: 1000 } });
    expect(second.tradingState).toBe('HALTED');
    const orders = exitBroker(second, clock, () => 'fill');
    expect(second.resumedKillSwitch).toBeDefined();
    await advance(second, clock, 1000);
    const result = await second.resumedKillSwitch!.done;
    expect(result).toEqual({ reason: 'risk desk: flatten all', flattened: ['lt'], alreadyFlat: ['flat'], failed: [] });
    expect(orders).toHaveLength(1);
    expect(second.get('lt').state).toBe('CLOSED');
    expect(quantity(second, 'lt')).toBe(0);
    expect(second.tradingState).toBe('HALTED');
    await second.close();

    const stored = await storedSystemState(makeStore());
    // The run as the kill switch's first step would have stored it: known by its HALTED.
    expect(stored.killSwitch).toMatchObject({
      reason: 'risk desk: flatten all',
      operator: 'risk-desk',
      startedAt: pressedAt,
      tradingStateChanges: stored.tradingStateHistory.length,
      pending: [],
      flattened: ['lt'],
      alreadyFlat: ['flat'],
    });
    expect(stored.killSwitch!.finishedAt).not.toBeNull();
    expect(systemStatusOf(stored).killSwitch).not.toHaveProperty('interruptedStart');

    // Finished: a third open has nothing to carry on.
    const third = await openStrategySystem({ store: makeStore(), variants, clock });
    expect(third.resumedKillSwitch).toBeUndefined();
    await third.close();
  },
);

test("an interrupted start overruled by ACTIVE is not started again; an operator's own HALTED cannot pass for a kill switch's", async () => {
  const file = join(dir, 'strategies.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const first = await openStrategySystem({ store: new SqliteStore(file), variants, clock });
  await first.add(lt112, { id: 'lt' });
  for (const e of toPosition) await first.send('lt', e);
  await first.close();

  const store = new SqliteStore(file);
  await store.open();
  await store.saveTradingState({ to: 'HALTED', reason: 'kill switch: drill', operator: 'ops', at: clock.now() });
  await store.saveTradingState({ to: 'ACTIVE', reason: 'drill over', operator: 'ops', at: clock.now() });
  await store.close();

  const second = await openStrategySystem({ store: new SqliteStore(file), variants, clock });
  expect(second.tradingState).toBe('ACTIVE');
  expect(second.resumedKillSwitch).toBeUndefined();
  await advance(second, clock, 1000);
  expect(quantity(second, 'lt')).toBe(2);
  // An operator's own HALTED cannot pass for a kill switch's: refused by name, nothing written.
  await expect(second.setTradingState('HALTED', 'kill switch: by hand', 'ops')).rejects.toThrow(InvalidOptionsError);
  await expect(second.setTradingState('HALTED', 'kill switch: by hand', 'ops')).rejects.toThrow(
    /reason must not start with "kill switch: "/,
  );
  expect(second.tradingState).toBe('ACTIVE');
  await second.setTradingState('HALTED', 'confirmed halt', 'ops');
  expect(second.resumedKillSwitch).toBeUndefined();
  await second.close();

  const third = await openStrategySystem({ store: new SqliteStore(file), variants, clock });
  expect(third.tradingState).toBe('HALTED');
  expect(third.resumedKillSwitch).toBeUndefined();
  await advance(third, clock, 1000);
  expect(quantity(third, 'lt')).toBe(2);
  await third.close();
});

test('PostgreSQL, several instances: an instance killed between HALTED and its run, the live one flattens what it holds and the run is recorded once', async () => {
  const url = await freshDatabase('killstart_shared');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const b = await openStrategySystem({
    store: new PostgresStore({ connectionString: url, instanceId: 'b', leaseMs: 15_000 }),
    variants,
    clock,
  });
  await b.add(lt112, { id: 'lt-b' });
  for (const e of toPosition) await b.send('lt-b', e);
  const orders = exitBroker(b, clock, () => 'fill');

  // Instance "a" stores the kill switch's HALTED and dies before its run's first step.
  const a = new PostgresStore({ connectionString: url, instanceId: 'a', leaseMs: 15_000 });
  await a.open();
  await a.saveTradingState({ to: 'HALTED', reason: 'kill switch: risk desk', operator: 'risk-desk', at: clock.now() });
  await a.close();

  // B hears of it through NOTIFY (no lease round: the clock stands still) and flattens what it holds.
  await eventually(() => b.get('lt-b').state === 'EXITING', "B's exit");
  await advance(b, clock, 200);
  expect(quantity(b, 'lt-b')).toBe(0);
  expect(orders).toHaveLength(1);
  await eventually(async () => (await b.store.loadSystemState()).killSwitch?.finishedAt != null, 'the run finished');
  const stored = await b.store.loadSystemState();
  expect(stored.killSwitch).toMatchObject({ reason: 'risk desk', operator: 'risk-desk', flattened: ['lt-b'], pending: [], failed: [] });
  expect(stored.killSwitchParts.map((p) => p.instanceId)).toEqual(['b']);
  // More refreshes (lease rounds) do not flatten again or start a second run.
  await advance(b, clock, 6000, 1000);
  expect(orders).toHaveLength(1);
  expect((await b.store.loadSystemState()).killSwitch).toMatchObject({ startedAt: stored.killSwitch!.startedAt });
  await b.close();
});
