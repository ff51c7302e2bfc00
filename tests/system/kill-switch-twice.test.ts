/**
 * An operator who presses the kill switch twice (or two operators at once). Before, the second run
 * waited on the strategy the first run was already flattening: the first run finished and was
 * reported, the second stayed unfinished (stored with `finishedAt: null` and the strategy
 * pending) until a restart, and its outcome never came.
 */
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM, VARIANTS, managing } from '../support/fixtures';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

test('a second kill switch while the first is flattening: both finish when the position is flat, and the stored run is finished', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const store = new SqliteStore(`${dir}/ks.db`);
  const system = await openStrategySystem({ store, variants: [lt112], clock });
  await system.add(lt112, { id: 'held' });
  await system.add(lt112, { id: 'flat' });
  for (const event of managing(VARIANTS[1].entry, 2)) await system.send('held', event);

  const first = system.killSwitch('eod', 'alice');
  const second = system.killSwitch('again', 'bob');
  await new Promise<void>((resolve) => setImmediate(resolve));
  await system.flush();
  expect(system.get('held').state).toBe('EXITING');
  expect(
    system
      .get('held')
      .getAuditTrail()
      .filter((r) => r.trigger === 'EMERGENCY_EXIT' && r.accepted),
  ).toHaveLength(1);

  // The broker fills the one exit order.
  await system.send('held', { type: 'ORDER_FILLED', quantity: 2, eventId: 'exit-fill-1' });
  const [a, b] = await Promise.all([first, second]);
  expect(a).toMatchObject({ reason: 'eod', flattened: ['held'], failed: [] });
  expect(b).toMatchObject({ reason: 'again', flattened: ['held'], failed: [] });
  expect(system.get('held').state).toBe('CLOSED');
  const stored = await store.loadSystemState();
  expect(stored.killSwitch).toMatchObject({ reason: 'again', finishedAt: expect.any(Number), pending: [] });
  await system.close();
});

test("the same in memory: the second run waits for the first run's exit and both resolve once it fills", async () => {
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add(lt112, { id: 'held' });
  for (const event of managing(VARIANTS[1].entry, 2)) expect(system.send('held', event).accepted).toBe(true);
  const first = system.killSwitch('eod');
  const second = system.killSwitch('again');
  await new Promise<void>((resolve) => setImmediate(resolve));
  expect(system.get('held').state).toBe('EXITING');
  expect(system.send('held', { type: 'ORDER_FILLED', quantity: 2, eventId: 'exit-fill-1' }).accepted).toBe(true);
  const [a, b] = await Promise.all([first, second]);
  expect(a).toMatchObject({ reason: 'eod', flattened: ['held'] });
  expect(b).toMatchObject({ reason: 'again', flattened: ['held'] });
  system.stop();
});
