import { shownValue } from './shown.js';
import { InvalidParamsError, describeThrown } from './errors.js';

/** One parameter a variant accepts: a check returning the problem (or null) and a short description. */
export interface ParamRule {
  /** What the value must be, for messages and the API docs, e.g. `a ticker symbol`. */
  describe: string;
  required?: boolean;
  check(value: unknown): string | null;
}

/** The parameters a variant accepts; any other key is refused. */
export type ParamsSchema = Readonly<Record<string, ParamRule>>;

const SYMBOL = /^[A-Z][A-Z0-9.^/-]{0,15}$/;

const shown = shownValue;

/**
 * A ticker symbol: 1-16 capitals, digits, `.`, `^`, `/` or `-`, starting with a letter
 * (`SPX`, `BRK.B`, `^VIX`).
 */
export function symbolParam(options: { required?: boolean } = {}): ParamRule {
  return {
    describe: 'a ticker symbol such as "SPX"',
    ...options,
    check: (v) =>
      typeof v === 'string' && SYMBOL.test(v)
        ? null
        : `must be a ticker symbol (1-16 capitals, digits, ".", "^", "/" or "-"), got ${shown(v)}`,
  };
}

/** A whole number of contracts from 1 to `max` (default 10,000). */
export function contractsParam(options: { required?: boolean; max?: number } = {}): ParamRule {
  const max = options.max ?? 10_000;
  return {
    describe: `a whole number of contracts (1-${max})`,
    ...(options.required !== undefined ? { required: options.required } : {}),
    check: (v) =>
      typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= max
        ? null
        : `must be a whole number of contracts from 1 to ${max}, got ${shown(v)}`,
  };
}

/** The parameters of a variant that declares none: the underlying and the size every variant uses. */
export const DEFAULT_PARAMS: ParamsSchema = { underlying: symbolParam(), quantity: contractsParam() };

/**
 * Checks a strategy's parameters against its variant's schema and returns a fresh object with
 * the known keys only. Throws {@link InvalidParamsError} naming the strategy, the variant and
 * the key at fault: an unknown key, a wrong value or a missing required one (or `params` when
 * a getter or Proxy trap throws as they are read: "could not be read"). Runs before
 * anything is stored, so a stored strategy's params are always flat and bounded.
 *
 * @example
 * ```ts
 * checkParams('lt-1', 'lt112', DEFAULT_PARAMS, { underlying: 'SPX' }); // { underlying: 'SPX' }
 * checkParams('lt-1', 'lt112', DEFAULT_PARAMS, { underlying: 5 });     // throws InvalidParamsError
 * ```
 */
export function checkParams(strategyId: string, variant: string, schema: ParamsSchema, params: unknown): Record<string, unknown> {
  const fail = (field: string, problem: string): never => {
    throw new InvalidParamsError(strategyId, variant, field, problem);
  };
  if (params === undefined) params = {};
  if (typeof params !== 'object' || params === null || Array.isArray(params))
    return fail('params', `must be an object, got ${shown(params)}`);
  // Read once, here: a getter or Proxy trap that throws is refused by name, not thrown as it is.
  let proto: unknown;
  let entries: Array<[string, unknown]>;
  try {
    proto = Object.getPrototypeOf(params);
    entries = Object.entries(params);
  } catch (error) {
    const why: unknown = describeThrown(error);
    return fail('params', `could not be read: ${typeof why === 'string' ? why.slice(0, 120) : 'unreadable'}`);
  }
  if (proto !== Object.prototype && proto !== null) fail('params', 'must be a plain object');
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    if (!Object.prototype.hasOwnProperty.call(schema, key)) {
      const known = Object.keys(schema);
      fail(
        `params.${key.slice(0, 64)}`,
        `is not a parameter of ${variant} (${known.length ? `known: ${known.join(', ')}` : 'it takes none'})`,
      );
    }
    if (value === undefined) continue;
    const problem = schema[key].check(value);
    if (problem) fail(`params.${key}`, problem);
    out[key] = value;
  }
  for (const [key, rule] of Object.entries(schema)) {
    if (rule.required && out[key] === undefined) fail(`params.${key}`, `is required (${rule.describe})`);
  }
  return out;
}
