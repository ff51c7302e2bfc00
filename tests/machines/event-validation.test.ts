/** Bad input at the boundary: typed errors naming the field, no state change, never a throw. */
import { InvalidEventError } from '../../machines/errors';
import type { StrategyEvent } from '../../machines/events';
import { validateEvent } from '../../machines/validateEvent';
import { lt112 } from '../../machines/variants';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { FRIDAY_11AM, drive, start } from '../support/fixtures';

const toEntering: StrategyEvent[] = [
  { type: 'MARKET_OPEN' },
  { type: 'TIME_WINDOW_START' },
  { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-29' },
  { type: 'ORDER_SUBMITTED' },
];

describe('malformed events are rejected with an InvalidEventError naming the field', () => {
  test.each([
    [{ type: 'ORDER_FILLED' }, 'quantity', 'ORDER_FILLED: quantity is required'],
    [
      { type: 'ORDER_FILLED', quantity: -3 },
      'quantity',
      'ORDER_FILLED: quantity must be a positive whole number of contracts (1-1000000), got -3',
    ],
    [{ type: 'ORDER_FILLED', quantity: 1.5 }, 'quantity', 'got 1.5'],
    [{ type: 'ORDER_FILLED', quantity: '2' }, 'quantity', 'got "2"'],
    [
      { type: 'ORDER_FILLED', quantity: 2, expiry: 'next friday' },
      'expiry',
      'ORDER_FILLED: expiry must be a date written yyyy-MM-dd, got "next friday"',
    ],
    [{ type: 'ORDER_FILLED', quantity: 2, expiry: '2026-02-30' }, 'expiry', 'got "2026-02-30"'],
    [{ type: 'ORDER_FILLED', quantity: 2, qty: 2 }, 'qty', 'ORDER_FILLED: qty is not a field of ORDER_FILLED'],
    [
      { type: 'ORDER_FILLED', quantity: 2, legs: [{ right: 'X', strike: 100, expiry: '2026-12-18', quantity: -1 }] },
      'legs',
      'legs [0].right must be "C" or "P"',
    ],
    [
      {
        type: 'ORDER_FILLED',
        quantity: 2,
        legs: [{ right: 'P', strike: 4000, expiry: '2026-12-18', quantity: -1, note: { a: { a: 1 } } }],
      },
      'legs',
      'legs [0].note is not a field of a leg (symbol, right, strike, expiry, quantity)',
    ],
    [
      {
        type: 'ORDER_FILLED',
        quantity: 2,
        legs: [{ right: 'P', strike: 4000, expiry: '2026-12-18', quantity: -1, symbol: 'S'.repeat(65) }],
      },
      'legs',
      'legs [0].symbol must be a string of at most 64 characters',
    ],
    [{ type: 'MANUAL_OVERRIDE', target: 'READY', reason: 'x' }, 'operator', 'MANUAL_OVERRIDE: operator is required'],
    [
      { type: 'MANUAL_OVERRIDE', target: 'NOWHERE', reason: 'x', operator: 'o' },
      'target',
      'must be one of the 15 lifecycle states, got "NOWHERE"',
    ],
    [{ type: 'ENTRY_CONDITIONS_MET', vix: Number.NaN }, 'vix', 'got NaN'],
    [{ type: 'MARKET_OPEN', eventId: '' }, 'eventId', 'MARKET_OPEN: eventId must not be empty'],
    // PostgreSQL's JSON refuses both: one such write failed the whole group-committed batch.
    [{ type: 'MARKET_OPEN', eventId: 'evil\u0000id' }, 'eventId', 'MARKET_OPEN: eventId must not contain the NUL character (U+0000)'],
    [{ type: 'ORDER_REJECTED', reason: 'half \ud800 pair' }, 'reason', 'ORDER_REJECTED: reason must be well-formed Unicode'],
    [{ type: 'MARKET_OPEN', catchUp: '\udc00' }, 'catchUp', 'must be well-formed Unicode'],
    [
      {
        type: 'ORDER_FILLED',
        quantity: 2,
        legs: [{ right: 'P', strike: 4000, expiry: '2026-12-18', quantity: -1, symbol: 'SPX\u0000' }],
      },
      'legs',
      'legs [0].symbol must be a string of at most 64 characters (no NUL',
    ],
    [{ type: 'BUY_THE_DIP' }, 'type', 'BUY_THE_DIP: type must be one of MARKET_OPEN'],
    [{ type: 'lifecycle.deadline', kind: 'ERROR_RECOVERY' }, 'type', 'lifecycle.deadline: type must be one of'],
    [{}, 'type', '(invalid event): type must be one of'],
    [null, 'event', 'must be an object with a type, got null'],
    ['MARKET_OPEN', 'event', 'must be an object with a type, got "MARKET_OPEN"'],
    [[{ type: 'MARKET_OPEN' }], 'event', 'got a list'],
  ])('%j -> %s', (input, field, message) => {
    const validation = validateEvent(input);
    expect(validation.ok).toBe(false);
    if (validation.ok) return;
    expect(validation.error).toBeInstanceOf(InvalidEventError);
    expect(validation.error.field).toBe(field);
    expect(validation.error.message).toContain(message);
  });

  test('whole surrogate pairs (an emoji) and other control characters are stored as they are', () => {
    const validation = validateEvent({ type: 'ORDER_REJECTED', reason: 'rejected \ud83d\ude80 \t\u0001', eventId: 'e-\ud83d\ude80' });
    expect(validation).toMatchObject({ ok: true, event: { reason: 'rejected \ud83d\ude80 \t\u0001', eventId: 'e-\ud83d\ude80' } });
  });

  test('a valid event comes back as a fresh object with only its known fields', () => {
    const input = JSON.parse('{"type":"ORDER_FILLED","quantity":2,"price":-1.25,"expiry":"2026-12-18","eventId":"fill-1"}');
    const validation = validateEvent(input);
    expect(validation).toEqual({
      ok: true,
      event: { type: 'ORDER_FILLED', quantity: 2, price: -1.25, expiry: '2026-12-18', eventId: 'fill-1' },
    });
    if (validation.ok) expect(validation.event).not.toBe(input);
  });

  test('valid legs come back as fresh objects holding only the leg fields', () => {
    const leg = { symbol: 'SPX', right: 'P', strike: 4000, expiry: '2026-12-18', quantity: -1 };
    const validation = validateEvent({ type: 'ORDER_FILLED', quantity: 1, legs: [leg] });
    expect(validation).toEqual({ ok: true, event: { type: 'ORDER_FILLED', quantity: 1, legs: [leg] } });
    if (validation.ok) expect((validation.event as { legs: unknown[] }).legs[0]).not.toBe(leg);
  });

  test('a __proto__ key is an unknown field, not a prototype change', () => {
    const validation = validateEvent(JSON.parse('{"type":"MARKET_OPEN","__proto__":{"polluted":true}}'));
    expect(validation.ok).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('the strategy actor rejects bad input without a state change or a throw', () => {
  test('ORDER_FILLED without a quantity in ENTERING: rejected, audited, state and position unchanged', () => {
    const { strategy } = start(lt112);
    drive(strategy, toEntering);
    const result = strategy.trigger({ type: 'ORDER_FILLED' } as unknown as StrategyEvent);
    expect(result).toMatchObject({ accepted: false, code: 'INVALID_EVENT', from: 'ENTERING', to: 'ENTERING' });
    expect(result.error).toBeInstanceOf(InvalidEventError);
    expect(result.error?.field).toBe('quantity');
    expect(result.record).toMatchObject({ trigger: 'ORDER_FILLED', accepted: false, reason: 'ORDER_FILLED: quantity is required' });
    expect(strategy.state).toBe('ENTERING');
    expect(strategy.getSnapshot().context.position).toBeNull();
    // And it still works afterwards.
    expect(strategy.trigger({ type: 'ORDER_FILLED', quantity: 2 })).toMatchObject({ accepted: true, to: 'POSITION_OPEN' });
  });

  test('an unknown event type is rejected with its name', () => {
    const { strategy } = start(lt112);
    const result = strategy.trigger({ type: 'SELL_EVERYTHING' } as unknown as StrategyEvent);
    expect(result).toMatchObject({ accepted: false, code: 'INVALID_EVENT', from: 'INITIALIZING', to: 'INITIALIZING' });
    expect(result.record.trigger).toBe('SELL_EVERYTHING');
  });

  test('internal events cannot be forged through trigger()', () => {
    const { strategy } = start(lt112);
    drive(strategy, [{ type: 'MARKET_OPEN' }, { type: 'SYSTEM_ERROR' }]);
    const result = strategy.trigger({ type: 'lifecycle.deadline', kind: 'ERROR_RECOVERY', dueAt: 0 } as unknown as StrategyEvent);
    expect(result).toMatchObject({ accepted: false, code: 'INVALID_EVENT' });
    expect(strategy.state).toBe('ERROR');
  });

  test('an exit fill larger than the open position is rejected, not applied', () => {
    const { strategy } = start(lt112);
    drive(strategy, [
      ...toEntering,
      { type: 'ORDER_FILLED', quantity: 2 },
      { type: 'MARKET_OPEN' },
      { type: 'MARGIN_CALL' },
      { type: 'ORDER_SUBMITTED' },
    ]);
    const result = strategy.trigger({ type: 'ORDER_FILLED', quantity: 5 });
    expect(result).toMatchObject({ accepted: false, code: 'GUARD_FAILED', from: 'EXITING' });
    expect(result.reason).toContain('an exit fill of 5 exceeds the 2 contracts open');
    expect(strategy.getSnapshot().context.position?.quantity).toBe(2);
  });

  test('a MANUAL_OVERRIDE to READY while holding a position is rejected with the reason', () => {
    const { strategy } = start(lt112);
    drive(strategy, [...toEntering, { type: 'ORDER_FILLED', quantity: 2 }]);
    const result = strategy.trigger({ type: 'MANUAL_OVERRIDE', target: 'READY', reason: 'flatten', operator: 'alice' });
    expect(result).toMatchObject({ accepted: false, code: 'GUARD_FAILED', from: 'POSITION_OPEN', to: 'POSITION_OPEN' });
    expect(result.reason).toBe('MANUAL_OVERRIDE to READY is illegal while holding a position of 2 contracts: exit first');
  });

  test('nothing leaves TERMINATED, not even MANUAL_OVERRIDE', () => {
    const { strategy } = start(lt112);
    drive(strategy, [{ type: 'MARKET_OPEN' }, { type: 'TERMINATE' }]);
    const result = strategy.trigger({ type: 'MANUAL_OVERRIDE', target: 'READY', reason: 'revive', operator: 'alice' });
    expect(result).toMatchObject({ accepted: false, code: 'NO_EDGE', reason: 'TERMINATED has no edge for MANUAL_OVERRIDE' });
    expect(strategy.state).toBe('TERMINATED');
  });

  test('a stopped strategy answers with ACTOR_STOPPED instead of throwing', () => {
    const { strategy } = start(lt112);
    strategy.stop();
    expect(strategy.trigger({ type: 'MARKET_OPEN' })).toMatchObject({ accepted: false, code: 'ACTOR_STOPPED' });
  });
});

describe('duplicate eventIds', () => {
  test('a fill delivered twice is applied once', () => {
    const { strategy } = start(lt112);
    drive(strategy, toEntering);
    expect(strategy.trigger({ type: 'ORDER_PARTIALLY_FILLED', quantity: 1, eventId: 'fill-7' })).toMatchObject({ accepted: true });
    const again = strategy.trigger({ type: 'ORDER_PARTIALLY_FILLED', quantity: 1, eventId: 'fill-7' });
    expect(again).toMatchObject({ accepted: false, code: 'DUPLICATE_EVENT', from: 'ENTERING', to: 'ENTERING' });
    expect(again.reason).toBe('duplicate eventId "fill-7": already applied to lt112-1');
    expect(strategy.getSnapshot().context.position?.quantity).toBe(1);
  });

  test('an id whose event was rejected can be sent again', () => {
    const { strategy } = start(lt112);
    expect(strategy.trigger({ type: 'TIME_WINDOW_START', eventId: 'w-1' })).toMatchObject({ accepted: false, code: 'NO_EDGE' });
    drive(strategy, [{ type: 'MARKET_OPEN' }]);
    expect(strategy.trigger({ type: 'TIME_WINDOW_START', eventId: 'w-1' })).toMatchObject({ accepted: true });
  });

  test('duplicates are still detected after a restore', () => {
    const { strategy, clock } = start(lt112);
    drive(strategy, [...toEntering, { type: 'ORDER_PARTIALLY_FILLED', quantity: 1, eventId: 'fill-9' }]);
    const saved = JSON.parse(JSON.stringify(strategy.getPersistedSnapshot()));
    const restored = createStrategyActor(createStrategyMachine(lt112), { clock: createSimulatedClock(clock.now()), snapshot: saved });
    expect(restored.trigger({ type: 'ORDER_PARTIALLY_FILLED', quantity: 1, eventId: 'fill-9' })).toMatchObject({ code: 'DUPLICATE_EVENT' });
    expect(restored.getSnapshot().context.position?.quantity).toBe(1);
  });

  test('the id window is bounded: the oldest ids are forgotten', () => {
    const { strategy } = start({ ...lt112, id: 'smallWindow', eventIdWindow: 2 });
    drive(strategy, [
      { type: 'MARKET_OPEN', eventId: 'a' },
      { type: 'TIME_WINDOW_START', eventId: 'b' },
      { type: 'TIME_WINDOW_END', eventId: 'c' },
    ]);
    expect(strategy.getSnapshot().context.recentEventIds).toEqual(['b', 'c']);
  });
});

test("records carry the strategy clock's time in New York with its offset", () => {
  const { strategy } = start(lt112);
  const { record } = strategy.trigger({ type: 'MARKET_OPEN' });
  expect(record.at).toBe(FRIDAY_11AM);
  expect(record.timestamp).toBe('2026-12-04T11:00:00.000-05:00');
});

describe("only the event object's own fields are read", () => {
  test('an enumerable field inherited from Object.prototype is neither copied nor refused', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.injected = 'from the prototype';
    try {
      const result = validateEvent({ type: 'ORDER_FILLED', quantity: 2, eventId: 'f-1' });
      expect(result.ok).toBe(true);
      if (result.ok) expect(Object.keys(result.event).sort()).toEqual(['eventId', 'quantity', 'type']);
    } finally {
      delete proto.injected;
    }
  });
});
