/**
 * Events built to fool the validation (the JavaScript API; HTTP bodies are plain JSON):
 * - a leg whose `quantity` is a getter answered the check with 1 and the copy with "evil", so an
 *   unchecked value was stored in the position. The check now reads a copy, and stores that copy;
 * - a getter or Proxy trap that throws made `validateEvent` throw, though it never throws: it is
 *   now an InvalidEventError;
 * - an unknown field's name was repeated whole in the error and the audit record (60 KB for a
 *   60,000-character key); it is now clipped to 64 characters like every other echoed value.
 */
import { validateEvent } from '../../machines/validateEvent';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FRIDAY_11AM, VARIANTS } from '../support/fixtures';

/** A leg whose quantity answers 1 to the first `honest` reads, "evil" after. */
function shiftyLeg(honest: number): Record<string, unknown> {
  let reads = 0;
  return {
    right: 'C',
    strike: 100,
    expiry: '2027-03-19',
    get quantity() {
      reads++;
      return reads <= honest ? 1 : 'evil';
    },
  };
}

test.each([1, 2, 4, 8])('a leg getter that changes its answer after %i reads: what is stored is what was checked', (honest) => {
  const result = validateEvent({ type: 'ORDER_FILLED', quantity: 1, legs: [shiftyLeg(honest)] });
  // Read once, into our copy: the check and the stored event see the same value.
  expect(result.ok).toBe(true);
  if (!result.ok) return;
  const legs = (result.event as unknown as { legs: Array<Record<string, unknown>> }).legs;
  expect(legs[0].quantity).toBe(1);
  expect(Object.getOwnPropertyDescriptor(legs[0], 'quantity')).toMatchObject({ value: 1, writable: true });
});

test('a position filled with such a leg holds the checked quantity', () => {
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add(lt112, { id: 's' });
  for (const event of [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START', window: 'entry' },
    VARIANTS[1].entry,
    { type: 'ORDER_SUBMITTED' },
  ] as const)
    system.send('s', event);
  expect(system.send('s', { type: 'ORDER_FILLED', quantity: 1, legs: [shiftyLeg(1)] } as never)).toMatchObject({ accepted: true });
  expect(system.get('s').getSnapshot().context.position?.legs?.[0].quantity).toBe(1);
});

test('a from list behind a Proxy is read once: the states checked are the states kept', () => {
  let reads = 0;
  const from = new Proxy(['READY'], {
    get(target, key, receiver) {
      if (key === '0') return reads++ === 0 ? 'READY' : 'NOWHERE';
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  const result = validateEvent({ type: 'MANUAL_OVERRIDE', target: 'ERROR', reason: 'r', operator: 'o', from });
  expect(result).toMatchObject({ ok: true, event: { from: ['READY'] } });
});

test('a getter that throws is an InvalidEventError, not an exception', () => {
  const event = {
    type: 'ORDER_FILLED',
    get quantity(): number {
      throw new Error('boom');
    },
  };
  const result = validateEvent(event);
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.error.field).toBe('event');
  expect(result.error.message).toBe('(invalid event): event could not be read: boom');
  // Through the system: refused and audited, the strategy where it was.
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add(lt112, { id: 's' });
  expect(system.send('s', event as never)).toMatchObject({ accepted: false, code: 'INVALID_EVENT', to: 'INITIALIZING' });
});

test("an unknown field's name is clipped to 64 characters in the error and the audit record", () => {
  const key = 'k'.repeat(60_000);
  const result = validateEvent({ type: 'MARKET_OPEN', [key]: 1 });
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.error.field).toBe(`${'k'.repeat(64)}...`);
  expect(result.error.message.length).toBeLessThan(120);
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add(lt112, { id: 's' });
  const refused = system.send('s', { type: 'MARKET_OPEN', [key]: 1 } as never);
  expect(refused).toMatchObject({ accepted: false, code: 'INVALID_EVENT' });
  expect(JSON.stringify(system.get('s').getAuditTrail().at(-1)).length).toBeLessThan(1000);
});

test('a getter throwing an Error whose message is not a string: refused, not thrown', () => {
  const odd = new Error('x');
  (odd as unknown as { message: unknown }).message = { toString: () => 'odd' };
  const event = {
    type: 'ORDER_FILLED',
    get quantity(): number {
      throw odd;
    },
  };
  expect(() => validateEvent(event)).not.toThrow();
  expect(validateEvent(event).ok).toBe(false);
});

test('a getter throwing an Error whose message getter throws: refused, not thrown', () => {
  const odd = Object.create(Error.prototype, {
    message: {
      get: () => {
        throw new Error('again');
      },
    },
  });
  const event = {
    type: 'ORDER_FILLED',
    get quantity(): number {
      throw odd;
    },
  };
  expect(() => validateEvent(event)).not.toThrow();
});
