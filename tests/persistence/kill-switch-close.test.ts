/**
 * A close interrupts a running kill switch on purpose: its `done` rejects with
 * KillSwitchInterruptedError and its progress stays stored. Also when the close comes in the same
 * tick as the press, before the first step is stored (its `done` never settled then).
 */
import { join } from 'node:path';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM, VARIANTS, managing, outcomeOf } from '../support/fixtures';
import { tempDir } from './helpers';

const variants = [zeroDte, lt112, strangle];
// 0: close() in the same tick as startKillSwitch (its first step not yet stored); 1: one turn later.
test.each([0, 1])('close %i turns after startKillSwitch: start resolves, done rejects with KillSwitchInterruptedError', async (turns) => {
  const { dir, cleanup } = tempDir('kill-switch-close-');
  try {
    const clock = createSimulatedClock(FRIDAY_11AM);
    const system = await openStrategySystem({ store: new SqliteStore(join(dir, 'k.db'), { checkEveryMs: 0 }), variants, clock });
    for (const id of ['a', 'b', 'c']) {
      await system.add(lt112, { id });
      for (const e of managing(VARIANTS[1].entry, 2)) await system.send(id, e);
    }
    const start = system.startKillSwitch('test');
    const startState = outcomeOf(start);
    const doneState = outcomeOf(start.then((run) => run.done));
    for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    await system.close();
    // The outcome, or (the defect) a promise still pending after a generous bound.
    const settled = start
      .then((run) => run.done)
      .then(
        () => undefined,
        () => undefined,
      );
    await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 2000))]);
    expect({ start: startState, done: doneState }).toEqual({
      start: { settled: 'resolved' },
      done: { settled: 'rejected', error: 'KillSwitchInterruptedError' },
    });
    // Its progress was stored: the next open carries on and flattens all three.
    const reopened = await openStrategySystem({ store: new SqliteStore(join(dir, 'k.db'), { checkEveryMs: 0 }), variants, clock });
    expect(reopened.resumedKillSwitch).toBeDefined();
    expect(reopened.tradingState).toBe('HALTED');
    // Its exits start once the open has returned (a turn of the event loop later).
    const exiting = () => ['a', 'b', 'c'].every((id) => reopened.get(id).state === 'EXITING');
    for (let i = 0; i < 50 && !exiting(); i++) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(['a', 'b', 'c'].map((id) => reopened.get(id).state)).toEqual(['EXITING', 'EXITING', 'EXITING']);
    await reopened.close();
  } finally {
    cleanup();
  }
});
