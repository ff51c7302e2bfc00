/**
 * The named delays of the lifecycle (`after` in `machines/lifecycle.ts`): ERROR's auto-recovery
 * and the stuck-state deadline of each state that waits on a broker.
 */
import type { DeadlineKind } from './events.js';

/** Delay name -> the state it guards (`errorRecovery` is ERROR's). */
export const DELAY_NAMES = {
  errorRecovery: 'ERROR',
  stuckPendingEntry: 'PENDING_ENTRY',
  stuckEntering: 'ENTERING',
  stuckPendingExit: 'PENDING_EXIT',
  stuckExiting: 'EXITING',
  stuckPartialExit: 'PARTIAL_EXIT',
} as const;

/** One of the lifecycle's delay names. */
export type DelayName = keyof typeof DELAY_NAMES;

/** Stuck state -> the name of its deadline's delay (the inverse of {@link DELAY_NAMES} for those states). */
export const STUCK_DELAY_OF = {
  PENDING_ENTRY: 'stuckPendingEntry',
  ENTERING: 'stuckEntering',
  PENDING_EXIT: 'stuckPendingExit',
  EXITING: 'stuckExiting',
  PARTIAL_EXIT: 'stuckPartialExit',
} as const satisfies Record<Exclude<(typeof DELAY_NAMES)[DelayName], 'ERROR'>, DelayName>;

const AFTER_PREFIX = 'xstate.after.';
const AFTER = /^xstate\.after\.([^.]+)\./;

/** The delay name of XState's delayed event type (`xstate.after.errorRecovery.lt112.ERROR`), if it is one of ours. */
export function afterDelayOf(type: string): DelayName | undefined {
  // Every audit record asks: the common answer (not a delayed event) costs no regular expression.
  if (!type.startsWith(AFTER_PREFIX)) return undefined;
  const name = AFTER.exec(type)?.[1];
  return name !== undefined && name in DELAY_NAMES ? (name as DelayName) : undefined;
}

/** The kind of deadline a delay is: ERROR's recovery, or a stuck state's. */
export function deadlineKindOf(name: DelayName): DeadlineKind {
  return name === 'errorRecovery' ? 'ERROR_RECOVERY' : 'STUCK';
}

/**
 * A delay's milliseconds as XState resolves it: a number, or a function of `{ context, event }`;
 * undefined when it resolves to no finite number.
 */
export function delayMsOf(delay: unknown, args: { context: unknown; event: unknown }): number | undefined {
  const ms: unknown = typeof delay === 'function' ? (delay as (a: unknown) => unknown)(args) : delay;
  return typeof ms === 'number' && Number.isFinite(ms) ? ms : undefined;
}

/**
 * When the delay falls due: the deadline the state armed on entry, when the context holds it (the
 * delay was resolved then, with the event that entered the state, as XState resolves it, and the
 * audit record announced that instant); else the state's entry plus the delay, resolved now.
 */
export function dueInstant(
  context: { enteredAt: number; deadline: { state?: string; at: number } | null },
  deadlineOf: string | undefined,
  ms: () => number | undefined,
): number | undefined {
  const deadline = context.deadline;
  if (deadlineOf !== undefined && deadline && deadline.state === deadlineOf) return deadline.at;
  const delay = ms();
  return delay === undefined ? undefined : context.enteredAt + delay;
}
