/**
 * `createStrategyActor(machine, { snapshot })` refuses a persisted strategy whose snapshot the
 * chart cannot take (a state, or a substate, it does not have) as `system.add` does: a
 * SnapshotRestoreError naming the problem, instead of returning a strategy whose actor already
 * failed (its `state` threw a TypeError, every trigger answered ACTOR_STOPPED).
 */
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { SnapshotRestoreError } from '../../machines/errors';
import { lt112, strangle } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { FRIDAY_11AM } from '../support/fixtures';

test('a snapshot in a state the chart does not have: createStrategyActor throws SnapshotRestoreError', () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const machine = createStrategyMachine(lt112);
  const source = createStrategyActor(machine, { id: 'source', clock });
  source.trigger({ type: 'MARKET_OPEN' });
  const persisted = source.getPersistedSnapshot();
  const broken = { ...persisted, snapshot: { ...persisted.snapshot, value: 'NO_SUCH_STATE' } };
  const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    expect(() => createStrategyActor(machine, { snapshot: broken, clock })).toThrow(SnapshotRestoreError);
    expect(() => createStrategyActor(machine, { snapshot: broken, clock })).toThrow(
      /the snapshot does not fit the chart: State 'NO_SUCH_STATE' does not exist/,
    );
    // Refused before it runs: nothing was reported as a failed actor.
    expect(errors).not.toHaveBeenCalled();
  } finally {
    errors.mockRestore();
  }
  // The whole snapshot restores and runs.
  const restored = createStrategyActor(machine, { snapshot: persisted, clock });
  expect(restored.state).toBe('READY');
  expect(restored.trigger({ type: 'TIME_WINDOW_START' })).toMatchObject({ accepted: true, to: 'ANALYZING' });
});

test('a snapshot in a substate the variant does not have is refused the same way', () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const machine = createStrategyMachine(strangle);
  const source = createStrategyActor(machine, { id: 'source', clock });
  source.trigger({ type: 'MARKET_OPEN' });
  const persisted = source.getPersistedSnapshot();
  const broken = { ...persisted, snapshot: { ...persisted.snapshot, value: { ADJUSTING: 'NO_SUCH_SUBSTATE' } } };
  const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    expect(() => createStrategyActor(machine, { snapshot: broken, clock })).toThrow(SnapshotRestoreError);
    expect(errors).not.toHaveBeenCalled();
  } finally {
    errors.mockRestore();
  }
});
