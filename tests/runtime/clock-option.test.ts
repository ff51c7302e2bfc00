/**
 * Options that cannot run are refused when given, not at the first transition that needs them.
 * Before, `clock: { now }` (no setTimeout) was taken by createStrategySystem, openStrategySystem
 * and createStrategyActor; the first transition that armed a deadline (ENTRY_CONDITIONS_MET to
 * PENDING_ENTRY) threw "clock.setTimeout is not a function" after the strategy had moved but
 * before its record was stored, and every later event was refused with StoreConflictError.
 * createStrategyActor also threw a TypeError for `listeners: 5` and took `id: 5`.
 */
import { join } from 'node:path';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { InvalidOptionsError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM } from '../support/fixtures';

const sim = createSimulatedClock(FRIDAY_11AM);
const partial: Array<[string, object, string]> = [
  ['no setTimeout', { now: () => FRIDAY_11AM, clearTimeout: () => undefined }, 'clock.setTimeout'],
  ['no clearTimeout', { now: () => FRIDAY_11AM, setTimeout: (fn: () => void, ms: number) => sim.setTimeout(fn, ms) }, 'clock.clearTimeout'],
  [
    'no now',
    { setTimeout: (fn: () => void, ms: number) => sim.setTimeout(fn, ms), clearTimeout: (h: never) => sim.clearTimeout(h) },
    'clock.now',
  ],
  ['an empty object', {}, 'clock.now'],
];

test.each(partial)('a clock with %s is refused by each system and the actor, naming the method', (_kind, clock, option) => {
  const problem = expect.stringMatching(/^must be a function \(a Clock has now, setTimeout and clearTimeout\), got /) as unknown;
  expect(() => createStrategySystem({ clock: clock as never })).toThrow(InvalidOptionsError);
  try {
    createStrategySystem({ clock: clock as never });
  } catch (error) {
    expect(error).toMatchObject({ component: 'createStrategySystem', option, problem });
  }
  try {
    createStrategyActor(createStrategyMachine(lt112), { clock: clock as never });
    throw new Error('accepted');
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect(error).toMatchObject({ component: 'createStrategyActor', option, problem });
  }
});

test('openStrategySystem refuses such a clock before it opens the store', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const store = new SqliteStore(join(dir, 's.db'));
    await expect(openStrategySystem({ store, variants: [lt112], clock: { now: () => FRIDAY_11AM } as never })).rejects.toThrow(
      new InvalidOptionsError(
        'openStrategySystem',
        'clock.setTimeout',
        'must be a function (a Clock has now, setTimeout and clearTimeout), got undefined',
      ),
    );
    // The file opens normally afterwards with a real clock.
    const system = await openStrategySystem({ store: new SqliteStore(join(dir, 's.db')), variants: [lt112], clock: sim });
    await system.add(lt112, { id: 's' });
    expect(await system.send('s', { type: 'MARKET_OPEN' })).toMatchObject({ accepted: true, to: 'READY' });
    await system.close();
  } finally {
    cleanup();
  }
});

test('a full clock written by hand is still taken, and arms deadlines', () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const own = {
    now: () => clock.now(),
    setTimeout: (fn: () => void, ms: number) => clock.setTimeout(fn, ms),
    clearTimeout: (h: never) => clock.clearTimeout(h),
  };
  const system = createStrategySystem({ clock: own });
  system.add(lt112, { id: 's' });
  for (const event of [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START' },
    { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-29' },
  ] as const)
    system.send('s', event);
  expect(system.get('s').getSnapshot().value).toBe('PENDING_ENTRY');
  expect(clock.nextDue()).not.toBeNull();
});

test.each([
  [{ listeners: 5 }, 'listeners', 'must be a list of functions, got 5'],
  [{ listeners: [() => undefined, 'x'] }, 'listeners[1]', 'must be a function, got "x"'],
  [{ id: 5 }, 'id', 'must be a non-empty string, got 5'],
  [{ id: '' }, 'id', 'must be a non-empty string, got ""'],
])('createStrategyActor refuses %p by name', (options, option, problem) => {
  expect(() => createStrategyActor(createStrategyMachine(lt112), { clock: sim, ...(options as object) })).toThrow(
    new InvalidOptionsError('createStrategyActor', option, problem),
  );
});
