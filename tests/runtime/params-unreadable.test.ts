/**
 * Params that cannot be read are refused as InvalidParamsError, like any other bad params.
 * Before, a getter or a Proxy trap that threw escaped `add` and `createStrategyActor` as the raw
 * error (`Error: boom`), with nothing naming the strategy, its variant or `params`.
 */
import fc from 'fast-check';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { InvalidParamsError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FRIDAY_11AM } from '../support/fixtures';

/** Params objects whose reading throws `thrown`: a getter, or a Proxy's ownKeys or getPrototypeOf trap. */
const unreadable = (thrown: unknown): Array<[string, object]> => [
  [
    'a getter',
    {
      get underlying(): never {
        throw thrown;
      },
    },
  ],
  [
    'an ownKeys trap',
    new Proxy(
      {},
      {
        ownKeys() {
          throw thrown;
        },
      },
    ),
  ],
  [
    'a getPrototypeOf trap',
    new Proxy(
      {},
      {
        getPrototypeOf() {
          throw thrown;
        },
      },
    ),
  ],
];

test.each(unreadable(new Error('boom')))('params behind %s that throws: InvalidParamsError, nothing added', (_kind, params) => {
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add(lt112, { id: 'neighbour' });
  const refusal = new InvalidParamsError('bad', 'lt112', 'params', 'could not be read: boom');
  let thrown: unknown;
  try {
    system.add(lt112, { id: 'bad', params: params as never });
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(InvalidParamsError);
  expect(thrown).toMatchObject({ strategyId: 'bad', variant: 'lt112', field: 'params', problem: 'could not be read: boom' });
  expect(() => createStrategyActor(createStrategyMachine(lt112), { id: 'bad', clock: system.clock, params: params as never })).toThrow(
    refusal,
  );
  expect(system.ids()).toEqual(['neighbour']);
  expect(system.send('neighbour', { type: 'MARKET_OPEN' })).toMatchObject({ accepted: true, to: 'READY' });
});

test('whatever is thrown while reading params (any value, an Error whose message is no string), add answers InvalidParamsError', () => {
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  const oddError = new Error('x');
  (oddError as unknown as { message: unknown }).message = { toString: () => 'odd' };
  fc.assert(
    fc.property(fc.oneof(fc.anything({ withBigInt: true }), fc.constant(oddError)), fc.nat({ max: 2 }), (thrown, which) => {
      const [, params] = unreadable(thrown)[which];
      expect(() => system.add(lt112, { id: 'bad', params: params as never })).toThrow(InvalidParamsError);
      expect(system.has('bad')).toBe(false);
    }),
  );
});
