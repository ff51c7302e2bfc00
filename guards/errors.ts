import type { GuardCheck } from './types.js';

/** Passes when one more error reaches the strategy's `maxErrors`. */
export function isErrorLimitReached(maxErrors: number): GuardCheck {
  return (context) => (context.errorCount + 1 >= maxErrors ? null : `error ${context.errorCount + 1} of ${maxErrors}`);
}

/**
 * Passes when ERROR's auto-recovery is armed: not held for an operator and the circuit breaker
 * was closed when ERROR was entered (its recovery deadline is in the context).
 */
export const isRecoveryArmed: GuardCheck = (context) =>
  context.deadline?.kind === 'ERROR_RECOVERY' ? null : 'no auto-recovery deadline is armed';
