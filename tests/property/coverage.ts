/**
 * What the generated runs actually exercised, so a generator that stops reaching deep states
 * (stuck deadlines, the circuit breaker, forced ERROR, partial exits) fails the suite instead
 * of passing vacuously.
 */
import type { ExpectedRecord, ReferenceModel } from './model/referenceModel';
import type { State, Traits } from './model/table';

export const coverage = {
  statesByVariant: { zeroDte: new Set<State>(), lt112: new Set<State>(), strangle: new Set<State>() } as Record<Traits['id'], Set<State>>,
  stuckDeadlines: 0,
  autoRecoveries: 0,
  breakerHeld: 0,
  forcedByHooks: 0,
  hookFailures: 0,
  duplicates: 0,
  invalid: 0,
  guardFailed: 0,
  partialExits: 0,
  restores: 0,
};

/** Counts what one step did, from the records the model expected. */
export function tally(variant: Traits['id'], model: ReferenceModel, expected: readonly ExpectedRecord[]): void {
  coverage.statesByVariant[variant].add(model.state);
  for (const r of expected) {
    if (r.trigger === 'lifecycle.deadline') {
      if (r.previousState === 'ERROR') coverage.autoRecoveries++;
      else coverage.stuckDeadlines++;
    }
    if (r.currentState === 'ERROR' && r.previousState !== 'ERROR' && model.breakerOpen && model.state === 'ERROR') coverage.breakerHeld++;
    switch (r.code) {
      case 'HOOK_FAILED':
        coverage.hookFailures++;
        if (r.currentState === 'ERROR' && r.previousState !== 'ERROR') coverage.forcedByHooks++;
        break;
      case 'DUPLICATE_EVENT':
        coverage.duplicates++;
        break;
      case 'INVALID_EVENT':
        coverage.invalid++;
        break;
      case 'GUARD_FAILED':
        coverage.guardFailed++;
        break;
      case undefined: // an accepted record, or a refusal without a code
        break;
    }
    if (r.accepted && r.currentState === 'PARTIAL_EXIT') coverage.partialExits++;
  }
}
