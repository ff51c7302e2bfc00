/**
 * The reason and operator of setTradingState and the reason of suspendAll are checked before
 * anything is written, on in-memory and persistent systems alike: a value that is not a string,
 * holds a NUL character or half of a surrogate pair, or is longer than 500 characters (64 for an
 * operator) is refused with InvalidOptionsError naming the method and the argument, and the
 * trading state and its history are unchanged. A kill switch is never refused for its text: it
 * engages, and its text is made storable (described, NULs and halves of pairs replaced, cut).
 *
 * Before, they were taken unchecked: on SQLite an operator that was an object failed the statement
 * ("Too few parameter values") and was reported as StoreUnavailableError, on any store a reason of
 * 5 was stored as the number 5, and suspendAll with a NUL reason "skipped" every strategy one by
 * one with an invalid MANUAL_OVERRIDE. (PostgreSQL's own failures: trading-state-reason-pg.test.ts.)
 */
import { join } from 'node:path';
import { InvalidOptionsError, StoreUnavailableError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM } from '../support/fixtures';

const BAD_TEXT: Array<[string, unknown]> = [
  ['a number', 5],
  ['an object', { name: 'ops' }],
  ['null', null],
  ['a NUL character', 'fat finger\u0000'],
  ['half of a surrogate pair', 'risk \uD800 desk'],
];

/** States setTradingState does not know (a JavaScript caller, or a cast, can pass any of them). */
const BAD_STATES: Array<[string, unknown]> = [
  ['a lower-case state', 'halted'],
  ['an unknown name', 'PAUSED'],
  ['a name from Object.prototype', 'toString'],
  ['a number', 5],
  ['undefined', undefined],
  ['null', null],
  [
    'an object whose toString throws',
    {
      toString: () => {
        throw new Error('no');
      },
    },
  ],
];

/** The error `call` threw or rejected with, or null. */
async function failureOf(call: () => unknown): Promise<unknown> {
  try {
    await call();
    return null;
  } catch (error) {
    return error;
  }
}

/** `call` is refused as input naming `method` and `argument`, and the trading state did not change. */
async function refused(
  system: { tradingStateHistory(): readonly unknown[]; readonly tradingState: string },
  call: () => unknown,
  method: string,
  argument: 'state' | 'reason' | 'operator',
): Promise<void> {
  const before = system.tradingStateHistory().length;
  const error = await failureOf(call);
  expect(error).toBeInstanceOf(InvalidOptionsError);
  expect(error).not.toBeInstanceOf(StoreUnavailableError);
  expect(error).toMatchObject({ component: method, option: argument });
  expect(system.tradingStateHistory()).toHaveLength(before);
  expect(system.tradingState).toBe('ACTIVE');
}

describe('in memory', () => {
  const make = () => {
    const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
    system.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
    system.send('lt', { type: 'MARKET_OPEN' });
    return system;
  };

  test.each(BAD_TEXT)('a reason that is %s is refused by setTradingState and suspendAll', async (_name, reason) => {
    const system = make();
    try {
      expect(() => system.setTradingState('REDUCING', reason as never)).toThrow(InvalidOptionsError);
      await refused(system, () => system.setTradingState('REDUCING', reason as never), 'setTradingState', 'reason');
      expect(() => system.suspendAll(reason as never)).toThrow(expect.objectContaining({ component: 'suspendAll', option: 'reason' }));
      expect(system.get('lt').state).toBe('READY');
    } finally {
      system.stop();
    }
  });

  test.each(BAD_STATES)(
    'a state that is %s is refused as InvalidOptionsError naming the state, not a bare RangeError',
    async (_name, state) => {
      const system = make();
      try {
        expect(() => system.setTradingState(state as never, 'ok')).toThrow(InvalidOptionsError);
        expect(() => system.setTradingState(state as never, 'ok')).toThrow(/option state must be ACTIVE, REDUCING or HALTED, got /);
        await refused(system, () => system.setTradingState(state as never, 'ok'), 'setTradingState', 'state');
      } finally {
        system.stop();
      }
    },
  );

  test('HALTED with the kill switch\'s own mark ("kill switch: ") is refused in memory too; other states and other reasons are not', async () => {
    const system = make();
    try {
      await refused(system, () => system.setTradingState('HALTED', 'kill switch: by hand'), 'setTradingState', 'reason');
      expect(system.setTradingState('REDUCING', 'kill switch: drill next')).toMatchObject({ to: 'REDUCING' });
      expect(system.setTradingState('HALTED', 'after the kill switch: confirmed')).toMatchObject({ to: 'HALTED' });
    } finally {
      system.stop();
    }
  });

  test.each(BAD_TEXT)('a kill switch whose reason is %s engages, its reason made storable', async (_name, reason) => {
    const system = make();
    try {
      await system.killSwitch(reason as never);
      expect(system.tradingState).toBe('HALTED');
      const recorded = system.tradingStateHistory().at(-1)!.reason;
      expect(recorded).toMatch(/^kill switch: /);
      expect(recorded.includes('\u0000') || /[\uD800-\uDFFF]/.test(recorded)).toBe(false);
    } finally {
      system.stop();
    }
  });

  test.each(BAD_TEXT)('an operator that is %s is refused by setTradingState', async (_name, operator) => {
    const system = make();
    try {
      await refused(system, () => system.setTradingState('REDUCING', 'ok', operator as never), 'setTradingState', 'operator');
    } finally {
      system.stop();
    }
  });

  test('the lengths: a reason up to 500 characters and an operator up to 64 are taken, one more is refused', async () => {
    const system = make();
    try {
      await refused(system, () => system.setTradingState('REDUCING', 'x'.repeat(501)), 'setTradingState', 'reason');
      await refused(system, () => system.setTradingState('REDUCING', 'ok', 'o'.repeat(65)), 'setTradingState', 'operator');
      expect(() => system.suspendAll('x'.repeat(501))).toThrow(InvalidOptionsError);
      expect(system.suspendAll('x'.repeat(500)).changed).toEqual([{ strategyId: 'lt', to: 'SUSPENDED' }]);
      system.setTradingState('REDUCING', 'é'.repeat(500), 'o'.repeat(64));
      expect(system.tradingStateHistory().at(-1)).toMatchObject({ to: 'REDUCING', reason: 'é'.repeat(500), operator: 'o'.repeat(64) });
    } finally {
      system.stop();
    }
  });
});

describe('persistent (SQLite)', () => {
  let system: PersistentStrategySystem;
  let cleanup: () => void;
  beforeEach(async () => {
    const tmp = tempDir();
    cleanup = tmp.cleanup;
    system = await openStrategySystem({
      store: new SqliteStore(join(tmp.dir, 'x.db')),
      variants: [lt112],
      clock: createSimulatedClock(FRIDAY_11AM),
    });
  });
  afterEach(async () => {
    await system.close();
    cleanup();
  });

  test.each(BAD_TEXT)('a reason or operator that is %s is refused, nothing stored', async (_name, text) => {
    await refused(system, () => system.setTradingState('REDUCING', text as never), 'setTradingState', 'reason');
    await refused(system, () => system.setTradingState('REDUCING', 'ok', text as never), 'setTradingState', 'operator');
    await expect(system.suspendAll(text as never)).rejects.toThrow(InvalidOptionsError);
  });

  test.each(BAD_TEXT)(
    'a kill switch whose reason and operator are %s engages and is stored, its text made storable',
    async (_name, text) => {
      const run = await system.startKillSwitch(text as never, text as never);
      await run.done;
      expect(system.tradingState).toBe('HALTED');
      const change = system.tradingStateHistory().at(-1)!;
      expect(typeof change.operator).toBe('string');
      for (const said of [change.reason, change.operator!]) expect(said.includes('\u0000') || /[\uD800-\uDFFF]/.test(said)).toBe(false);
    },
  );

  test('a kill switch reason past 500 characters is cut with an ellipsis, not refused', async () => {
    const run = await system.startKillSwitch('e'.repeat(10_000), 'ops');
    await run.done;
    expect(system.tradingStateHistory().at(-1)!.reason).toBe(`kill switch: ${'e'.repeat(499)}\u2026`);
  });

  test.each(BAD_STATES)('a state that is %s is refused as InvalidOptionsError, nothing stored', async (_name, state) => {
    await refused(system, () => system.setTradingState(state as never, 'ok'), 'setTradingState', 'state');
  });

  test('a refused call leaves the next good one to go through', async () => {
    await refused(system, () => system.setTradingState('REDUCING', 'a\u0000b'), 'setTradingState', 'reason');
    const change = await system.setTradingState('REDUCING', 'drawdown', 'risk-desk');
    expect(change).toMatchObject({ from: 'ACTIVE', to: 'REDUCING', reason: 'drawdown', operator: 'risk-desk' });
  });
});
