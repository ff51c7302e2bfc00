/**
 * The first step of a strategy's pipeline, and the question it answers without triggering:
 * validation, duplicate event ids and the system's gate, read from the committed snapshot.
 * Nothing here changes the strategy.
 */
import { payloadOf } from '../../actions/audit.js';
import type { StrategyMachine, StrategySnapshot } from '../../machines/createStrategyMachine.js';
import type { RejectionCode } from '../../machines/errors.js';
import type { StrategyEvent } from '../../machines/events.js';
import { topLevelState } from '../../machines/states.js';
import { sentType, validateEvent } from '../../machines/validateEvent.js';
import type { Clock } from '../market/clock.js';
import type { EventIdIndex } from './eventIdIndex.js';
import { SAFETY_TRIGGERS } from './handleCallbacks.js';
import type { PreparedTrigger, TriggerGate } from './handleTypes.js';
import { refusalOf, rejectionEvent } from './rejection.js';

/** What preparing or explaining a trigger reads from its strategy. */
export interface TriggerScope {
  id: string;
  machine: StrategyMachine;
  clock: Clock;
  eventIds: EventIdIndex;
}

/**
 * A clock that jumps backwards is treated as standing still until it catches up: a strategy's
 * trail never goes back in time and no duration is negative.
 */
const stampOf = (clock: Clock, snapshot: StrategySnapshot) => Math.max(clock.now(), snapshot.context.lastRecord?.at ?? -Infinity);

/**
 * The event `input` sends into an active strategy at `snapshot`: itself (stamped), or the
 * rejection that replaces it (invalid, duplicate, refused by `gate`). `hooksAfter` is
 * `withHooks` for a safety trigger, whose hooks cannot block it.
 */
export function prepareTrigger(
  scope: TriggerScope,
  snapshot: StrategySnapshot,
  input: StrategyEvent,
  gate: TriggerGate | undefined,
  withHooks: boolean,
): PreparedTrigger {
  const seqBefore = snapshot.context.lastRecord?.seq ?? 0;
  const at = stampOf(scope.clock, snapshot);
  const validation = validateEvent(input);
  if (!validation.ok) {
    return {
      kind: 'event',
      seqBefore,
      hooksAfter: false,
      error: validation.error,
      event: { type: 'lifecycle.rejected', trigger: sentType(input), reason: validation.error.message, code: 'INVALID_EVENT', at },
    };
  }
  // validateEvent returned a fresh object: stamping it is safe.
  const event = validation.event;
  event.at = at;
  const { type, eventId } = event;
  if (eventId !== undefined && scope.eventIds.has(snapshot.context.recentEventIds, eventId)) {
    return {
      kind: 'event',
      seqBefore,
      hooksAfter: false,
      event: {
        type: 'lifecycle.rejected',
        trigger: type,
        reason: `duplicate eventId "${eventId}": already applied to ${scope.id}`,
        code: 'DUPLICATE_EVENT',
        data: payloadOf(event),
        at,
        eventId,
      },
    };
  }
  const refusal = gate?.(topLevelState(snapshot.value), event, snapshot.context);
  if (refusal) return { kind: 'event', seqBefore, hooksAfter: false, event: rejectionEvent(event, refusal, at) };
  return { kind: 'event', seqBefore, hooksAfter: withHooks && SAFETY_TRIGGERS.includes(event.type), event };
}

/** Why `input` would be refused at `snapshot` (code and reason, as the audit would say; `gate`: the system's checks, side-effect free), or null. */
export function explainTrigger(
  scope: TriggerScope,
  snapshot: StrategySnapshot,
  input: StrategyEvent,
  gate?: TriggerGate,
): { code: RejectionCode; reason: string } | null {
  const validation = validateEvent(input);
  if (!validation.ok) return { code: 'INVALID_EVENT', reason: validation.error.message };
  const event = validation.event;
  event.at = stampOf(scope.clock, snapshot);
  if (event.eventId !== undefined && scope.eventIds.has(snapshot.context.recentEventIds, event.eventId)) {
    return { code: 'DUPLICATE_EVENT', reason: `duplicate eventId "${event.eventId}": already applied to ${scope.id}` };
  }
  return gate?.(topLevelState(snapshot.value), event, snapshot.context) ?? refusalOf(scope.machine, snapshot, event);
}
