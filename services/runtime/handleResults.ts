/**
 * The answers a strategy handle gives: a trigger that never reached the machine (stopped,
 * re-entrant, store required) and the result of a committed transaction.
 */
import type { InvalidEventError, RejectionCode } from '../../machines/errors.js';
import type { StrategyState } from '../../machines/states.js';
import type { TransitionRecord } from '../../machines/types.js';
import { toMarketIso } from '../market/time.js';
import type { TriggerResult } from './strategyActor.js';

/** The records of a send that wrote none (shared, never written to). */
export const NO_RECORDS: readonly TransitionRecord[] = Object.freeze([]);

/** The `trigger` of the record of a trigger that never reached the machine. */
export const NOT_DELIVERED = '(not delivered)';

/** A trigger that was not delivered to the machine: audited as `(not delivered)`, the state unchanged. */
export function undeliveredResult(state: StrategyState, at: number, code: RejectionCode, reason: string): TriggerResult {
  const record: TransitionRecord = {
    seq: 0,
    timestamp: toMarketIso(at),
    at,
    previousState: state,
    currentState: state,
    trigger: NOT_DELIVERED,
    data: {},
    message: reason,
    accepted: false,
    reason,
    code,
  };
  return { accepted: false, from: state, to: state, reason, code, record };
}

/** The answer of a committed transaction, read from its first record (the trigger's own). */
export function committedResult(record: TransitionRecord, error: InvalidEventError | undefined): TriggerResult {
  const result: TriggerResult = { accepted: record.accepted, from: record.previousState, to: record.currentState, record };
  if (record.reason !== undefined) result.reason = record.reason;
  if (record.code !== undefined) result.code = record.code;
  if (error) result.error = error;
  return result;
}
