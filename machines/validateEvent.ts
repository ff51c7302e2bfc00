import { shownValue } from './shown.js';
import { isIsoDate } from '../services/market/time.js';
import { InvalidEventError } from './errors.js';
import { STRATEGY_EVENT_TYPES, isStrategyEventType, type StrategyEvent, type StrategyEventType } from './events.js';
import { STRATEGY_STATES } from './states.js';

type Rule = (value: unknown) => string | null;

const MAX_TEXT = 1000;
const MAX_QUANTITY = 1_000_000;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why a string cannot be stored as it is, or null: a NUL character or half of a surrogate pair
 * (PostgreSQL's JSON refuses both, and would fail every write committed with it).
 */
export function unstorableText(v: string): string | null {
  if (v.includes('\u0000')) return 'must not contain the NUL character (U+0000)';
  return LONE_SURROGATE.test(v) ? 'must be well-formed Unicode (it holds half of a surrogate pair)' : null;
}
const text: Rule = (v) =>
  typeof v !== 'string'
    ? `must be a string, got ${describe(v)}`
    : v.length > MAX_TEXT
      ? `must be at most ${MAX_TEXT} characters`
      : unstorableText(v);
const nonEmptyText: Rule = (v) => text(v) ?? ((v as string).trim() === '' ? 'must not be empty' : null);
const quantity: Rule = (v) =>
  typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= MAX_QUANTITY
    ? null
    : `must be a positive whole number of contracts (1-${MAX_QUANTITY}), got ${describe(v)}`;
const finite: Rule = (v) =>
  typeof v === 'number' && Number.isFinite(v) && Math.abs(v) < 1e12 ? null : `must be a finite number, got ${describe(v)}`;
const level: Rule = (v) =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1000 ? null : `must be a number from 0 to 1000, got ${describe(v)}`;
const days: Rule = (v) =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 10_000 ? null : `must be a whole number of days >= 0, got ${describe(v)}`;
const date: Rule = (v) => (isIsoDate(v) ? null : `must be a date written yyyy-MM-dd, got ${describe(v)}`);
const flag: Rule = (v) => (typeof v === 'boolean' ? null : `must be true or false, got ${describe(v)}`);
const state: Rule = (v) =>
  (STRATEGY_STATES as readonly unknown[]).includes(v) ? null : `must be one of the 15 lifecycle states, got ${describe(v)}`;
const states: Rule = (v) => {
  if (!Array.isArray(v) || v.length === 0 || v.length > STRATEGY_STATES.length)
    return `must be a list of 1 to ${STRATEGY_STATES.length} lifecycle states, got ${describe(v)}`;
  for (let i = 0; i < v.length; i++) {
    const problem = state(v[i]);
    if (problem) return `[${i}] ${problem}`;
  }
  return null;
};
const LEG_FIELDS: readonly string[] = ['symbol', 'right', 'strike', 'expiry', 'quantity'];
const LEG_FIELD_SET: ReadonlySet<string> = new Set(LEG_FIELDS);
const legs: Rule = (v) => {
  if (!Array.isArray(v) || v.length === 0 || v.length > 16) return `must be a list of 1 to 16 legs, got ${describe(v)}`;
  for (let i = 0; i < v.length; i++) {
    const leg: unknown = v[i];
    if (!isPlainObject(leg)) return `[${i}] must be an object`;
    // Only the documented fields: anything else would be stored unchecked (and could nest without bound).
    for (const key of Object.keys(leg)) {
      if (!LEG_FIELD_SET.has(key)) return `[${i}].${key.slice(0, 64)} is not a field of a leg (${LEG_FIELDS.join(', ')})`;
    }
    const problem =
      (leg.right === 'C' || leg.right === 'P' ? null : `[${i}].right must be "C" or "P"`) ??
      (typeof leg.strike === 'number' && Number.isFinite(leg.strike) && leg.strike > 0 && leg.strike < 1e9
        ? null
        : `[${i}].strike must be a positive number`) ??
      (isIsoDate(leg.expiry) ? null : `[${i}].expiry must be a date written yyyy-MM-dd`) ??
      (typeof leg.quantity === 'number' && Number.isInteger(leg.quantity) && leg.quantity !== 0 && Math.abs(leg.quantity) <= MAX_QUANTITY
        ? null
        : `[${i}].quantity must be a non-zero whole number (at most ${MAX_QUANTITY} contracts)`) ??
      (leg.symbol === undefined || (typeof leg.symbol === 'string' && leg.symbol.length <= 64 && unstorableText(leg.symbol) === null)
        ? null
        : `[${i}].symbol must be a string of at most 64 characters (no NUL, no half surrogate pair)`);
    if (problem) return problem;
  }
  return null;
};

/** A fresh copy of valid legs holding only the documented fields, so the caller's objects are never stored. */
function copyLegs(v: unknown): unknown {
  const legs = v as Array<Record<string, unknown>>;
  const copies = new Array<Record<string, unknown>>(legs.length);
  for (let i = 0; i < legs.length; i++) {
    const leg = legs[i];
    const copy: Record<string, unknown> = {};
    for (const key of LEG_FIELDS) if (leg[key] !== undefined) copy[key] = leg[key];
    copies[i] = copy;
  }
  return copies;
}

interface Field {
  rule: Rule;
  required?: boolean;
}
const opt = (rule: Rule): Field => ({ rule });
const req = (rule: Rule): Field => ({ rule, required: true });
const fill = {
  quantity: req(quantity),
  price: opt(finite),
  expiry: opt(date),
  legs: opt(legs),
  underlying: opt(nonEmptyText),
  orderId: opt(nonEmptyText),
};
const why = { reason: opt(text) };

/** The payload fields of each event type; anything else is rejected as unknown. */
const SCHEMAS: Record<StrategyEventType, Record<string, Field>> = {
  MARKET_OPEN: {},
  MARKET_CLOSE: {},
  TIME_WINDOW_START: { window: opt(nonEmptyText) },
  TIME_WINDOW_END: { window: opt(nonEmptyText) },
  ENTRY_CONDITIONS_MET: { vix: opt(level), expiry: opt(date), underlying: opt(nonEmptyText) },
  ENTRY_CONDITIONS_FAILED: why,
  ORDER_SUBMITTED: { orderId: opt(nonEmptyText) },
  ORDER_FILLED: fill,
  ORDER_PARTIALLY_FILLED: fill,
  ORDER_REJECTED: { reason: opt(text), orderId: opt(nonEmptyText) },
  VIX_SPIKE: { vix: opt(level) },
  MARGIN_CALL: why,
  RISK_LIMIT_EXCEEDED: why,
  CORRELATION_LIMIT: why,
  DEFENSIVE_EXIT_DTE: { dte: opt(days) },
  EARNINGS_APPROACHING: { symbol: opt(nonEmptyText), date: opt(date) },
  FOMC_MEETING: { date: opt(date) },
  MANUAL_OVERRIDE: { target: req(state), reason: req(nonEmptyText), operator: req(nonEmptyText), hold: opt(flag), from: opt(states) },
  SYSTEM_ERROR: { reason: opt(text), hold: opt(flag) },
  EMERGENCY_EXIT: why,
  RESET: why,
  RESUME: {},
  TERMINATE: why,
};

/** The required fields of each event type, worked out once (validation runs on every trigger). */
const REQUIRED = Object.fromEntries(
  Object.entries(SCHEMAS).map(([type, fields]) => [type, Object.keys(fields).filter((key) => fields[key].required)]),
) as Record<StrategyEventType, string[]>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const describe = shownValue;

/**
 * Builds an error without capturing a stack: a bad event is data about the caller's input, the
 * validator's own stack says nothing, and capturing it dominates the cost of rejecting garbage.
 */
function withoutStack<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** What a caller sent as the type, for the audit record of a rejected event. */
export function sentType(input: unknown): string {
  const type = isPlainObject(input) ? input.type : undefined;
  return typeof type === 'string' && type.length > 0 ? type.slice(0, 64) : '(invalid event)';
}

/** Result of {@link validateEvent}. */
export type EventValidation = { ok: true; event: StrategyEvent } | { ok: false; error: InvalidEventError };

/** A failed validation: the error names the event type, the field and the problem. */
function failure(type: string, field: string, problem: string): EventValidation {
  return { ok: false, error: withoutStack(() => new InvalidEventError(type, field, problem)) };
}

/**
 * Checks anything a caller sends against the {@link StrategyEvent} union. On success the event is
 * a fresh object holding only known fields; on failure the error names the field and the problem.
 * Never throws.
 *
 * @example
 * ```ts
 * validateEvent({ type: 'ORDER_FILLED', quantity: -3 });
 * // { ok: false, error: InvalidEventError('ORDER_FILLED: quantity must be a positive whole number ...') }
 * ```
 */
export function validateEvent(input: unknown): EventValidation {
  try {
    return checkedEvent(input);
  } catch (error) {
    // A getter or a Proxy trap that throws: the event cannot be read, so it is refused as such
    // (what was thrown may itself be unreadable: a message that is no string, or a getter that throws).
    let why = 'unreadable';
    try {
      const message: unknown = error instanceof Error ? error.message : describe(error);
      if (typeof message === 'string') why = message.slice(0, 120);
    } catch {
      // keep 'unreadable'
    }
    return failure('(invalid event)', 'event', `could not be read: ${why}`);
  }
}

/**
 * A list field's own copy, each element read once (an object element copied key by key): the
 * rules check the copy, and the copy is what is stored, so a getter or a Proxy cannot answer the
 * check with one value and the store with another.
 */
function ownCopy(value: unknown): unknown {
  if (!Array.isArray(value) || value.length > 64) return value;
  return Array.from(value as unknown[], (element) => (isPlainObject(element) ? { ...element } : element));
}

/** A field name as an error or audit record repeats it: at most 64 characters. */
const shownKey = (key: string) => (key.length > 64 ? `${key.slice(0, 64)}...` : key);

function checkedEvent(input: unknown): EventValidation {
  if (!isPlainObject(input)) return failure('(invalid event)', 'event', `must be an object with a type, got ${describe(input)}`);
  const type = input.type;
  if (!isStrategyEventType(type)) {
    return failure(sentType(input), 'type', `must be one of ${STRATEGY_EVENT_TYPES.join(', ')}, got ${describe(type)}`);
  }
  const schema = SCHEMAS[type];
  const event: Record<string, unknown> = { type };
  // `for...in` over own keys: the same keys as `Object.keys`, without an array per trigger.
  for (const key in input) {
    if (key === 'type' || !Object.prototype.hasOwnProperty.call(input, key)) continue;
    let value = input[key];
    if (key === 'eventId') {
      const problem = nonEmptyText(value) ?? ((value as string).length > 200 ? 'must be at most 200 characters' : null);
      if (problem) return failure(type, 'eventId', problem);
    } else if (key === 'catchUp') {
      const problem = nonEmptyText(value) ?? ((value as string).length > 200 ? 'must be at most 200 characters' : null);
      if (problem) return failure(type, 'catchUp', problem);
    } else if (key === 'at') {
      const problem =
        typeof value === 'number' && Number.isFinite(value) && value >= 0 ? null : `must be epoch milliseconds, got ${describe(value)}`;
      if (problem) return failure(type, 'at', problem);
    } else if (Object.prototype.hasOwnProperty.call(schema, key)) {
      if (value === undefined) continue;
      if (key === 'legs' || key === 'from') value = ownCopy(value);
      const problem = schema[key].rule(value);
      if (problem) return failure(type, key, problem);
      if (key === 'legs') {
        event[key] = copyLegs(value);
        continue;
      }
      // `from`: already our own copy (ownCopy), so the caller's array stays the caller's.
      // -0 is 0: JSON (the store, the audit) writes it so, and the live copy must not differ from the stored one.
      if (value === 0) value = 0;
    } else {
      return failure(type, shownKey(key), `is not a field of ${type}`);
    }
    event[key] = value;
  }
  for (const key of REQUIRED[type]) {
    if (event[key] === undefined) return failure(type, key, 'is required');
  }
  // Every field of its type was checked above: the fresh object is that event.
  return { ok: true, event: event as unknown as StrategyEvent };
}
