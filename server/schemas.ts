/**
 * The zod schemas of every route: request bodies, path parameters and query strings are
 * validated with them (fastify-type-provider-zod's `validatorCompiler`; a failure is answered in
 * our error shape, see errors.ts) and the OpenAPI document at `/openapi.json` is generated from
 * them. Response schemas are loose objects (`z.looseObject`): they document what a client can rely
 * on and let a field added later through.
 */
import { z } from 'zod';
import { STRATEGY_STATES } from '../machines/states.js';
import { STRATEGY_ID_PATTERN, STRATEGY_ID_RULE } from '../machines/strategyId.js';
import { unstorableText } from '../machines/validateEvent.js';
import { MAX_OPERATOR, MAX_REASON } from '../services/runtime/operatorText.js';
import { strategyEventSchema } from './eventSchema.js';

/** A strategy id as the API accepts it (also in paths): the one rule of machines/strategyId.ts. */
export const ID_PATTERN = STRATEGY_ID_PATTERN;
const idSchema = z.string().regex(ID_PATTERN, STRATEGY_ID_RULE);
/**
 * Text a store can keep: no NUL character or half of a surrogate pair (PostgreSQL refuses both;
 * before, a NUL in a reason was answered 503). The kill switch's text is not refused but made
 * storable (see `killSwitchReasonSchema`).
 */
const storable = (schema: z.ZodString) =>
  schema.superRefine((value, ctx) => {
    const problem = unstorableText(value);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
  });
const reasonSchema = storable(z.string().trim().min(1).max(MAX_REASON));
/** Who asked for a system-wide change; kept in the stored history. */
const operatorSchema = storable(z.string().trim().min(1).max(MAX_OPERATOR));
/**
 * A kill switch's text: any string. The kill switch is never refused for its text (an emergency
 * script may pass an error's long message): the system makes it storable (`killSwitchText` in
 * services/runtime/operatorText.ts), as it does for a programmatic `startKillSwitch`. Before, the
 * route held it to `reasonSchema` and answered 400 to a NUL or a reason past 500 characters.
 */
const killSwitchReasonSchema = z
  .string()
  .describe(
    `Any text, recorded made storable: NUL characters and halves of surrogate pairs become U+FFFD, text past ${MAX_REASON} characters is cut to ${MAX_REASON} ending with "\u2026", an empty reason is recorded as "no reason given"`,
  );
const killSwitchOperatorSchema = z
  .string()
  .describe(
    `Who engaged it (default "api"): any text, recorded made storable: NUL characters and halves of surrogate pairs become U+FFFD, text past ${MAX_OPERATOR} characters is cut to ${MAX_OPERATOR} ending with "\u2026", an empty operator is recorded as "kill-switch"`,
  );
const state = z.enum(STRATEGY_STATES);
const tradingState = z.enum(['ACTIVE', 'REDUCING', 'HALTED']);

/** Our error shape: every 4xx and 5xx answer. */
export const apiErrorSchema = z
  .looseObject({
    error: z.object({
      code: z.string().describe('Stable code (INVALID_REQUEST, UNKNOWN_STRATEGY, ...); see docs/http.md'),
      message: z.string(),
      field: z.string().optional().describe('The input field at fault, when there is one'),
    }),
  })
  .meta({ id: 'ApiError' });

/** Request bodies. */
export const bodies = {
  // params are checked against the variant by system.add (InvalidParamsError -> 400 INVALID_PARAMS).
  create: z
    .object({
      id: idSchema,
      variant: z.string().min(1).max(64),
      params: z.record(z.string(), z.unknown()).optional().describe("The variant's parameters (GET /variants lists the variants)"),
    })
    .strict(),
  reason: z.object({ reason: reasonSchema }).strict(),
  empty: z.object({}).strict(),
  tradingState: z.object({ state: tradingState, reason: reasonSchema, operator: operatorSchema.optional() }).strict(),
  killSwitch: z.object({ reason: killSwitchReasonSchema, operator: killSwitchOperatorSchema.optional() }).strict(),
  event: strategyEventSchema,
};

/** Path parameters. A strategy id that is not an id is 400 `INVALID_ID`. */
export const params = {
  strategy: z.object({ id: idSchema }),
  // Looked up, not matched: an unknown variant or format is a 404.
  diagram: z.object({ id: z.string().describe('A variant id'), format: z.enum(['svg', 'mmd']).or(z.string()).describe('svg or mmd') }),
  page: z.object({ id: z.string() }),
};

/**
 * `GET /strategies/:id`: a page of the audit trail, newest first (bad numbers fall back to the
 * defaults). Pages older than the strategy's in-memory window are read from the store.
 */
export const auditQuery = z.object({
  before: z
    .string()
    .optional()
    .describe("Only records older than this seq: the previous page's `next` (default: from the newest); wins over offset"),
  offset: z.string().optional().describe('Records to skip from the newest (default 0)'),
  limit: z
    .string()
    .optional()
    .describe(
      'Records in the page, 1-500 (default 50); 0: no page, the strategy and its statistics only (a dormant strategy is not woken)',
    ),
});

const scheduledItem = z.object({
  kind: z.enum(['ERROR_RECOVERY', 'STUCK', 'DEFENSIVE_EXIT_DTE', 'SAME_DAY_EXIT']),
  label: z.string(),
  at: z.string(),
});
/** A strategy as the API shows it (`StrategyView`). */
export const strategyViewSchema = z
  .looseObject({
    id: z.string(),
    variant: z.string(),
    state,
    value: z.unknown().describe("XState's state value (substates included)"),
    enteredAt: z.string().describe('New York time with its offset'),
    timeInStateMs: z.number(),
    position: z.looseObject({ quantity: z.number(), expiry: z.string().optional(), underlying: z.string().optional() }).nullable(),
    errorCount: z.number(),
    lastError: z.object({ reason: z.string(), at: z.string() }).nullable(),
    deadline: z.object({ kind: z.string(), at: z.string() }).nullable(),
    schedule: z.array(scheduledItem),
    instance: z.string().nullable(),
    params: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'StrategyView' });

/** One audit record (`TransitionRecord`). */
export const transitionRecordSchema = z
  .looseObject({
    seq: z.number(),
    timestamp: z.string(),
    at: z.number(),
    previousState: state,
    currentState: state,
    trigger: z.string(),
    data: z.record(z.string(), z.unknown()),
    message: z.string(),
    accepted: z.boolean(),
    reason: z.string().optional(),
    code: z.string().optional().describe('Why it was refused: NO_EDGE, GUARD_FAILED, DUPLICATE_EVENT, INVALID_EVENT, ...'),
    eventId: z.string().optional(),
  })
  .meta({ id: 'TransitionRecord' });

/** What a trigger did (`TriggerResult`). */
export const triggerResultSchema = z
  .looseObject({
    accepted: z.boolean(),
    from: state,
    to: state,
    reason: z.string().optional(),
    code: z.string().optional(),
    record: transitionRecordSchema,
  })
  .meta({ id: 'TriggerResult' });

const operationResult = z.looseObject({
  changed: z.array(z.looseObject({ strategyId: z.string(), to: z.string() })),
  skipped: z.array(z.looseObject({ strategyId: z.string() })),
});
const tradingChange = z.looseObject({
  from: tradingState,
  to: tradingState,
  reason: z.string(),
  operator: z.string().optional(),
  at: z.number(),
});

/** Response bodies, by route (typed `unknown` for the handlers: they return the runtime's own types). */
export const responses = documented({
  health: z.looseObject({
    status: z.literal('ok'),
    strategies: z.number(),
    tradingState,
    trading: z.looseObject({
      state: tradingState,
      reason: z.string().nullable(),
      operator: z.string().nullable(),
      since: z.string().nullable(),
    }),
    store: z.string(),
  }),
  ready: z.looseObject({ status: z.literal('ready'), store: z.string(), clock: z.enum(['running', 'no driver']) }),
  summary: z
    .looseObject({ tradingState, totalStrategies: z.number(), countByState: z.record(z.string(), z.number()) })
    .describe('The system summary (SystemSummary)'),
  variants: z.object({ variants: z.array(z.object({ id: z.string(), name: z.string(), description: z.string() })) }),
  strategies: z.object({ instance: z.string().nullable(), strategies: z.array(strategyViewSchema) }),
  strategy: z.looseObject({
    strategy: strategyViewSchema,
    statistics: z.looseObject({}).describe('Counts and time in each state (StrategyStatistics)'),
    audit: z.object({
      total: z.number().describe('Records in the whole trail (the newest seq)'),
      offset: z.number(),
      limit: z.number(),
      records: z.array(transitionRecordSchema).describe('Newest first'),
      next: z.number().nullable().describe('`before` of the next, older page; null at the first record'),
    }),
  }),
  created: z.object({ strategy: strategyViewSchema }),
  event: z.object({ result: triggerResultSchema }),
  eventRefused: apiErrorSchema.extend({ result: z.looseObject({}).optional().describe('The refused trigger, as audited') }),
  operation: z.object({ result: operationResult }),
  tradingChange: z.object({ change: tradingChange }),
  killSwitch: z.object({ status: z.literal('flattening'), tradingState }),
  market: z.looseObject({
    driver: z.boolean(),
    simulated: z.boolean(),
    now: z.string(),
    phase: z.enum(['open', 'closed']),
    nextBell: z.object({ type: z.enum(['MARKET_OPEN', 'MARKET_CLOSE']), at: z.string() }).nullable(),
    driven: z.number(),
    instance: z.string().nullable(),
  }),
  /** 204: no body. */
  empty: z.null().describe('No content'),
});

/**
 * Response schemas describe and check what goes out; handlers keep returning the runtime's
 * interfaces (`StrategyView`, `TriggerResult`, ...) rather than zod's copies of them.
 */
function documented<T extends Record<string, z.ZodType>>(schemas: T): { [K in keyof T]: z.ZodType } {
  return schemas;
}

/** The error answers a route may give, each in our shape. */
export function errorResponses(...statuses: number[]): Record<number, z.ZodType> {
  return Object.fromEntries(statuses.map((status) => [status, apiErrorSchema]));
}
