/**
 * `onKillSwitchEnd` of openStrategySystem is told once when each kill switch run ends, whatever
 * started it: `startKillSwitch` called in code, a run resumed at an open. Before, only the HTTP
 * route saw a run's result (it awaits `done`): a run started in code or resumed after a restart
 * ended unseen by the service's metrics.
 */
import { join } from 'node:path';
import { KillSwitchInterruptedError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import type { KillSwitchEnd } from '../../services/runtime/persistentSafety';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { exitBroker } from '../support/exitBroker';
import { FRIDAY_11AM, VARIANTS, managing } from '../support/fixtures';
import { tempDir } from './helpers';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

test('each run ends once in onKillSwitchEnd: flat, failed, interrupted by a close, and resumed after the restart', async () => {
  const { dir, cleanup } = tempDir('kill-switch-end-');
  const file = join(dir, 'k.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const ends: Array<KillSwitchEnd['outcome']> = [];
  const open = () =>
    openStrategySystem({
      store: new SqliteStore(file, { checkEveryMs: 0 }),
      variants: [lt112],
      clock,
      onStoreError: () => undefined,
      killSwitch: { maxRetries: 0 },
      onKillSwitchEnd: (end) => ends.push(end.outcome),
    });
  try {
    const first = await open();
    // 'a' is refused every exit (it fails); 'b''s exit is not answered before the close (the clock stands still).
    exitBroker(first, clock, (id) => (id === 'a' ? 'reject' : 'fill'));

    await (
      await first.startKillSwitch('nothing held')
    ).done;
    expect(ends).toEqual(['flat']);

    await first.setTradingState('ACTIVE', 'drill over', 'ops');
    await first.add(lt112, { id: 'a' });
    for (const e of managing(VARIANTS[1].entry, 2)) await first.send('a', e);
    const failing = await first.startKillSwitch('exit refused');
    let result: Awaited<typeof failing.done> | undefined;
    void failing.done.then(
      (r) => (result = r),
      () => undefined,
    );
    for (let i = 0; i < 200 && !result; i++) {
      clock.increment(100);
      await turn();
    }
    expect(result?.failed.map((f) => f.strategyId)).toEqual(['a']);
    await turn();
    expect(ends).toEqual(['flat', 'failed']);

    await first.setTradingState('ACTIVE', 'a is held for an operator', 'ops');
    await first.add(lt112, { id: 'b' });
    for (const e of managing(VARIANTS[1].entry, 2)) await first.send('b', e);
    const interrupted = await first.startKillSwitch('closed while flattening');
    for (let i = 0; i < 50 && first.get('b').state !== 'EXITING'; i++) await turn();
    expect(first.get('b').state).toBe('EXITING');
    await first.close();
    await expect(interrupted.done).rejects.toBeInstanceOf(KillSwitchInterruptedError);
    expect(ends).toEqual(['flat', 'failed', 'interrupted']);

    const second = await open();
    try {
      expect(second.resumedKillSwitch).toBeDefined();
      // 'a', held in ERROR with its position, is this run's to flatten too: refused again, it fails.
      exitBroker(second, clock, (id) => (id === 'a' ? 'reject' : 'fill'));
      // The exit orders the first instance left working are answered now.
      await second.send('b', { type: 'ORDER_FILLED', quantity: 2 } as never);
      await second.send('a', { type: 'ORDER_REJECTED', reason: 'no liquidity' } as never);
      let resumed: Awaited<typeof failing.done> | undefined;
      void second.resumedKillSwitch!.done.then(
        (r) => (resumed = r),
        () => undefined,
      );
      for (let i = 0; i < 200 && !resumed; i++) {
        clock.increment(100);
        await turn();
      }
      expect(resumed).toMatchObject({ reason: 'closed while flattening', flattened: ['b'], failed: [{ strategyId: 'a' }] });
      await turn();
      expect(ends).toEqual(['flat', 'failed', 'interrupted', 'failed']);
    } finally {
      await second.close();
    }
    // Told once each: nothing more at the close of a finished run.
    expect(ends).toHaveLength(4);
  } finally {
    cleanup();
  }
});

test('a run resumed at an open and closed in the same tick, before it could join, ends once as interrupted', async () => {
  const { dir, cleanup } = tempDir('kill-switch-end-');
  const file = join(dir, 'k.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const ends: Array<KillSwitchEnd['outcome']> = [];
  const open = () =>
    openStrategySystem({
      store: new SqliteStore(file, { checkEveryMs: 0 }),
      variants: [lt112],
      clock,
      onStoreError: () => undefined,
      onKillSwitchEnd: (end) => ends.push(end.outcome),
    });
  try {
    const first = await open();
    await first.add(lt112, { id: 'a' });
    for (const e of managing(VARIANTS[1].entry, 2)) await first.send('a', e);
    await first.startKillSwitch('test');
    for (let i = 0; i < 50 && first.get('a').state !== 'EXITING'; i++) await turn();
    await first.close();
    expect(ends).toEqual(['interrupted']);

    const second = await open();
    const resumed = second.resumedKillSwitch;
    expect(resumed).toBeDefined();
    await second.close(); // same tick as the open's answer: the run never joined here
    await expect(resumed!.done).rejects.toBeInstanceOf(KillSwitchInterruptedError);
    expect(ends).toEqual(['interrupted', 'interrupted']);
  } finally {
    cleanup();
  }
});
