/**
 * A kill switch resumed after a restart reports an entry that never filled (ended by its stuck
 * deadline while the process was down) as alreadyFlat, as the in-memory run does, not as flattened;
 * and a strategy the run did flatten as flattened, also when its records share the run's start
 * instant (a simulated clock).
 */
import { join } from 'node:path';
import { KillSwitchInterruptedError } from '../../machines/errors';
import type { StrategyEvent } from '../../machines/events';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM, managing, MINUTE, NEAR_EXPIRY, VARIANTS } from '../support/fixtures';

const toPendingEntry: StrategyEvent[] = [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }, VARIANTS[1].entry];

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('sl-ks-restart-entry-')));
afterEach(() => cleanup());

test('SQLite: an entry that never filled is reported alreadyFlat after a restart, not flattened', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const path = join(dir, 'strategies.db');
  const first = await openStrategySystem({ store: new SqliteStore(path), variants: [lt112], clock });
  await first.add(lt112, { id: 'entry' });
  for (const e of toPendingEntry) await first.send('entry', e);
  expect(first.get('entry').state).toBe('PENDING_ENTRY');
  const run = await first.startKillSwitch('risk desk', 'risk-desk');
  const interrupted = expect(run.done).rejects.toThrow(KillSwitchInterruptedError);
  await first.flush();
  await first.close();
  await interrupted;

  // Down for 10 minutes: the 5-minute stuck deadline of PENDING_ENTRY passed meanwhile.
  clock.increment(10 * MINUTE);
  const second = await openStrategySystem({ store: new SqliteStore(path), variants: [lt112], clock });
  try {
    const resumed = second.resumedKillSwitch;
    expect(resumed).toBeDefined();
    const result = await resumed!.done;
    await second.flush();
    const trail = (await second.readAuditTrail('entry')).records.map((r) => `${r.previousState}->${r.currentState}:${r.trigger}`);
    // Never held a contract: its trail has no fill.
    expect(trail.some((t) => t.includes('ORDER_FILLED'))).toBe(false);
    expect(second.get('entry').getSnapshot().context.position?.quantity ?? 0).toBe(0);
    expect(result.flattened).toEqual([]);
    expect(result.alreadyFlat).toEqual(['entry']);
  } finally {
    await second.close();
  }
});

test('in memory (reference): the same deadline without a restart is reported alreadyFlat', async () => {
  const { createStrategySystem } = await import('../../services/runtime/strategySystem');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = createStrategySystem({ clock });
  system.add(lt112, { id: 'entry' });
  for (const e of toPendingEntry) system.send('entry', e);
  const done = system.killSwitch('risk desk');
  clock.increment(10 * MINUTE);
  const result = await done;
  expect(result.flattened).toEqual([]);
  expect(result.alreadyFlat).toEqual(['entry']);
  system.stop();
});

async function scenario(advance: number) {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const path = join(dir, 'strategies.db');
  const first = await openStrategySystem({ store: new SqliteStore(path), variants: [lt112], clock });
  await first.add(lt112, { id: 's' });
  for (const e of managing(VARIANTS[1].entry)) await first.send('s', e);
  expect(first.get('s').state).toBe('MANAGING');
  const run = await first.startKillSwitch('risk desk', 'risk-desk');
  const interrupted = expect(run.done).rejects.toThrow(KillSwitchInterruptedError);
  await first.flush();
  expect(first.get('s').state).toBe('EXITING'); // the exit order is working
  await first.close();
  await interrupted;

  clock.increment(advance);
  const second = await openStrategySystem({ store: new SqliteStore(path), variants: [lt112], clock });
  try {
    const resumed = second.resumedKillSwitch;
    expect(resumed).toBeDefined();
    // The broker's fill of the kill switch's exit arrives right at the open, then a bell it has no edge for.
    expect(await second.send('s', { type: 'ORDER_FILLED', quantity: 3, expiry: NEAR_EXPIRY })).toMatchObject({
      accepted: true,
      to: 'CLOSED',
    });
    expect((await second.send('s', { type: 'MARKET_CLOSE' })).accepted).toBe(false);
    const result = await resumed!.done;
    return { flattened: result.flattened, alreadyFlat: result.alreadyFlat };
  } finally {
    await second.close();
  }
}

test('SQLite (reference): with the clock moved on, the flattened strategy is reported flattened', async () => {
  expect(await scenario(1)).toEqual({ flattened: ['s'], alreadyFlat: [] });
});

test('SQLite: on the run start instant, the flattened strategy is still reported flattened', async () => {
  expect(await scenario(0)).toEqual({ flattened: ['s'], alreadyFlat: [] });
});
