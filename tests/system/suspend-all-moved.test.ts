/**
 * `suspendAll` decides from each strategy's committed state, then broadcasts (parts per turn of the
 * event loop). A strategy that moves between the two (a fill on its way) must not be suspended
 * from a state it promises to skip: its MANUAL_OVERRIDE carries `from`, the suspendable states,
 * which the machine checks when the event is applied. `from` is also there for any caller.
 */
import { join } from 'node:path';
import type { StrategyEvent } from '../../machines/events';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { validateEvent } from '../../machines/validateEvent';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM, VARIANTS, drive, start } from '../support/fixtures';

const toPendingEntry: StrategyEvent[] = [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }, VARIANTS[1].entry];

test('SQLite: suspendAll waits for the writes on their way, then decides: a strategy being filled is skipped, not suspended while holding', async () => {
  const { dir, cleanup } = tempDir('sl-suspend-');
  try {
    const system = await openStrategySystem({
      store: new SqliteStore(join(dir, 's.db')),
      variants: [lt112],
      clock: createSimulatedClock(FRIDAY_11AM),
    });
    await system.add(lt112, { id: 'a' });
    await system.add(lt112, { id: 'b' });
    for (const e of toPendingEntry) {
      await system.send('a', e);
      await system.send('b', e);
    }
    const submitted = system.send('a', { type: 'ORDER_SUBMITTED' }); // both on their way, not awaited
    const filled = system.send('a', { type: 'ORDER_FILLED', quantity: 1 });
    const result = await system.suspendAll('FOMC');
    await Promise.all([submitted, filled]);

    expect(system.get('a').state).toBe('POSITION_OPEN');
    expect(system.get('b').state).toBe('SUSPENDED');
    expect(result.changed).toEqual([{ strategyId: 'b', to: 'SUSPENDED' }]);
    expect(result.skipped).toEqual([
      expect.objectContaining({
        strategyId: 'a',
        state: 'POSITION_OPEN',
        reason: expect.stringContaining('POSITION_OPEN cannot be suspended'),
      }),
    ]);
    await system.close();
  } finally {
    cleanup();
  }
});

test('SQLite: strategies moving into READY while suspendAll is called are suspended once there, none left active', async () => {
  const { dir, cleanup } = tempDir('sl-suspend-');
  try {
    const system = await openStrategySystem({
      store: new SqliteStore(join(dir, 's.db')),
      variants: [lt112],
      clock: createSimulatedClock(FRIDAY_11AM),
    });
    for (let i = 0; i < 5; i++) await system.add(lt112, { id: `s${i}` });
    const opens = system.ids().map((id) => system.send(id, { type: 'MARKET_OPEN' })); // in flight
    const suspended = system.suspendAll('drill');
    await Promise.all(opens);
    const result = await suspended;
    expect(result.changed).toHaveLength(5);
    expect(system.ids().map((id) => system.get(id).state)).toEqual(Array(5).fill('SUSPENDED'));
    // resumeAll the same way: a RESUME racing a MANUAL_OVERRIDE in flight still finds it SUSPENDED.
    const override = system.send('s0', { type: 'MANUAL_OVERRIDE', target: 'READY', reason: 'desk', operator: 'ops' });
    const resumed = await system.resumeAll();
    await override;
    expect(resumed.changed.map((c) => c.strategyId).sort()).toEqual(['s1', 's2', 's3', 's4']);
    expect(system.ids().map((id) => system.get(id).state)).toEqual(Array(5).fill('READY'));
    await system.close();
  } finally {
    cleanup();
  }
});

test('MANUAL_OVERRIDE with `from` applies only from those states, and says where the strategy is', () => {
  const { strategy } = start(lt112);
  drive(strategy, [{ type: 'MARKET_OPEN' }]);
  const override = { type: 'MANUAL_OVERRIDE', target: 'SUSPENDED', reason: 'desk', operator: 'ops' } as const;
  expect(strategy.trigger({ ...override, from: ['ANALYZING'] })).toMatchObject({
    accepted: false,
    code: 'GUARD_FAILED',
    reason: expect.stringContaining('MANUAL_OVERRIDE asked only from ANALYZING; the strategy is in READY'),
  });
  expect(strategy.state).toBe('READY');
  expect(strategy.trigger({ ...override, from: ['READY', 'ANALYZING'] })).toMatchObject({ accepted: true, to: 'SUSPENDED' });
});

test('`from` must be a non-empty list of lifecycle states', () => {
  const base = { type: 'MANUAL_OVERRIDE', target: 'SUSPENDED', reason: 'desk', operator: 'ops' };
  expect(validateEvent({ ...base, from: [] })).toMatchObject({ ok: false, error: { field: 'from' } });
  expect(validateEvent({ ...base, from: ['READY', 'LIMBO'] })).toMatchObject({
    ok: false,
    error: { field: 'from', problem: expect.stringContaining('[1]') },
  });
  expect(validateEvent({ ...base, from: ['READY'] })).toMatchObject({ ok: true });
});
