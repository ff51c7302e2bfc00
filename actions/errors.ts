import { eventTime } from '../guards/types.js';
import type { ResolvedDefinition } from '../machines/definition.js';
import { afterDelayOf } from '../machines/delays.js';
import type { MachineEvent } from '../machines/events.js';
import type { StrategyState, StuckState } from '../machines/states.js';
import type { StrategyContext } from '../machines/types.js';
import { formatDuration, marketDate, toMarketIso } from '../services/market/time.js';

/** Why the strategy is entering ERROR, in the words the audit and the summary show. */
export function errorReason(context: StrategyContext, event: MachineEvent, from: StrategyState): string {
  switch (event.type) {
    case 'SYSTEM_ERROR':
      return event.reason ?? 'system error';
    case 'lifecycle.hookFailed':
      return `hook ${event.hook} threw: ${event.message}`;
    case 'MANUAL_OVERRIDE':
      return `manual override by ${event.operator}: ${event.reason}`;
    default:
      if (afterDelayOf(event.type))
        return `stuck in ${from} for ${formatDuration((('dueAt' in event ? event.dueAt : undefined) ?? eventTime(event)) - context.enteredAt)}`;
      return `${event.type} in ${from}`;
  }
}

/** A SYSTEM_ERROR or MANUAL_OVERRIDE with `hold`: ERROR waits for an operator, no auto-recovery. */
function isHeld(event: MachineEvent): boolean {
  return (event.type === 'SYSTEM_ERROR' || event.type === 'MANUAL_OVERRIDE') && event.hold === true;
}

/**
 * Entering ERROR: remember why, and arm the durable recovery deadline unless the circuit
 * breaker is open (`maxAutoRecoveries` already used on this New York trading day).
 */
export function enterError(
  context: StrategyContext,
  event: MachineEvent,
  from: StrategyState,
  def: ResolvedDefinition,
  /** The recovery delay the running machine uses (`machine.provide({ delays })` may change it). */
  recoveryMs: number = def.errorRecoveryMs,
): Partial<StrategyContext> {
  const at = eventTime(event);
  const reason = errorReason(context, event, from);
  const today = marketDate(at);
  const used = context.autoRecoveries.day === today ? context.autoRecoveries.count : 0;
  const held = isHeld(event);
  const circuitOpen = used >= def.maxAutoRecoveries;
  return {
    lastError: { reason, at },
    deadline: circuitOpen || held ? null : { kind: 'ERROR_RECOVERY', state: 'ERROR', at: at + recoveryMs },
  };
}

/** The message of a record that enters ERROR: the reason and what happens next. */
export function errorMessage(context: StrategyContext, event: MachineEvent, from: StrategyState, def: ResolvedDefinition): string {
  const reason = context.lastError?.reason ?? 'unknown error';
  if (context.deadline?.kind === 'ERROR_RECOVERY') {
    return `${from} -> ERROR: ${reason}; auto-recovery at ${toMarketIso(context.deadline.at)}`;
  }
  if (isHeld(event)) return `${from} -> ERROR: ${reason}; held for an operator: RESET or MANUAL_OVERRIDE`;
  return `${from} -> ERROR: ${reason}; circuit breaker open (${def.maxAutoRecoveries} auto-recoveries today): waiting for RESET or MANUAL_OVERRIDE`;
}

/** A failed hook counts one error; the count never passes `maxErrors`. */
export function countError(context: StrategyContext, event: MachineEvent, maxErrors: number): Partial<StrategyContext> {
  const reason = event.type === 'lifecycle.hookFailed' ? `hook ${event.hook} threw: ${event.message}` : `${event.type} failed`;
  return { errorCount: Math.min(context.errorCount + 1, maxErrors), lastError: { reason, at: eventTime(event) } };
}

/** One more auto-recovery on the event's New York trading day, for the circuit breaker. */
export function countAutoRecovery(context: StrategyContext, event: MachineEvent): Partial<StrategyContext> {
  const day = marketDate(eventTime(event));
  const count = context.autoRecoveries.day === day ? context.autoRecoveries.count + 1 : 1;
  return { autoRecoveries: { day, count } };
}

/** Arms the stuck-state deadline of a state that waits on a broker, `ms` after the event. */
export function armStuckDeadline(event: MachineEvent, state: StuckState, ms: number): Partial<StrategyContext> {
  return { deadline: { kind: 'STUCK', state, at: eventTime(event) + ms } };
}
