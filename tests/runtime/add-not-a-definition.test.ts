/**
 * `add` with something that is not a strategy definition or machine (JavaScript callers: null, a
 * string, a number) is refused with an InvalidDefinitionError that says so. Before, an in-memory
 * system threw a TypeError from deep inside ("Cannot read properties of null").
 */
import { join } from 'node:path';
import { InvalidDefinitionError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM } from '../support/fixtures';

const notDefinitions: Array<[string, unknown]> = [
  ['null', null],
  ['a string', 'lt112'],
  ['a number', 7],
];

test.each(notDefinitions)('in memory: %s is refused, naming what it got; the system goes on', (_name, value) => {
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  let thrown: unknown;
  try {
    system.add(value as never, { id: 'a' });
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(InvalidDefinitionError);
  expect((thrown as Error).message).toMatch(/must be a strategy definition or machine, got (null|string|number)/);
  expect(system.has('a')).toBe(false);
  system.add(lt112, { id: 'a' });
  expect(system.send('a', { type: 'MARKET_OPEN' })).toMatchObject({ accepted: true });
});

test('persisted: null is refused with a typed error, nothing stored', async () => {
  const { dir, cleanup } = tempDir('sl-add-null-');
  const system = await openStrategySystem({
    store: new SqliteStore(join(dir, 's.db'), { checkEveryMs: 0 }),
    variants: [lt112],
    clock: createSimulatedClock(FRIDAY_11AM),
  });
  try {
    await expect(system.add(null as never, { id: 'a' })).rejects.toBeInstanceOf(InvalidDefinitionError);
    expect(system.has('a')).toBe(false);
    expect(await system.store.loadAll()).toEqual([]);
  } finally {
    await system.close();
    cleanup();
  }
});
