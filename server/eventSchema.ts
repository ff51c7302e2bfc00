/**
 * The {@link StrategyEvent} union as a zod schema, for the OpenAPI document of
 * `POST /strategies/:id/events`. The route itself validates with `validateEvent` (the runtime
 * must audit a malformed event as a rejection, so it cannot be refused before the handler);
 * this schema describes the same union, and tests/server/event-schema.test.ts keeps the two in
 * step (every type, every field, what is required, the shape of a leg).
 */
import { z } from 'zod';
import { STRATEGY_STATES } from '../machines/states.js';

const MAX_QUANTITY = 1_000_000;
const text = z.string().max(1000);
const nonEmptyText = z.string().min(1).max(1000);
const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .describe('a date written yyyy-MM-dd');
const level = z.number().min(0).max(1000);
const hold = z.boolean();

/** One option leg of a position ({@link OptionLeg}); only these fields are accepted. */
export const optionLegSchema = z
  .object({
    symbol: z.string().max(64).optional().describe('The option symbol, as the broker names it'),
    right: z.enum(['C', 'P']).describe('Call or put'),
    strike: z.number().gt(0).lt(1e9),
    expiry: isoDate,
    quantity: z
      .number()
      .int()
      .min(-MAX_QUANTITY)
      .max(MAX_QUANTITY)
      .refine((q) => q !== 0)
      .describe('Signed contracts: negative for a short leg, never 0'),
  })
  .strict()
  .meta({ id: 'OptionLeg', description: 'One option leg of a position.' });

/** Fields every event may carry beside its payload. */
const base = {
  eventId: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('Idempotency key: an event with an id the strategy already applied is a DUPLICATE_EVENT'),
  at: z
    .number()
    .min(0)
    .optional()
    .describe(
      "Ignored when it is epoch milliseconds (anything else is refused as malformed): every event is stamped with the service clock's time when it is applied (the audit record's `at`)",
    ),
  catchUp: z.string().min(1).max(200).optional().describe('Why a market driver sends this event late'),
};
const fill = {
  quantity: z.number().int().min(1).max(MAX_QUANTITY).describe('Contracts this fill filled'),
  price: z.number().optional(),
  expiry: isoDate.optional(),
  legs: z.array(optionLegSchema).min(1).max(16).optional(),
  underlying: nonEmptyText.optional(),
  orderId: nonEmptyText.optional(),
};
const why = { reason: text.optional() };

const event = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.object({ type: z.literal(type), ...shape, ...base }).strict();

/** Every event a strategy accepts, by `type`; anything else is 400 `INVALID_EVENT` (and audited). */
export const strategyEventSchema = z
  .discriminatedUnion('type', [
    event('MARKET_OPEN', {}),
    event('MARKET_CLOSE', {}),
    event('TIME_WINDOW_START', { window: nonEmptyText.optional() }),
    event('TIME_WINDOW_END', { window: nonEmptyText.optional() }),
    event('ENTRY_CONDITIONS_MET', { vix: level.optional(), expiry: isoDate.optional(), underlying: nonEmptyText.optional() }),
    event('ENTRY_CONDITIONS_FAILED', why),
    event('ORDER_SUBMITTED', { orderId: nonEmptyText.optional() }),
    event('ORDER_FILLED', fill),
    event('ORDER_PARTIALLY_FILLED', fill),
    event('ORDER_REJECTED', { reason: text.optional(), orderId: nonEmptyText.optional() }),
    event('VIX_SPIKE', { vix: level.optional() }),
    event('MARGIN_CALL', why),
    event('RISK_LIMIT_EXCEEDED', why),
    event('CORRELATION_LIMIT', why),
    event('DEFENSIVE_EXIT_DTE', { dte: z.number().int().min(0).max(10_000).optional() }),
    event('EARNINGS_APPROACHING', { symbol: nonEmptyText.optional(), date: isoDate.optional() }),
    event('FOMC_MEETING', { date: isoDate.optional() }),
    event('MANUAL_OVERRIDE', {
      target: z.enum(STRATEGY_STATES),
      reason: nonEmptyText,
      operator: nonEmptyText,
      hold: hold.optional().describe('With target ERROR: no auto-recovery'),
      from: z
        .array(z.enum(STRATEGY_STATES))
        .min(1)
        .max(STRATEGY_STATES.length)
        .optional()
        .describe('Only while the strategy is in one of these states (refused GUARD_FAILED if it moved since you read it)'),
    }),
    event('SYSTEM_ERROR', { reason: text.optional(), hold: hold.optional().describe('Stay in ERROR until RESET or MANUAL_OVERRIDE') }),
    event('EMERGENCY_EXIT', why),
    event('RESET', why),
    event('RESUME', {}),
    event('TERMINATE', why),
  ])
  .meta({ id: 'StrategyEvent', description: 'An event sent to one strategy: `type` and its payload fields side by side.' });
