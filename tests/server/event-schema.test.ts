/**
 * The zod union that documents `POST /strategies/:id/events` (server/eventSchema.ts) says what
 * `validateEvent`, which the route really uses, accepts: the same types, the same fields, the same
 * required ones, the same leg shape. A field added to one and not the other fails here.
 */
import { STRATEGY_EVENT_TYPES } from '../../machines/events';
import { validateEvent } from '../../machines/validateEvent';
import { strategyEventSchema } from '../../server/eventSchema';
import { EVENT_TEMPLATES } from '../../server/dashboard/eventTemplates';

const branches = new Map(strategyEventSchema.options.map((option) => [option.shape.type.value as string, option]));
const LEG = { right: 'P', strike: 4000, expiry: '2026-12-18', quantity: -1 };

test('one branch per event type, and nothing else', () => {
  expect([...branches.keys()].sort()).toEqual([...STRATEGY_EVENT_TYPES].sort());
});

test.each(STRATEGY_EVENT_TYPES)(
  '%s: the example payload passes both; every documented field is a field of the validator; required fields agree',
  (type) => {
    const example = { type, ...EVENT_TEMPLATES[type] };
    expect(validateEvent(example).ok).toBe(true);
    expect(strategyEventSchema.safeParse(example).success).toBe(true);
    const shape = branches.get(type)!.shape as Record<string, { safeParse(v: unknown): { success: boolean } }>;
    for (const field of Object.keys(shape)) {
      if (field === 'type') continue;
      const result = validateEvent({ ...example, [field]: { not: 'a valid value' } });
      // Refused as a bad value of a known field, never as an unknown field.
      expect(result.ok ? '' : result.error.message).not.toContain('is not a field');
    }
    const required = Object.keys(shape).filter((field) => field !== 'type' && !shape[field].safeParse(undefined).success);
    for (const field of required) {
      const { [field]: _left, ...without } = example as Record<string, unknown>;
      expect(validateEvent(without).ok).toBe(false);
      expect(strategyEventSchema.safeParse(without).success).toBe(false);
    }
    const unknown = { ...example, noSuchField: 1 };
    expect(validateEvent(unknown).ok).toBe(false);
    expect(strategyEventSchema.safeParse(unknown).success).toBe(false);
  },
);

test.each([
  ['a valid leg', true, [LEG]],
  ['a leg with a symbol', true, [{ ...LEG, symbol: 'SPX 261218P4000' }]],
  ['no legs', false, []],
  ['17 legs', false, Array.from({ length: 17 }, () => LEG)],
  ['a leg of quantity 0', false, [{ ...LEG, quantity: 0 }]],
  ['a leg with right "X"', false, [{ ...LEG, right: 'X' }]],
  ['a leg with a negative strike', false, [{ ...LEG, strike: -1 }]],
  ['a leg with a bad expiry', false, [{ ...LEG, expiry: '18/12/2026' }]],
  ['a leg with an extra field', false, [{ ...LEG, note: 'x' }]],
  ['a leg without expiry', false, [{ right: 'P', strike: 4000, quantity: -1 }]],
] as const)('legs: %s -> accepted by both: %s', (_name, ok, legs) => {
  const event = { type: 'ORDER_FILLED', quantity: 1, legs };
  expect(validateEvent(event).ok).toBe(ok);
  expect(strategyEventSchema.safeParse(event).success).toBe(ok);
});
