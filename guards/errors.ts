import type { GuardCheck } from './types.js';

/** Passes when one more error reaches the strategy's `maxErrors`. */
export function isErrorLimitReached(maxErrors: number): GuardCheck {
  return (context) =>
    context.errorCount + 1 >= maxErrors ? null : `error ${context.errorCount + 1} of ${maxErrors}`;
}

/** Passes for the durable deadline of the ERROR state (auto-recovery). */
export const isRecoveryDeadline: GuardCheck = (context, event) =>
  event.type === 'lifecycle.deadline' && event.kind === 'ERROR_RECOVERY' && context.deadline?.kind === 'ERROR_RECOVERY'
    ? null
    : 'no auto-recovery deadline is armed';

/** Passes for the durable deadline of a state waiting on a broker. */
export const isStuckDeadline: GuardCheck = (context, event) =>
  event.type === 'lifecycle.deadline' && event.kind === 'STUCK' && context.deadline?.kind === 'STUCK'
    ? null
    : 'no stuck-state deadline is armed';
