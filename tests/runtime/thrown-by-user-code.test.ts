/**
 * What user code throws never breaks a strategy. Before:
 * - an `onListenerError` that threw escaped `send` after the transition was committed, and the
 *   strategy was wedged for good (every later send: StoreConflictError "not at seq 0");
 * - a hook throwing a value `String()` cannot convert (an object without a prototype, a Proxy
 *   whose traps throw) made `send` throw a TypeError with no record written, and every later
 *   trigger was refused ("has a transition being written").
 * Now the handler's throw is logged, and every thrown value is described without throwing.
 */
import { describeThrown } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FRIDAY_11AM } from '../support/fixtures';

const hostile = () =>
  new Proxy(
    {},
    {
      get: () => {
        throw new Error('trap');
      },
      getPrototypeOf: () => {
        throw new Error('trap');
      },
    },
  );

test('a throwing onListenerError neither escapes send nor breaks the strategy', () => {
  let handlerBroken = true;
  const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    const system = createStrategySystem({
      clock: createSimulatedClock(FRIDAY_11AM),
      onListenerError: () => {
        if (handlerBroken) throw new Error('logger down');
      },
    });
    system.add(lt112, { id: 'a' });
    system.subscribe(() => {
      throw new Error('listener broke');
    });
    expect(system.send('a', { type: 'MARKET_OPEN' })).toMatchObject({ accepted: true, to: 'READY' });
    expect(String(logged.mock.calls[0]?.[0])).toContain('and so did onListenerError');
    handlerBroken = false;
    expect(system.send('a', { type: 'TIME_WINDOW_START' })).toMatchObject({ accepted: true, to: 'ANALYZING' });
  } finally {
    logged.mockRestore();
  }
});

test.each([
  ['an object without a prototype', () => Object.create(null) as unknown, '[object Object]'],
  ['a Proxy whose traps throw', hostile, 'a thrown value that cannot be shown as text'],
])('a hook throwing %s is audited as a hook failure; the strategy keeps working', (_name, thrown, said) => {
  let calls = 0;
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  const hooked = {
    ...lt112,
    hooks: {
      onEnter: {
        READY: () => {
          if (calls++ === 0) throw thrown();
        },
      },
    },
  };
  system.add(hooked, { id: 'a' });
  system.add(lt112, { id: 'neighbour' });
  const result = system.send('a', { type: 'MARKET_OPEN' });
  expect(result).toMatchObject({ accepted: false, from: 'INITIALIZING', to: 'INITIALIZING' });
  expect(result.reason).toContain(said);
  expect(system.get('a').getAuditTrail()).toHaveLength(1);
  expect(system.send('a', { type: 'MARKET_OPEN' })).toMatchObject({ accepted: true, to: 'READY' });
  expect(system.send('neighbour', { type: 'MARKET_OPEN' })).toMatchObject({ accepted: true });
});

test('describeThrown says what any thrown value is, and never throws', () => {
  expect(describeThrown(new Error('broker down'))).toBe('broker down');
  expect(describeThrown({ message: 'plain object' })).toBe('plain object');
  expect(describeThrown('text')).toBe('text');
  expect(describeThrown(undefined)).toBe('undefined');
  expect(describeThrown(null)).toBe('null');
  expect(describeThrown(Object.create(null))).toBe('[object Object]');
  expect(describeThrown(hostile())).toBe('a thrown value that cannot be shown as text');
  expect(describeThrown(Symbol('s'))).toBe('Symbol(s)');
});
