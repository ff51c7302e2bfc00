/**
 * Hooks that cannot run are refused where they are given, by name. Before, `add`,
 * `createStrategyActor` and a definition took any value as a hook: `{ onEnter: { READY: 5 } }`
 * was accepted, and then every transition into READY failed ("hook is not a function"), counted
 * as a failed hook, until the strategy was forced into ERROR; a misspelt state
 * (`onEnter.MANGING`) or `hooks: 5` was kept and silently never ran.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { hooksProblem } from '../../machines/definition';
import { InvalidDefinitionError, InvalidOptionsError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM } from '../support/fixtures';

/** Anything but a function (and undefined, which means "no hook"). */
const notAFunction = fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true }).filter((v) => v !== undefined);

test.each([
  [{ onEnter: { READY: 5 } }, 'hooks.onEnter.READY', 'must be a function, got 5'],
  [{ onExit: { INITIALIZING: {} } }, 'hooks.onExit.INITIALIZING', 'must be a function, got an object'],
  [{ onTransition: 'x' }, 'hooks.onTransition', 'must be a function, got "x"'],
  [{ onEnter: { MANGING: () => undefined } }, 'hooks.onEnter.MANGING', 'is not a lifecycle state'],
  [{ onEnter: 5 }, 'hooks.onEnter', 'must be an object of hooks by lifecycle state, got 5'],
  [{ onEntry: {} }, 'hooks.onEntry', 'is not a hook (onEnter, onExit, onTransition)'],
  [5, 'hooks', 'must be an object of onEnter, onExit and onTransition, got 5'],
  [JSON.parse('{"onEnter": {"__proto__": 1}}'), 'hooks.onEnter.__proto__', 'is not a lifecycle state'],
])('add refuses hooks %p naming %s; nothing is added and a neighbour runs on', (hooks, field, problem) => {
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add(lt112, { id: 'neighbour' });
  let thrown: unknown;
  try {
    system.add(lt112, { id: 'bad', hooks: hooks as never });
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(InvalidOptionsError);
  expect(thrown).toMatchObject({ component: 'add', option: field, problem });
  expect(system.ids()).toEqual(['neighbour']);
  expect(system.send('neighbour', { type: 'MARKET_OPEN' })).toMatchObject({ accepted: true, to: 'READY' });
  // The same hooks in createStrategyActor and in a definition.
  expect(() => createStrategyActor(createStrategyMachine(lt112), { clock: system.clock, hooks: hooks as never })).toThrow(
    new InvalidOptionsError('createStrategyActor', field, problem),
  );
  expect(() => createStrategyMachine({ ...lt112, id: 'hooked', hooks: hooks as never })).toThrow(
    new InvalidDefinitionError('hooked', field, problem),
  );
});

test('any value that is no function, as any hook, is refused by add before the strategy exists', () => {
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add(lt112, { id: 'neighbour' });
  fc.assert(
    fc.property(notAFunction, fc.constantFrom('onEnter', 'onExit', 'onTransition'), (value, kind) => {
      const hooks = kind === 'onTransition' ? { onTransition: value } : { [kind]: { READY: value } };
      const field = kind === 'onTransition' ? 'hooks.onTransition' : `hooks.${kind}.READY`;
      expect(() => system.add(lt112, { id: 'bad', hooks: hooks as never })).toThrow(InvalidOptionsError);
      expect(hooksProblem(hooks)?.field).toBe(field);
      expect(system.has('bad')).toBe(false);
    }),
  );
  expect(system.send('neighbour', { type: 'MARKET_OPEN' })).toMatchObject({ accepted: true, to: 'READY' });
});

test('hooks behind a getter that throws are refused as unreadable, not thrown as they are', () => {
  const hooks = {
    get onEnter(): never {
      throw new Error('boom');
    },
  };
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  expect(() => system.add(lt112, { id: 'bad', hooks: hooks })).toThrow(new InvalidOptionsError('add', 'hooks', 'could not be read: boom'));
  expect(system.ids()).toEqual([]);
});

test('valid hooks are still taken and run', () => {
  const entered: string[] = [];
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add(lt112, { id: 's', hooks: { onEnter: { READY: ({ strategyId }) => void entered.push(strategyId) }, onExit: {} } });
  expect(system.send('s', { type: 'MARKET_OPEN' })).toMatchObject({ accepted: true, to: 'READY' });
  expect(entered).toEqual(['s']);
});

test('a persistent system refuses such hooks and stores nothing: a reopen restores only the neighbour', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const clock = createSimulatedClock(FRIDAY_11AM);
    const open = () => openStrategySystem({ store: new SqliteStore(join(dir, 's.db')), variants: [lt112], clock });
    const system = await open();
    await system.add(lt112, { id: 'neighbour' });
    await expect(system.add(lt112, { id: 'bad', hooks: { onEnter: { READY: 5 } } as never })).rejects.toThrow(
      new InvalidOptionsError('add', 'hooks.onEnter.READY', 'must be a function, got 5'),
    );
    expect(await system.send('neighbour', { type: 'MARKET_OPEN' })).toMatchObject({ accepted: true, to: 'READY' });
    await system.close();
    const reopened = await open();
    expect(reopened.ids()).toEqual(['neighbour']);
    expect(reopened.get('neighbour').getSnapshot().value).toBe('READY');
    await reopened.close();
  } finally {
    cleanup();
  }
});
