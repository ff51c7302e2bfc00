/**
 * The shape of a stored strategy's context, checked before it is restored. A snapshot edited in
 * the database, or handed to `add({ snapshot })` by a caller, whose context lacks a field or holds
 * one of the wrong kind restored as it was: the first event then threw inside the strategy's
 * actor (reading `stats.timeInState` of undefined), XState relayed the error to the coordinator,
 * and the whole system (every neighbour) stopped; with no observer, the process ended.
 */
import { isStrategyState } from '../../machines/states.js';
import { hasStateTag } from '../../machines/tags.js';

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): boolean => typeof value === 'number' && Number.isInteger(value) && value >= 0;
const isTime = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value);

/** What is wrong with a position, or null. */
function positionRefusal(position: unknown): string | null {
  if (position === null) return null;
  if (!isObject(position)) return 'position must be null or an object';
  if (typeof position.quantity !== 'number' || !Number.isInteger(position.quantity) || position.quantity <= 0) {
    return 'position.quantity must be a positive whole number';
  }
  if (!isTime(position.openedAt)) return 'position.openedAt must be a time in ms';
  if (position.legs !== undefined && !Array.isArray(position.legs)) return 'position.legs must be a list';
  if (position.expiry !== undefined && typeof position.expiry !== 'string') return 'position.expiry must be a date';
  if (position.entryPrice !== undefined && !isTime(position.entryPrice)) return 'position.entryPrice must be a finite number';
  const priced = position.pricedQuantity;
  if (priced !== undefined && !(typeof priced === 'number' && Number.isInteger(priced) && priced > 0 && priced <= position.quantity)) {
    return 'position.pricedQuantity must be a whole number from 1 to position.quantity';
  }
  return null;
}

/** What is wrong with a deadline, or null. */
function deadlineRefusal(deadline: unknown): string | null {
  if (deadline === null) return null;
  if (!isObject(deadline)) return 'deadline must be null or an object';
  if (deadline.kind !== 'ERROR_RECOVERY' && deadline.kind !== 'STUCK') return 'deadline.kind must be ERROR_RECOVERY or STUCK';
  if (!isStrategyState(deadline.state)) return 'deadline.state must be a state of the lifecycle';
  if (!isTime(deadline.at)) return 'deadline.at must be a time in ms';
  return null;
}

/** What is wrong with the statistics, or null. */
function statsRefusal(stats: unknown): string | null {
  if (!isObject(stats)) return 'stats must be an object';
  if (!isCount(stats.transitions) || !isCount(stats.rejected)) return 'stats.transitions and stats.rejected must be whole numbers';
  if (!isObject(stats.timeInState)) return 'stats.timeInState must be an object';
  for (const [state, ms] of Object.entries(stats.timeInState)) {
    if (!isStrategyState(state) || typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      return `stats.timeInState.${state.slice(0, 64)} must be a state's milliseconds`;
    }
  }
  return null;
}

/**
 * What is wrong with a stored context (the first field at fault, in words), or null when it has
 * every field the chart reads, each of its kind.
 *
 * @example
 * ```ts
 * contextRefusal({ ...context, stats: undefined }); // 'stats must be an object'
 * ```
 */
export function contextRefusal(context: unknown): string | null {
  if (!isObject(context)) return 'the context must be an object';
  if (typeof context.strategyId !== 'string' || typeof context.variant !== 'string') return 'strategyId and variant must be strings';
  if (!isObject(context.params)) return 'params must be an object';
  if (!isCount(context.errorCount)) return 'errorCount must be a whole number';
  if (
    context.lastError !== null &&
    !(isObject(context.lastError) && typeof context.lastError.reason === 'string' && isTime(context.lastError.at))
  ) {
    return 'lastError must be null or { reason, at }';
  }
  if (!isObject(context.autoRecoveries) || typeof context.autoRecoveries.day !== 'string' || !isCount(context.autoRecoveries.count)) {
    return 'autoRecoveries must be { day, count }';
  }
  if (!isTime(context.createdAt) || !isTime(context.enteredAt)) return 'createdAt and enteredAt must be times in ms';
  if (context.lastRecord !== null && !(isObject(context.lastRecord) && isCount(context.lastRecord.seq) && isTime(context.lastRecord.at))) {
    return 'lastRecord must be null or an audit record with its seq and time';
  }
  if (!Array.isArray(context.recentEventIds) || context.recentEventIds.some((id) => typeof id !== 'string')) {
    return 'recentEventIds must be a list of strings';
  }
  if (context.incarnation !== undefined && (typeof context.incarnation !== 'string' || context.incarnation === '')) {
    return 'incarnation must be a non-empty string when given';
  }
  return positionRefusal(context.position) ?? deadlineRefusal(context.deadline) ?? statsRefusal(context.stats);
}

/**
 * Whether a stored state fits its position (or null when it does): a strategy holding contracts is
 * only in a state tagged `holdsPosition`, a flat one only in a state tagged `flat`. A snapshot edited
 * in the database, or restored into a changed chart, could otherwise put a position in READY (where
 * nothing would ever exit it) or a flat strategy in MANAGING (whose exit fills are refused).
 * A state the chart does not have is left to the chart's own check.
 *
 * @example
 * ```ts
 * positionStateRefusal('READY', { quantity: 2, openedAt: 0 }); // 'READY is a flat state but the snapshot holds 2 contracts'
 * ```
 */
export function positionStateRefusal(value: unknown, position: unknown): string | null {
  const state = typeof value === 'string' ? value : value !== null && typeof value === 'object' ? Object.keys(value)[0] : undefined;
  if (!isStrategyState(state)) return null;
  const quantity = isObject(position) ? position.quantity : 0;
  if (position !== null && !hasStateTag(state, 'holdsPosition')) {
    return `${state} is a flat state but the snapshot holds ${String(quantity)} contracts`;
  }
  if (position === null && !hasStateTag(state, 'flat')) return `${state} holds a position but the snapshot has none`;
  return null;
}
