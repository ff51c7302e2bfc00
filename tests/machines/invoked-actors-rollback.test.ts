/**
 * A transition that is rolled back (a hook throws, the store refuses the write) puts the strategy
 * back where it was, and with it the actors its state invokes. XState stops the state's actors as
 * the transition leaves it; the rollback restores the actor from the snapshot before it. Before,
 * that snapshot's children were the same, already stopped, actors: the strategy stayed in MANAGING
 * with a position nobody watched, and the stopped monitor was written to the store and survived a
 * restart.
 */
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { StoreUnavailableError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { MemoryStore } from '../../services/store/memoryStore';
import type { StrategyWrite } from '../../services/store/types';
import { FRIDAY_11AM, VARIANTS, drive, managing } from '../support/fixtures';
import { countingMonitor } from '../support/monitors';

/** A position monitor that counts the instances running, and keeps the newest one's sendBack. */
const toManaging = managing(VARIANTS[1].entry, 2);

test('a hook that aborts the move out of MANAGING leaves the position monitor running, in memory, in the persisted form and after a restore', async () => {
  const { monitor, logic } = countingMonitor();
  let failing = false;
  const machine = createStrategyMachine(lt112).provide({ actors: { positionMonitor: logic } });
  const clock = createSimulatedClock(FRIDAY_11AM);
  const strategy = createStrategyActor(machine, {
    id: 'lt',
    clock,
    hooks: {
      onExit: {
        MANAGING: () => {
          if (failing) throw new Error('risk system unreachable');
        },
      },
    },
  });
  drive(strategy, toManaging);
  expect(monitor.running).toBe(1);

  failing = true;
  expect(strategy.trigger({ type: 'MARGIN_CALL' })).toMatchObject({ accepted: false, code: 'HOOK_FAILED' });
  expect(strategy.state).toBe('MANAGING');
  expect(monitor.running).toBe(1); // watched again: the rollback started a monitor
  expect(strategy.actorRef.getSnapshot().children.positionMonitor?.getSnapshot().status).toBe('active');
  const persisted = JSON.parse(JSON.stringify(strategy.getPersistedSnapshot())) as {
    snapshot: { children: Record<string, { snapshot: { status: string } }> };
  };
  expect(persisted.snapshot.children.positionMonitor.snapshot.status).toBe('active');

  // The restarted monitor's report goes through, as any.
  failing = false;
  monitor.ask?.({ type: 'VIX_SPIKE', vix: 40 });
  await new Promise<void>((resolve) => setImmediate(resolve));
  expect(strategy.state).toBe('PENDING_EXIT');
  expect(monitor.running).toBe(0);
  strategy.stop();

  // A strategy restored from the persisted form of the rolled-back state runs its monitor.
  const restored = createStrategyActor(machine, { id: 'lt', clock, snapshot: persisted as never });
  expect(restored.state).toBe('MANAGING');
  expect(monitor.running).toBe(1);
  restored.stop();
});

test('a store write that fails leaves the position monitor running, and the strategy acts on its reports', async () => {
  const { monitor, logic } = countingMonitor();
  class FailingOnce extends MemoryStore {
    failNext = false;
    override append(write: StrategyWrite) {
      if (this.failNext) {
        this.failNext = false;
        throw new StoreUnavailableError('memory', 'disk full');
      }
      return super.append(write);
    }
  }
  const store = new FailingOnce();
  const variant = { ...lt112, actors: { positionMonitor: logic } };
  const system = createStrategySystem({ store, clock: createSimulatedClock(FRIDAY_11AM) });
  system.add(variant, { id: 'lt' });
  for (const event of toManaging) expect(system.send('lt', event).accepted).toBe(true);
  expect(monitor.running).toBe(1);

  store.failNext = true;
  expect(() => system.send('lt', { type: 'MARGIN_CALL' })).toThrow(StoreUnavailableError);
  expect(system.get('lt').state).toBe('MANAGING');
  expect(monitor.running).toBe(1);

  monitor.ask?.({ type: 'VIX_SPIKE', vix: 40 });
  await new Promise<void>((resolve) => setImmediate(resolve));
  expect(system.get('lt').state).toBe('PENDING_EXIT');
  system.stop();
});
