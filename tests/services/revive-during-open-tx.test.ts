/**
 * The revival of the stopped invoked actors after a foreign event was undone and refused waits for
 * a transaction under way (a write on an async store) and looks again after it. Before, a timer
 * that fired during one skipped the revival for good when that transaction changed nothing (a
 * refusal): the position monitor stayed stopped.
 */
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import type { StrategyWrite } from '../../services/store/types';
import { join } from 'node:path';
import { FRIDAY_11AM, VARIANTS, managing } from '../support/fixtures';
import { countingMonitor } from '../support/monitors';
import { tempDir } from '../persistence/helpers';

/** A temp dir per test, removed after it. */
const dirs = (() => {
  let cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const done of cleanups) done();
    cleanups = [];
  });
  return {
    next(): string {
      const { dir, cleanup } = tempDir('sl-revive-');
      cleanups.push(cleanup);
      return dir;
    },
  };
})();

class LaterStore extends SqliteStore {
  releaseWrite: (() => void) | null = null;
  later = false;
  override append(write: StrategyWrite) {
    if (!this.later) return super.append(write);
    return new Promise<void>((resolve) => {
      this.releaseWrite = () => resolve(super.append(write));
    });
  }
}
const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
};

jest.setTimeout(15000);
test('a revival timer firing during an open (refused) transaction: the monitor runs again later', async () => {
  const { monitor, logic } = countingMonitor();
  const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    const clock = createSimulatedClock(FRIDAY_11AM);
    const store = new LaterStore(join(dirs.next(), 's.db'));
    const variant = { ...lt112, actors: { positionMonitor: logic } };
    const system = await openStrategySystem({ store, variants: [variant], clock });
    await system.add(variant, { id: 'lt', params: { underlying: 'SPX' } });
    for (const e of managing(VARIANTS[1].entry)) expect((await system.send('lt', e)).accepted).toBe(true);
    expect(monitor.running).toBe(1);
    await system.setTradingState('HALTED', 'risk desk');
    monitor.send?.({ type: 'MARGIN_CALL' }); // bare
    await settle();
    expect(system.get('lt').state).toBe('MANAGING');
    expect(monitor.running).toBe(0);
    // A refused event whose write is under way when the revival timer fires.
    store.later = true;
    const pending = system.send('lt', { type: 'MARGIN_CALL' });
    await settle();
    expect(store.releaseWrite).not.toBeNull();
    clock.increment(100);
    store.later = false;
    store.releaseWrite!();
    expect(await pending).toMatchObject({ accepted: false });
    await settle();
    clock.increment(60_000);
    await settle();
    expect(monitor.running).toBe(1);
    await system.close();
  } finally {
    spy.mockRestore();
  }
});

test('control: no transaction open when the timer fires: the monitor runs again', async () => {
  const { monitor, logic } = countingMonitor();
  const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    const clock = createSimulatedClock(FRIDAY_11AM);
    const store = new LaterStore(join(dirs.next(), 's.db'));
    const variant = { ...lt112, actors: { positionMonitor: logic } };
    const system = await openStrategySystem({ store, variants: [variant], clock });
    await system.add(variant, { id: 'lt', params: { underlying: 'SPX' } });
    for (const e of managing(VARIANTS[1].entry)) expect((await system.send('lt', e)).accepted).toBe(true);
    expect(monitor.running).toBe(1);
    await system.setTradingState('HALTED', 'risk desk');
    monitor.send?.({ type: 'MARGIN_CALL' }); // bare
    await settle();
    expect(system.get('lt').state).toBe('MANAGING');
    expect(monitor.running).toBe(0);
    // A refused event whose write is under way when the revival timer fires.
    clock.increment(100);
    await settle();
    clock.increment(60_000);
    await settle();
    expect(monitor.running).toBe(1);
    await system.close();
  } finally {
    spy.mockRestore();
  }
});
