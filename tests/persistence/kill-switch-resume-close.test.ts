/**
 * A close in the same tick as the open that resumes a stored kill switch (nothing left to flatten
 * here: its positions filled before the previous close) settles `resumedKillSwitch.done`: it
 * rejects with KillSwitchInterruptedError and the run stays stored (it never settled before).
 */
import { join } from 'node:path';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM, VARIANTS, managing, outcomeOf } from '../support/fixtures';
import { tempDir } from './helpers';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
test('close in the same tick as an open that resumes a run with nothing to flatten: resumedKillSwitch.done settles', async () => {
  const { dir, cleanup } = tempDir('kill-switch-resume-close-');
  const file = join(dir, 'k.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const errors: unknown[] = [];
  const open = () =>
    openStrategySystem({
      store: new SqliteStore(file, { checkEveryMs: 0 }),
      variants: [lt112],
      clock,
      onStoreError: (e) => errors.push(e),
    });
  try {
    const first = await open();
    for (const id of ['a', 'b']) {
      await first.add(lt112, { id });
      for (const e of managing(VARIANTS[1].entry, 2)) await first.send(id, e);
    }
    await first.startKillSwitch('test');
    for (let i = 0; i < 50 && !['a', 'b'].every((id) => first.get(id).state === 'EXITING'); i++) await turn();
    expect(['a', 'b'].map((id) => first.get(id).state)).toEqual(['EXITING', 'EXITING']);
    // Both exits fill; the close comes before the run's finishing step.
    const fills = ['a', 'b'].map((id) => first.send(id, { type: 'ORDER_FILLED', quantity: 2 } as never));
    await first.close();
    await Promise.allSettled(fills);

    const second = await open();
    const resumed = second.resumedKillSwitch;
    expect(resumed).toBeDefined(); // the stored run did not finish
    expect(['a', 'b'].map((id) => second.peek(id).state)).toEqual(['CLOSED', 'CLOSED']); // nothing left to flatten
    const done = outcomeOf(resumed!.done);
    await second.close(); // same tick as the open's answer
    await Promise.race([resumed!.done.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2000))]);
    expect(done).toEqual({ settled: 'rejected', error: 'KillSwitchInterruptedError' });
  } finally {
    cleanup();
  }
});

test('control: the same resumed run, not closed at once, resolves', async () => {
  const { dir, cleanup } = tempDir('kill-switch-resume-close-');
  const file = join(dir, 'k.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const open = () =>
    openStrategySystem({ store: new SqliteStore(file, { checkEveryMs: 0 }), variants: [lt112], clock, onStoreError: () => undefined });
  try {
    const first = await open();
    for (const id of ['a', 'b']) {
      await first.add(lt112, { id });
      for (const e of managing(VARIANTS[1].entry, 2)) await first.send(id, e);
    }
    await first.startKillSwitch('test');
    for (let i = 0; i < 50 && !['a', 'b'].every((id) => first.get(id).state === 'EXITING'); i++) await turn();
    const fills = ['a', 'b'].map((id) => first.send(id, { type: 'ORDER_FILLED', quantity: 2 } as never));
    await first.close();
    await Promise.allSettled(fills);
    const second = await open();
    expect(second.resumedKillSwitch).toBeDefined();
    await expect(second.resumedKillSwitch!.done).resolves.toMatchObject({ reason: 'test' });
    await second.close();
  } finally {
    cleanup();
  }
});
