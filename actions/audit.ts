import { eventTime } from '../guards/types.js';
import type { RejectionCode } from '../machines/errors.js';
import { afterDelayOf, deadlineKindOf } from '../machines/delays.js';
import type { MachineEvent } from '../machines/events.js';
import type { StrategyState } from '../machines/states.js';
import type { StrategyContext, TransitionRecord } from '../machines/types.js';
import { toMarketIso } from '../services/market/time.js';

/** What one audit record says, before the bookkeeping fields are added. */
export interface RecordSpec {
  from: StrategyState;
  to: StrategyState;
  accepted: boolean;
  message: string;
  reason?: string;
  code?: RejectionCode;
  /** The trigger name when it is not the event's own type (rejections made at the boundary). */
  trigger?: string;
  data?: Record<string, unknown>;
  /** The state was left and entered again (its time-in-state interval closes). */
  reentered?: boolean;
}

/** The event's payload as the audit keeps it: every field but `type`, `at` and `eventId`. */
export function payloadOf(event: MachineEvent): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const key in event) {
    // Every event is a plain object (validated at the boundary): its payload is read key by key.
    if (key !== 'type' && key !== 'at' && key !== 'eventId') data[key] = (event as unknown as Record<string, unknown>)[key];
  }
  return data;
}

/**
 * Appends one audit record: the context update that writes `lastRecord`, the statistics and
 * the applied event ids. Constant work per record, whatever the length of the trail.
 *
 * A record that leaves its state also ends the state's stuck deadline (`deadline: null`), in the
 * same update: the stuck states need no `exit` action of their own, which would cost XState a
 * context and snapshot copy per transition. An error-recovery deadline armed by `enterError` for
 * the ERROR this record enters is kept; ERROR's own `exit` clears it when ERROR is left.
 */
export function appendRecord(
  context: StrategyContext,
  event: MachineEvent,
  spec: RecordSpec,
  eventIdWindow: number,
): Partial<StrategyContext> {
  const at = eventTime(event);
  // A delayed transition is audited in the product's words, whoever's timer fired it.
  const delay = afterDelayOf(event.type);
  const record: TransitionRecord = {
    seq: (context.lastRecord?.seq ?? 0) + 1,
    timestamp: toMarketIso(at),
    at,
    previousState: spec.from,
    currentState: spec.to,
    trigger: spec.trigger ?? (delay ? 'lifecycle.deadline' : event.type),
    data: spec.data ?? (delay ? { kind: deadlineKindOf(delay), dueAt: (event as { dueAt?: number }).dueAt ?? at } : payloadOf(event)),
    message: spec.message,
    accepted: spec.accepted,
  };
  if (spec.reason !== undefined) record.reason = spec.reason;
  if (spec.code !== undefined) record.code = spec.code;
  if (event.eventId !== undefined) record.eventId = event.eventId;
  if (spec.reentered === true && spec.to === spec.from) record.reentered = true;

  const stats = context.stats;
  const moved = spec.to !== spec.from || spec.reentered === true;
  let timeInState = stats.timeInState;
  if (moved) {
    timeInState = { ...timeInState };
    timeInState[spec.from] = (timeInState[spec.from] ?? 0) + Math.max(0, at - context.enteredAt);
  }
  const update: Partial<StrategyContext> = {
    lastRecord: record,
    stats: { transitions: stats.transitions + (spec.accepted ? 1 : 0), rejected: stats.rejected + (spec.accepted ? 0 : 1), timeInState },
    // A clock that jumps backwards never yields a negative duration: the interval restarts at the later time.
    enteredAt: moved ? Math.max(at, context.enteredAt) : context.enteredAt,
  };
  if (moved && context.deadline !== null && !(spec.to === 'ERROR' && context.deadline.kind === 'ERROR_RECOVERY')) update.deadline = null;
  if (spec.accepted && event.eventId !== undefined) {
    // One copy, sized once: the newest `eventIdWindow - 1` ids and this one. (An element loop: on
    // Node 20 `copyWithin` over 1,000 ids costs ~30 µs and `concat` ~8 µs; slice + push over-allocates.)
    const old = context.recentEventIds;
    const kept = Math.min(old.length, eventIdWindow - 1);
    const from = old.length - kept;
    const ids = new Array<string>(kept + 1);
    for (let i = 0; i < kept; i++) ids[i] = old[from + i];
    ids[kept] = event.eventId;
    update.recentEventIds = ids;
  }
  return update;
}

/**
 * A text made from two keys, made once per pair and shared by every record that says it (the trail
 * keeps each record's strings). At most `limit` pairs are kept: keys beyond them (a caller's own
 * event types) are worded afresh each time, so the memo stays bounded.
 */
export function sharedTexts(limit: number, make: (a: string, b: string) => string): (a: string, b: string) => string {
  const byFirst = new Map<string, Map<string, string>>();
  let count = 0;
  return (a, b) => {
    let bySecond = byFirst.get(a);
    let text = bySecond?.get(b);
    if (text === undefined) {
      text = make(a, b);
      if (count < limit) {
        if (!bySecond) byFirst.set(a, (bySecond = new Map<string, string>()));
        bySecond.set(b, text);
        count++;
      }
    }
    return text;
  };
}

/** The message of a rejection record, `rejected ORDER_FILLED in READY`: made once per trigger and state. */
export const rejectedMessage: (trigger: string, state: StrategyState) => string = sharedTexts(
  4096,
  (trigger, state) => `rejected ${trigger} in ${state}`,
);

/** The rejection record of an event that no edge of `state` takes. */
export function noEdgeRecord(state: StrategyState, event: MachineEvent): RecordSpec {
  if (event.type === 'lifecycle.rejected') {
    return {
      from: state,
      to: state,
      accepted: false,
      trigger: event.trigger,
      data: event.data ?? {},
      reason: event.reason,
      code: event.code,
      message: rejectedMessage(event.trigger, state),
    };
  }
  return {
    from: state,
    to: state,
    accepted: false,
    reason: `${state} has no edge for ${event.type}`,
    code: 'NO_EDGE',
    message: rejectedMessage(event.type, state),
  };
}
