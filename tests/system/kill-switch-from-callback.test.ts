/**
 * The kill switch pressed from inside a callback of the strategy it must flatten (a transition
 * listener that sees a position opened, a hook of the move into MANAGING). In an in-memory system
 * the strategy's first EMERGENCY_EXIT came back REENTRANT_TRIGGER (it was still publishing that
 * transition), and the kill switch took that refusal for a rejected exit: SYSTEM_ERROR, held for
 * an operator, the position left open and reported as not flattened. Now an exit that could not
 * be delivered yet is sent again once the strategy's transition is over, as a persisted system's
 * queue does by itself.
 */
import { join } from 'node:path';
import type { StrategyDefinition } from '../../machines/definition';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM, managing, VARIANTS } from '../support/fixtures';

const entry = VARIANTS[1].entry;
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

test('in memory: the kill switch pressed by a transition listener exits the strategy whose move it saw', async () => {
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add(lt112, { id: 'a' });
  let run: Promise<unknown> | undefined;
  system.subscribe(({ strategyId, record }) => {
    if (strategyId === 'a' && record.currentState === 'MANAGING' && !run) (run = system.killSwitch('position seen')).catch(() => undefined);
  });
  for (const event of managing(entry, 2)) system.send('a', event);
  await settle();
  expect(system.tradingState).toBe('HALTED');
  expect(system.get('a').state).toBe('EXITING');
  const last = system.get('a').getAuditTrail().at(-1);
  expect(last).toMatchObject({ trigger: 'EMERGENCY_EXIT', accepted: true, currentState: 'EXITING' });
  system.send('a', { type: 'ORDER_FILLED', quantity: 2 });
  await expect(run).resolves.toMatchObject({ flattened: ['a'], failed: [] });
  system.stop();
});

test('in memory: the kill switch pressed by a hook of the move into MANAGING exits that strategy once the move is committed', async () => {
  let run: Promise<unknown> | undefined;
  const hooked: StrategyDefinition = {
    ...lt112,
    hooks: { onEnter: { MANAGING: () => void (run ??= system.killSwitch('entered')) } },
  };
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add(hooked, { id: 'a' });
  for (const event of managing(entry, 2)) system.send('a', event);
  await settle();
  expect(system.get('a').getAuditTrail().slice(-2)).toMatchObject([
    { trigger: 'MARKET_OPEN', currentState: 'MANAGING', accepted: true },
    { trigger: 'EMERGENCY_EXIT', currentState: 'EXITING', accepted: true },
  ]);
  system.send('a', { type: 'ORDER_FILLED', quantity: 2 });
  await expect(run).resolves.toMatchObject({ flattened: ['a'], failed: [] });
  system.stop();
});

test('persisted (SQLite): the kill switch pressed by a transition listener exits that strategy, written once', async () => {
  const { dir, cleanup } = tempDir();
  const system = await openStrategySystem({
    store: new SqliteStore(join(dir, 's.db')),
    variants: [lt112],
    clock: createSimulatedClock(FRIDAY_11AM),
  });
  try {
    await system.add(lt112, { id: 'a' });
    let run: Promise<unknown> | undefined;
    system.subscribe(({ strategyId, record }) => {
      if (strategyId === 'a' && record.currentState === 'MANAGING' && !run)
        (run = system.killSwitch('position seen')).catch(() => undefined);
    });
    for (const event of managing(entry, 2)) await system.send('a', event);
    // The run writes HALTED first, then the exit: a few turns of the event loop.
    for (let turn = 0; turn < 200 && system.get('a').state === 'MANAGING'; turn++) await settle();
    await system.flush();
    expect(system.get('a').state).toBe('EXITING');
    await system.send('a', { type: 'ORDER_FILLED', quantity: 2 });
    await expect(run).resolves.toMatchObject({ flattened: ['a'], failed: [] });
    const stored = await system.store.readAuditTrail('a', { limit: 100 });
    expect(stored.filter((r) => r.trigger === 'EMERGENCY_EXIT')).toHaveLength(1);
    expect(stored.map((r) => r.seq)).toEqual(stored.map((_, i) => i + 1));
  } finally {
    await system.close();
    cleanup();
  }
});
