/**
 * The checks `createStrategySystem`, `openStrategySystem` and `createStrategyActor` run over their
 * options: a window, limit or delay they cannot run with is refused by name
 * ({@link InvalidOptionsError}) before any strategy is made or restored. Before, an `auditWindow`
 * of NaN kept every record in memory and restored none of them; a negative one kept one record;
 * a `retryMs` of -1 retried a failing write in a tight loop; a portfolio limit of NaN let every
 * entry through.
 */
import { hooksProblem } from '../../machines/definition.js';
import { shownValue } from '../../machines/shown.js';
import { MemoryStore } from '../store/memoryStore.js';
import { functionOption, milliseconds, objectOption, refuser, wholeNumber, type Refuse } from '../store/storeOptions.js';

/** The methods every StrategyStore has (the optional ones aside). */
const STORE_METHODS = [
  'open',
  'loadAll',
  'readAuditTrail',
  'create',
  'append',
  'remove',
  'loadSystemState',
  'saveTradingState',
  'saveKillSwitch',
  'close',
] as const;

/**
 * A {@link Clock} when set: an object with `now`, `setTimeout` and `clearTimeout`. Before, any
 * object was taken, and a clock without `setTimeout` threw a TypeError at the first transition
 * that armed a deadline, after the strategy had moved but before its record was stored: the
 * strategy was left ahead of its store and refused every later event.
 */
function checkClock(refuse: Refuse, value: unknown): void {
  objectOption(refuse, 'clock', value);
  if (value === undefined) return;
  const c = value as Record<string, unknown>;
  for (const method of ['now', 'setTimeout', 'clearTimeout'] as const) {
    if (typeof c[method] !== 'function')
      refuse(`clock.${method}`, `must be a function (a Clock has now, setTimeout and clearTimeout), got ${shownValue(c[method])}`);
  }
}

/** Options both systems and the actor share. */
function checkShared(refuse: Refuse, o: Record<string, unknown>): void {
  wholeNumber(refuse, 'auditLimit', o.auditLimit, 1);
  checkClock(refuse, o.clock);
  functionOption(refuse, 'onListenerError', o.onListenerError);
}

/** The kill switch's retries: a count and two backoffs Node's timers can arm. */
function checkKillSwitch(refuse: Refuse, value: unknown): void {
  if (value === undefined) return;
  objectOption(refuse, 'killSwitch', value);
  const k = value as Record<string, unknown>;
  wholeNumber(refuse, 'killSwitch.maxRetries', k.maxRetries, 0, 1000);
  milliseconds(refuse, 'killSwitch.backoffMs', k.backoffMs, 1);
  milliseconds(refuse, 'killSwitch.maxBackoffMs', k.maxBackoffMs, 1);
}

/** The keys `limits` may hold. */
const LIMIT_KEYS: readonly string[] = ['maxOpenPositions', 'maxPerGroup'];

/**
 * Refuses an object that is not a plain one: a Map's entries are not its keys, so the limits it
 * holds would be read as none and every entry would pass.
 */
function plainObject(refuse: Refuse, option: string, value: object): void {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) return;
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  const shownAs = typeof name === 'string' && name ? `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}` : 'an object with a prototype';
  refuse(option, `must be a plain object, got ${shownAs}`);
}

/**
 * Portfolio limits: whole numbers of open positions, 0 refusing every entry (overall, or in that
 * group), in plain objects holding no other key. Before, NaN or `"2"` turned the limit off without a word and -1 or null refused every
 * entry ("0 of -1 open positions are taken").
 */
function checkLimits(refuse: Refuse, value: unknown): void {
  if (value === undefined) return;
  objectOption(refuse, 'limits', value);
  if (Array.isArray(value)) refuse('limits', 'must be an object, got an array');
  plainObject(refuse, 'limits', value as object);
  const l = value as Record<string, unknown>;
  // A misspelt limit (`maxOpenPosition`) would limit nothing: every entry would pass.
  const unknown = Object.keys(l).find((key) => !LIMIT_KEYS.includes(key));
  if (unknown !== undefined) refuse(`limits.${unknown}`, `is not a portfolio limit (${LIMIT_KEYS.join(', ')})`);
  wholeNumber(refuse, 'limits.maxOpenPositions', l.maxOpenPositions, 0);
  if (l.maxPerGroup === undefined) return;
  objectOption(refuse, 'limits.maxPerGroup', l.maxPerGroup);
  if (Array.isArray(l.maxPerGroup)) refuse('limits.maxPerGroup', 'must be an object of group names, got an array');
  plainObject(refuse, 'limits.maxPerGroup', l.maxPerGroup as object);
  for (const [group, max] of Object.entries(l.maxPerGroup as Record<string, unknown>)) {
    wholeNumber(refuse, `limits.maxPerGroup.${group}`, max, 0);
  }
}

/**
 * Checks the options of `createStrategySystem` (`persistent` false) or `openStrategySystem`.
 *
 * @throws {@link InvalidOptionsError} naming the first option at fault.
 * @example
 * ```ts
 * checkSystemOptions({ store, variants, auditWindow: 0 }, true); // throws: openStrategySystem: option auditWindow must be ...
 * ```
 */
export function checkSystemOptions(options: unknown, persistent: boolean): void {
  const refuse: Refuse = refuser(persistent ? 'openStrategySystem' : 'createStrategySystem');
  if (options === undefined && !persistent) return;
  objectOption(refuse, 'options', options);
  if (options === undefined) refuse('options', 'must be an object with a store and variants, got undefined');
  const o = options as Record<string, unknown>;
  checkShared(refuse, o);
  checkKillSwitch(refuse, o.killSwitch);
  checkLimits(refuse, o.limits);
  if (!persistent) return;
  const store = o.store as Record<string, unknown> | null | undefined;
  const missing = STORE_METHODS.find((name) => typeof store?.[name] !== 'function');
  if (missing !== undefined) {
    refuse(
      'store',
      `must be a StrategyStore (SqliteStore, PostgresStore or your own), got ${store === null || typeof store !== 'object' ? String(store) : `an object without ${missing}()`}` +
        (store instanceof MemoryStore ? ': a MemoryStore is for createStrategySystem' : ''),
    );
  }
  if (!Array.isArray(o.variants)) refuse('variants', 'must be an array of strategy definitions');
  milliseconds(refuse, 'retryMs', o.retryMs, 1);
  wholeNumber(refuse, 'auditWindow', o.auditWindow, 1);
  wholeNumber(refuse, 'restoreWindow', o.restoreWindow, 0);
  functionOption(refuse, 'onStoreError', o.onStoreError);
  functionOption(refuse, 'onLeaseChange', o.onLeaseChange);
  functionOption(refuse, 'onKillSwitchEnd', o.onKillSwitchEnd);
  listenerList(refuse, o.listeners);
}

/** Refuses a `listeners` option that is not a list of functions (absent is fine). */
function listenerList(refuse: Refuse, value: unknown): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) refuse('listeners', `must be a list of functions, got ${shownValue(value)}`);
  const listeners = value as unknown[];
  const at = listeners.findIndex((listener) => typeof listener !== 'function');
  if (at !== -1) refuse(`listeners[${at}]`, `must be a function, got ${shownValue(listeners[at])}`);
}

/**
 * Checks the options of `createStrategyActor`.
 *
 * @throws {@link InvalidOptionsError} naming the first option at fault.
 */
export function checkActorOptions(options: unknown): void {
  if (options === undefined) return;
  const refuse: Refuse = refuser('createStrategyActor');
  objectOption(refuse, 'options', options);
  const o = options as Record<string, unknown>;
  checkShared(refuse, o);
  if (o.id !== undefined && (typeof o.id !== 'string' || o.id.length === 0))
    refuse('id', `must be a non-empty string, got ${shownValue(o.id)}`);
  listenerList(refuse, o.listeners);
  const hooks = hooksProblem(o.hooks);
  if (hooks !== null) refuse(hooks.field, hooks.problem);
}
