import { fromCallback } from 'xstate';
import type { MachineEvent } from '../machines/events.js';
import type { Deadline } from '../machines/types.js';
import { clockOf } from './clock.js';

/**
 * The actor invoked by every state with a durable deadline. Its input is the absolute deadline
 * kept in the context, so when XState restores a persisted snapshot it restarts this actor with
 * the same input and the timer is armed for the time that is left: a deadline that passed while
 * the process was down fires at once. (XState's own `after` timers are not restored:
 * statelyai/xstate issue 5331.)
 */
export const deadlineTimer = createDeadlineTimer();

/** A due deadline: the event it produces, and the strategy it belongs to. */
export type DeadlineEvent = Extract<MachineEvent, { type: 'lifecycle.deadline' }>;

/**
 * Makes the deadline actor. By default a due deadline is sent back to its strategy at once;
 * `route` hands it to someone else instead (the persistent system writes it first).
 */
export function createDeadlineTimer(route?: (strategyId: string, event: DeadlineEvent) => void) {
  return fromCallback<{ type: 'never' }, Deadline | null>(({ input, system, self, sendBack }) => {
    if (!input) return undefined;
    const clock = clockOf(system);
    const fire = (at: number) => {
      const event: DeadlineEvent = { type: 'lifecycle.deadline', kind: input.kind, dueAt: input.at, at };
      const strategyId = (self as unknown as { _parent?: { id: string } })._parent?.id;
      if (route && strategyId !== undefined) route(strategyId, event);
      else sendBack(event);
    };
    const remaining = input.at - clock.now();
    if (remaining <= 0) {
      // Passed while the process was down: fire now, stamped with the time it actually happens.
      fire(clock.now());
      return undefined;
    }
    const handle = clock.setTimeout(() => fire(input.at), remaining);
    return () => clock.clearTimeout(handle);
  });
}
