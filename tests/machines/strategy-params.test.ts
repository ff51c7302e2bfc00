/** Strategy params are checked against the variant's schema by the library itself, before anything is stored. */
import { InvalidDefinitionError, InvalidParamsError } from '../../machines/errors';
import { resolveDefinition } from '../../machines/definition';
import { checkParams, symbolParam } from '../../machines/params';
import { lt112, strangle } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { FRIDAY_11AM } from '../support/fixtures';

test.each([
  [{ underlying: 5 }, 'params.underlying', 'must be a ticker symbol'],
  [{ underlying: 'spx; DROP TABLE' }, 'params.underlying', 'must be a ticker symbol'],
  [{ underlying: 'SPX', size: 3 }, 'params.size', 'is not a parameter of lt112 (known: underlying, quantity)'],
  [{ quantity: 0 }, 'params.quantity', 'must be a whole number of contracts from 1 to 10000, got 0'],
  [{ extra: { a: { a: { a: 1 } } } }, 'params.extra', 'is not a parameter of lt112'],
  [[1, 2], 'params', 'must be an object, got a list'],
])('system.add refuses %j with InvalidParamsError on %s, and adds nothing', (params, field, message) => {
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  const attempt = () => system.add(lt112, { id: 'lt', params: params as Record<string, unknown> });
  expect(attempt).toThrow(InvalidParamsError);
  try {
    attempt();
  } catch (error) {
    expect(error).toMatchObject({ strategyId: 'lt', variant: 'lt112', field });
    expect((error as Error).message).toContain(message);
  }
  expect(system.ids()).toEqual([]);
});

test('accepted params are a fresh object in the context', () => {
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  const params = { underlying: 'SPX', quantity: 2 };
  const strategy = system.add(strangle, { id: 's', params });
  expect(strategy.getSnapshot().context.params).toEqual(params);
  expect(strategy.getSnapshot().context.params).not.toBe(params);
});

test('a variant declares its own params; one that takes none refuses every key', () => {
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  const bare = { ...lt112, id: 'bare', params: {} };
  expect(() => system.add(bare, { id: 'b', params: { underlying: 'SPX' } })).toThrow(
    'params.underlying is not a parameter of bare (it takes none)',
  );
  const required = { ...lt112, id: 'needsSymbol', params: { underlying: symbolParam({ required: true }) } };
  expect(() => checkParams('n', 'needsSymbol', required.params, {})).toThrow(
    'params.underlying is required (a ticker symbol such as "SPX")',
  );
  expect(() => resolveDefinition({ ...lt112, params: { underlying: 'SPX' as never } })).toThrow(InvalidDefinitionError);
});

test('createStrategyActor checks params against the variant like system.add: a bad key is refused with InvalidParamsError', () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const make = (params: Record<string, unknown>) => createStrategyActor(createStrategyMachine(lt112), { id: 'lone', params, clock });
  expect(() => make({ underlying: 'SPX', size: 3 })).toThrow(InvalidParamsError);
  expect(() => make({ underlying: 'SPX', size: 3 })).toThrow('is not a parameter of lt112 (known: underlying, quantity)');
  const strategy = make({ underlying: 'SPX', quantity: 2 });
  expect(strategy.getSnapshot().context.params).toEqual({ underlying: 'SPX', quantity: 2 });
  strategy.stop();
});
