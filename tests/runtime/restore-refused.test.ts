/**
 * A persisted strategy whose snapshot the chart cannot take (a state it does not have) is refused
 * by `add`, before its actor starts: a SnapshotRestoreError, and the system, its coordinator and
 * the other strategies run on. The snapshot is restored once, by the actor that would run it.
 */
import { SnapshotRestoreError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FRIDAY_11AM } from '../support/fixtures';

test('a snapshot in a state the chart does not have: add throws SnapshotRestoreError and starts nothing', () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = createStrategySystem({ clock });
  system.add(lt112, { id: 'source' });
  system.send('source', { type: 'MARKET_OPEN' });
  const persisted = system.get('source').getPersistedSnapshot();
  const broken = { ...persisted, strategyId: 'broken', snapshot: { ...persisted.snapshot, value: 'NO_SUCH_STATE' } };

  expect(() => system.add(lt112, { id: 'broken', snapshot: broken })).toThrow(SnapshotRestoreError);
  expect(() => system.add(lt112, { id: 'broken', snapshot: broken })).toThrow(/the snapshot does not fit the chart: /);
  expect(system.ids()).toEqual(['source']);
  // The same snapshot, whole, restores under that id; the system and its neighbour run on.
  const restored = system.add(lt112, { id: 'broken', snapshot: { ...persisted, strategyId: 'broken' } });
  expect(restored.state).toBe('READY');
  expect(system.send('source', { type: 'TIME_WINDOW_START' })).toMatchObject({ accepted: true, to: 'ANALYZING' });
  expect(system.send('broken', { type: 'TIME_WINDOW_START' })).toMatchObject({ accepted: true, to: 'ANALYZING' });
  system.stop();
});
