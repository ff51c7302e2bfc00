/**
 * The checks a store's constructor runs over its options: a value the store cannot run with is
 * refused by name ({@link InvalidOptionsError}) before anything is opened, instead of a
 * send that never settles (a batch size of NaN), a timer Node clamps to 1 ms (a wait of
 * Infinity), a check that runs in a tight loop (an interval of 0) or a durability mode the
 * store does not document.
 */
import { shownValue } from '../../machines/shown.js';
import { InvalidOptionsError } from '../../machines/errors.js';
import type { GroupCommitOptions } from './groupCommit.js';
import { MAX_TIMER_MS } from '../market/clock.js';
import { unstorableText } from '../../machines/validateEvent.js';

export { MAX_TIMER_MS };

/** Longest `instanceId` of a PostgreSQL store, in characters (see {@link checkPostgresOptions}). */
export const MAX_INSTANCE_ID = 256;

/** Refuses an option: `component` is what was given it, `option` the key path, `problem` what is wrong. */
export type Refuse = (option: string, problem: string) => never;

/** A {@link Refuse} of `component`'s options. */
export function refuser(component: string): Refuse {
  return (option, problem) => {
    throw new InvalidOptionsError(component, option, problem);
  };
}

/** How a refused value reads in the message: `NaN`, `"10"`, `-1`, `an object`. */
const shown = shownValue;

/** A whole number in `[min, max]` when set. */
export function wholeNumber(refuse: Refuse, option: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    refuse(option, `must be a whole number from ${min} to ${max}, got ${shown(value)}`);
  }
}

/** A number of ms a timer can wait, `[min, MAX_TIMER_MS]`, when set. */
export function milliseconds(refuse: Refuse, option: string, value: unknown, min: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > MAX_TIMER_MS) {
    refuse(option, `must be a number of ms from ${min} to ${MAX_TIMER_MS}, got ${shown(value)}`);
  }
}

function booleanOption(refuse: Refuse, option: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') refuse(option, `must be true or false, got ${shown(value)}`);
}

/** A function when set. */
export function functionOption(refuse: Refuse, option: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') refuse(option, `must be a function, got ${shown(value)}`);
}

/** A non-null object when set. */
export function objectOption(refuse: Refuse, option: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'object' || value === null)) refuse(option, `must be an object, got ${shown(value)}`);
}

/** `groupCommit`: `false`, or bounds that are whole, positive where a zero would stall the queue. */
function checkGroupCommit(refuse: Refuse, value: GroupCommitOptions | false | undefined): void {
  if (value === undefined || value === false) return;
  if (typeof value !== 'object' || value === null) refuse('groupCommit', `must be false or an object, got ${shown(value)}`);
  wholeNumber(refuse, 'groupCommit.maxBatch', value.maxBatch, 1);
  milliseconds(refuse, 'groupCommit.maxWaitMs', value.maxWaitMs, 0);
  wholeNumber(refuse, 'groupCommit.maxWaitTurns', value.maxWaitTurns, 0, 1000);
  wholeNumber(refuse, 'groupCommit.concurrency', value.concurrency, 1, 64);
}

/**
 * Checks `SqliteStore`'s path and options.
 *
 * @throws {@link InvalidOptionsError} naming the first option at fault.
 * @example
 * ```ts
 * checkSqliteOptions('./data/x.db', { groupCommit: { maxBatch: 0 } }); // throws: groupCommit.maxBatch must be a whole number from 1 ...
 * ```
 */
export function checkSqliteOptions(path: unknown, options: unknown): void {
  const refuse: Refuse = refuser('SqliteStore');
  if (typeof path !== 'string' || path === '') refuse('path', `must be a file path or ":memory:", got ${shown(path)}`);
  objectOption(refuse, 'options', options);
  if (options === undefined) return;
  const o = options as Record<string, unknown>;
  if (o.synchronous !== undefined && o.synchronous !== 'FULL' && o.synchronous !== 'NORMAL') {
    refuse('synchronous', `must be "FULL" or "NORMAL", got ${shown(o.synchronous)}`);
  }
  booleanOption(refuse, 'create', o.create);
  booleanOption(refuse, 'lock', o.lock);
  milliseconds(refuse, 'checkEveryMs', o.checkEveryMs, 0);
  // 0 means never; below 100 ms the check (a stat of three files) would keep a core busy.
  if (typeof o.checkEveryMs === 'number' && o.checkEveryMs > 0 && o.checkEveryMs < 100) {
    refuse('checkEveryMs', `must be 0 (never) or at least 100 ms, got ${o.checkEveryMs}`);
  }
  milliseconds(refuse, 'busyTimeoutMs', o.busyTimeoutMs, 0);
  objectOption(refuse, 'checkClock', o.checkClock);
  functionOption(refuse, 'onFault', o.onFault);
  functionOption(refuse, 'onBatch', o.onBatch);
  checkGroupCommit(refuse, o.groupCommit as GroupCommitOptions | false | undefined);
}

/**
 * Checks `PostgresStore`'s options. The connection string is never echoed (it may hold a password).
 *
 * @throws {@link InvalidOptionsError} naming the first option at fault.
 * @example
 * ```ts
 * checkPostgresOptions({ connectionString: 'postgres://app@db/trading', leaseMs: -5 }); // throws: leaseMs must be ...
 * ```
 */
export function checkPostgresOptions(options: unknown): void {
  const refuse: Refuse = refuser('PostgresStore');
  if (typeof options !== 'object' || options === null)
    refuse('options', `must be an object with a connectionString, got ${shown(options)}`);
  const o = options as Record<string, unknown>;
  const connectionString = o.connectionString;
  if (typeof connectionString !== 'string' || connectionString === '') {
    refuse(
      'connectionString',
      `must be a postgres:// URL, got ${typeof connectionString === 'string' ? 'an empty string' : shown(connectionString)}`,
    );
  }
  let protocol = '';
  try {
    protocol = new URL(connectionString).protocol;
  } catch {
    refuse('connectionString', 'is not a URL (expected postgres://user@host:port/database)');
  }
  // `socket:` is pg's own form for a Unix socket (socket:/var/run/postgresql?db=trading).
  if (protocol !== 'postgres:' && protocol !== 'postgresql:' && protocol !== 'socket:') {
    refuse('connectionString', `must start with postgres://, postgresql:// or socket:, got ${JSON.stringify(protocol)}`);
  }
  if (o.instanceId !== undefined && (typeof o.instanceId !== 'string' || o.instanceId === '')) {
    refuse('instanceId', `must be a non-empty string, got ${shown(o.instanceId)}`);
  }
  // Every commit's NOTIFY payload carries the instance id (PostgreSQL refuses one of 8000 bytes or
  // more), and so does every connection's startup (no NUL): past these, the store would open and
  // then fail every write.
  if (typeof o.instanceId === 'string') {
    if (o.instanceId.length > MAX_INSTANCE_ID)
      refuse('instanceId', `must be at most ${MAX_INSTANCE_ID} characters, got ${o.instanceId.length}`);
    const problem = unstorableText(o.instanceId);
    if (problem) refuse('instanceId', problem);
  }
  milliseconds(refuse, 'leaseMs', o.leaseMs, 300);
  milliseconds(refuse, 'lockTimeoutMs', o.lockTimeoutMs, 1);
  milliseconds(refuse, 'queryTimeoutMs', o.queryTimeoutMs, 1);
  wholeNumber(refuse, 'maxConnections', o.maxConnections, 1, 10_000);
  objectOption(refuse, 'clock', o.clock);
  functionOption(refuse, 'onBatch', o.onBatch);
  checkGroupCommit(refuse, o.groupCommit as GroupCommitOptions | false | undefined);
}
