/**
 * A kill switch pressed on an instance whose clock is behind the clock of the instance that ran
 * the previous one. Before, every store load kept only the steps of the latest `started_at`, so
 * the newer run was invisible to every instance that had not joined it at once (one restarting,
 * one that took a position later): HALTED and a kill switch stored, positions left open. Now the
 * newest run is the one started after the most trading state changes, and instance C flattens.
 */
import type { StrategyEvent } from '../../machines/events';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock, type SimulatedClockHandle } from '../../services/market/clock';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { PostgresStore } from '../../services/store/postgresStore';
import type { KillSwitchProgress } from '../../services/store/types';
import { exitBroker } from '../support/exitBroker';
import { FRIDAY_11AM, VARIANTS, managing } from '../support/fixtures';
import { eventually, freshDatabase } from './pg';

const variants = [zeroDte, lt112, strangle];
const toPosition: StrategyEvent[] = managing(VARIANTS[1].entry, 2);
const LEASE = 15_000;

const instance = (url: string, id: string, clock: SimulatedClockHandle) =>
  openStrategySystem({
    store: new PostgresStore({ connectionString: url, instanceId: id, leaseMs: LEASE }),
    variants,
    clock,
    onStoreError: () => undefined,
    killSwitch: { maxRetries: 5, backoffMs: 1000 },
  });

test('a second kill switch from an instance whose clock is 2 s behind: instance C flattens its position', async () => {
  const url = await freshDatabase('ks_skew');
  const clockA = createSimulatedClock(FRIDAY_11AM + 2000); // 2 s ahead
  const clockB = createSimulatedClock(FRIDAY_11AM);
  const clockC = createSimulatedClock(FRIDAY_11AM);
  const a = await instance(url, 'a', clockA);
  const b = await instance(url, 'b', clockB);
  const c = await instance(url, 'c', clockC);
  const systems: PersistentStrategySystem[] = [a, b, c];
  try {
    void exitBroker(c, clockC, () => 'fill');
    // Run 1, from A: nothing held anywhere, it completes.
    await (
      await a.startKillSwitch('drill', 'ops')
    ).done;
    // The operator lifts the halt; C opens a position.
    await b.setTradingState('ACTIVE', 'drill over', 'ops');
    await eventually(() => c.tradingState === 'ACTIVE', 'C learns ACTIVE');
    await c.add(lt112, { id: 'lt-c' });
    for (const e of toPosition) await c.send('lt-c', e);
    expect(c.get('lt-c').getSnapshot().context.position?.quantity).toBe(2);

    // Run 2, from B (clock 2 s behind A's): HALTED is stored and a kill switch started.
    await b.startKillSwitch('real emergency', 'risk-desk');
    await eventually(() => c.tradingState === 'HALTED', 'C learns HALTED');
    const stored = await c.store.loadSystemState();
    expect(stored.killSwitch).toMatchObject({ reason: 'real emergency', finishedAt: null });
    // C should flatten its position (NOTIFY, or at the latest at the next lease round).
    clockC.increment(LEASE / 3);
    await eventually(() => c.get('lt-c').state === 'EXITING' || c.get('lt-c').state === 'CLOSED', "C's exit", 3000);
  } finally {
    for (const s of systems) await s.close().catch(() => undefined);
  }
}, 20_000);

test('two operators press the kill switch on A and B moments apart (A clock 5 ms ahead) while C restarts: C flattens too', async () => {
  const url = await freshDatabase('ks_double');
  const clockA = createSimulatedClock(FRIDAY_11AM + 5); // 5 ms ahead
  const clockB = createSimulatedClock(FRIDAY_11AM);
  const clockC = createSimulatedClock(FRIDAY_11AM);
  const a = await instance(url, 'a', clockA);
  const b = await instance(url, 'b', clockB);
  let c = await instance(url, 'c', clockC);
  try {
    await c.add(lt112, { id: 'lt-c' });
    for (const e of toPosition) await c.send('lt-c', e);
    await c.close(); // C restarts (a deploy) while the operators press
    await a.startKillSwitch('panic 1', 'alice');
    await b.startKillSwitch('panic 2', 'bob');
    c = await instance(url, 'c', clockC);
    void exitBroker(c, clockC, () => 'fill');
    const stored = await c.store.loadSystemState();
    // B's run, the newer (after both HALTED changes), though A's clock stamped its own later.
    expect(stored.killSwitch).toMatchObject({ reason: 'panic 2', tradingStateChanges: stored.tradingStateHistory.length });
    expect(c.resumedKillSwitch).toBeDefined();
    clockC.increment(LEASE / 3);
    await eventually(() => c.get('lt-c').state === 'EXITING' || c.get('lt-c').state === 'CLOSED', "C's exit", 3000);
  } finally {
    for (const s of [a, b, c]) await s.close().catch(() => undefined);
  }
}, 20_000);

test('a step written before runs carried their count does not hide a newer run (PostgreSQL)', async () => {
  const url = await freshDatabase('ks_legacy');
  const store = new PostgresStore({ connectionString: url, instanceId: 'a' });
  await store.open();
  try {
    const legacy = {
      reason: 'old release drill',
      operator: 'ops',
      startedAt: 9_000,
      at: 9_000,
      pending: [],
      flattened: [],
      alreadyFlat: [],
      failed: [],
      finishedAt: 9_500,
    };
    await store.saveKillSwitch(legacy as unknown as KillSwitchProgress);
    expect((await store.loadSystemState()).killSwitch).toMatchObject({ reason: 'old release drill' });
    await store.saveKillSwitch({
      ...legacy,
      reason: 'panic',
      startedAt: 5_000,
      at: 5_000,
      pending: ['s'],
      finishedAt: null,
      tradingStateChanges: 0,
    });
    expect((await store.loadSystemState()).killSwitch).toMatchObject({ reason: 'panic', finishedAt: null });
  } finally {
    await store.close();
  }
});
