/**
 * One rule for strategy ids, whichever way a strategy is added: 1-64 letters, digits, "_", "." or
 * "-", starting with a letter or digit (as HTTP and the config file always required). Before, the
 * library's `add` took any string: "../x", a NUL, 10,000 characters or "__proto__" were stored,
 * a strategy made so could not be reached over HTTP, and "__proto__"'s broadcast result became
 * the prototype of the result object instead of one of its keys. A non-string id was refused as
 * UnknownStrategyError, which misnamed the problem.
 */
import { join } from 'node:path';
import { InvalidOptionsError } from '../../machines/errors';
import { STRATEGY_ID_PATTERN, strategyIdProblem } from '../../machines/strategyId';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { ID_PATTERN } from '../../server/schemas';
import { FRIDAY_11AM } from '../support/fixtures';
import { tempDir } from '../persistence/helpers';

const BAD_IDS: unknown[] = ['../x', '__proto__', 'a b', 'x\u0000y', '', 'a'.repeat(65), '-lead', 'é', 5, null, {}];

test.each(BAD_IDS.map((id) => [id]))('in memory, add() refuses the id %p, naming it; nothing is added', (id) => {
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  let error: unknown;
  try {
    system.add(lt112, { id: id as string });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(InvalidOptionsError);
  expect(error).toMatchObject({ component: 'add', option: 'id' });
  expect((error as Error).message).toMatch(
    /^add: option id ids are 1-64 letters, digits, "_", "\." or "-", starting with a letter or digit, got /,
  );
  expect(system.ids()).toEqual([]);
});

test('persisted, add() refuses a bad id before anything is written; good ids of every shape the rule allows are added', async () => {
  const { dir, cleanup } = tempDir('sl-ids-');
  const store = new SqliteStore(join(dir, 's.db'), { checkEveryMs: 0 });
  const system = await openStrategySystem({ store, variants: [lt112], clock: createSimulatedClock(FRIDAY_11AM) });
  try {
    for (const id of BAD_IDS) await expect(system.add(lt112, { id: id as string })).rejects.toThrow(InvalidOptionsError);
    expect(await store.loadAll()).toEqual([]);
    const good = ['a', 'lt112-spx.2026_12', 'Z'.repeat(64), '0dte'];
    for (const id of good) await system.add(lt112, { id });
    expect((await store.loadAll()).map((s) => s.strategyId).sort()).toEqual([...good].sort());
    const results = await system.broadcast({ type: 'MARKET_OPEN' });
    expect(Object.keys(results).sort()).toEqual([...good].sort());
  } finally {
    await system.close();
    cleanup();
  }
});

test('the HTTP schema and the library share one rule', () => {
  expect(ID_PATTERN).toBe(STRATEGY_ID_PATTERN);
  expect(strategyIdProblem('ok-1')).toBeNull();
  expect(strategyIdProblem('x'.repeat(100))).toContain(`got "${'x'.repeat(40)}..."`);
});
