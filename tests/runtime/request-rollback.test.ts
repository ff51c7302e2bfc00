/**
 * A monitor's request asked in MANAGING still stands when an unrelated transition is rolled back to
 * that same MANAGING stay (a throwing hook in memory, a refused write in a persistent system). An
 * earlier version of the stay check compared the actor and its invoked children by identity: the
 * rollback replaced them, so the request was dropped, though the strategy never left MANAGING and
 * its (restarted) monitor ran on. The emergency exit was lost.
 */
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { join } from 'node:path';
import { StoreUnavailableError } from '../../machines/errors';
import { SqliteStore } from '../../services/store/sqliteStore';
import type { StrategyWrite } from '../../services/store/types';
import { tempDir } from '../persistence/helpers';
import { FlakyMemoryStore } from '../support/flakyStore';
import { drive, FRIDAY_11AM, managing, VARIANTS } from '../support/fixtures';
import { countingMonitor } from '../support/monitors';

class FlakySqlite extends SqliteStore {
  full = false;
  refused = 0;
  override append(write: StrategyWrite): Promise<void> {
    if (this.full && write.state === 'PENDING_EXIT') {
      this.refused++;
      return Promise.reject(new StoreUnavailableError('sqlite', 'disk full'));
    }
    return super.append(write);
  }
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
const entry = VARIANTS[1].entry;
const EXIT = { type: 'EMERGENCY_EXIT', reason: 'monitor: gap down' } as const;

function throwingOnVix() {
  return {
    onTransition: ({ record }: { record: { trigger: string } }) => {
      if (record.trigger === 'VIX_SPIKE') throw new Error('hook bug');
    },
  };
}

test('createStrategyActor: an exit asked in MANAGING survives a rolled-back VIX_SPIKE (still MANAGING, monitor running)', async () => {
  const { monitor, logic } = countingMonitor();
  const strategy = createStrategyActor(
    createStrategyMachine({ ...lt112, hooks: throwingOnVix() }).provide({ actors: { positionMonitor: logic } }),
    {
      id: 'lt',
      clock: createSimulatedClock(FRIDAY_11AM),
    },
  );
  drive(strategy, managing(entry));
  monitor.ask!(EXIT);
  const vix = strategy.trigger({ type: 'VIX_SPIKE', vix: 40 } as never);
  expect(vix.accepted).toBe(false);
  expect(strategy.state).toBe('MANAGING');
  expect(monitor.running).toBe(1);
  await settle();
  expect(strategy.getAuditTrail().map((r) => r.trigger)).toContain('EMERGENCY_EXIT');
  strategy.stop();
});

test('in-memory system: the same', async () => {
  const { monitor, logic } = countingMonitor();
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add({ ...lt112, hooks: throwingOnVix(), actors: { positionMonitor: logic } } as never, { id: 'lt' });
  for (const e of managing(entry)) expect(system.send('lt', e)).toMatchObject({ accepted: true });
  monitor.ask!(EXIT);
  expect(system.send('lt', { type: 'VIX_SPIKE', vix: 40 } as never)).toMatchObject({ accepted: false });
  expect(system.get('lt').state).toBe('MANAGING');
  await settle();
  expect(
    system
      .get('lt')
      .getAuditTrail()
      .map((r) => r.trigger),
  ).toContain('EMERGENCY_EXIT');
  system.stop();
});

test('in-memory system over a store that refuses the VIX_SPIKE write: the exit is still applied', async () => {
  const store = new FlakyMemoryStore((write) => write.state === 'PENDING_EXIT');
  const { monitor, logic } = countingMonitor();
  const system = createStrategySystem({ store, clock: createSimulatedClock(FRIDAY_11AM) });
  system.add({ ...lt112, actors: { positionMonitor: logic } }, { id: 'lt' });
  for (const e of managing(entry)) expect(system.send('lt', e)).toMatchObject({ accepted: true });
  store.full = true;
  monitor.ask!(EXIT);
  try {
    system.send('lt', { type: 'VIX_SPIKE', vix: 40 } as never);
  } catch {
    /* refused write */
  }
  store.full = false;
  // Rolled back: still MANAGING, its monitor running (restarted by the rollback).
  expect(store.refused).toBe(1);
  expect(system.get('lt').state).toBe('MANAGING');
  expect(monitor.running).toBe(1);
  for (let i = 0; i < 5; i++) await settle();
  expect(
    system
      .get('lt')
      .getAuditTrail()
      .map((r) => r.trigger),
  ).toContain('EMERGENCY_EXIT');
  system.stop();
});

test('persistent system: an exit queued behind a write the store refuses (rolled back to MANAGING) is still applied', async () => {
  const { dir, cleanup } = tempDir('sl-review-rb-');
  const store = new FlakySqlite(join(dir, 's.db'), { checkEveryMs: 0 });
  const { monitor, logic } = countingMonitor();
  const variant = { ...lt112, actors: { positionMonitor: logic } };
  const system = await openStrategySystem({ store, variants: [variant], clock: createSimulatedClock(FRIDAY_11AM) });
  try {
    await system.add(variant, { id: 'lt' });
    for (const e of managing(entry)) expect(await system.send('lt', e)).toMatchObject({ accepted: true });
    store.full = true;
    monitor.ask!(EXIT);
    await system.send('lt', { type: 'VIX_SPIKE', vix: 40 } as never).catch(() => undefined);
    store.full = false;
    for (let i = 0; i < 20; i++) await settle();
    expect(store.refused).toBe(1);
    // The exit was written and applied after the refused VIX_SPIKE was rolled back.
    expect((await store.readAuditTrail('lt')).map((r) => r.trigger)).toEqual(expect.arrayContaining(['EMERGENCY_EXIT']));
    expect(system.get('lt').getAuditTrail().at(-1)).toMatchObject({ trigger: 'EMERGENCY_EXIT', accepted: true, previousState: 'MANAGING' });
    expect(monitor.running).toBe(0); // MANAGING left: its monitor stopped
  } finally {
    await system.close();
    cleanup();
  }
});
