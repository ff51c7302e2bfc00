import { fromCallback } from 'xstate';
import type { MachineEvent } from '../machines/events.js';
import type { Deadline } from '../machines/types.js';
import { clockOf } from './clock.js';

/** A due deadline: the event it produces. */
export type DeadlineEvent = Extract<MachineEvent, { type: 'lifecycle.deadline' }>;

/** What the strategy tells its deadline actor whenever the deadline in its context changes. */
export type DeadlineCommand = { type: 'lifecycle.arm'; deadline: Deadline | null };

/**
 * The deadline actor, one per strategy for its whole life (invoked at the machine's root). The
 * strategy sends it `lifecycle.arm` with the absolute deadline from its context whenever that
 * changes. XState does not restore pending `after` timers from a persisted snapshot
 * (statelyai/xstate issue 5331); this actor, restarted by XState on restore, reads the absolute
 * deadline from its parent's restored context, so the timer is re-armed for the time that is
 * left: a deadline that passed while the process was down fires at once.
 */
export const deadlineTimer = createDeadlineTimer();

/**
 * Makes the deadline actor. By default a due deadline is sent back to its strategy; `route` hands
 * it to someone else instead (the persistent system writes it first).
 */
export function createDeadlineTimer(route?: (strategyId: string, event: DeadlineEvent) => void) {
  return fromCallback<DeadlineCommand, Deadline | null>(({ input, system, self, sendBack, receive }) => {
    const clock = clockOf(system);
    const parent = (self as unknown as { _parent?: { id: string; getSnapshot(): { context?: { deadline?: Deadline | null } } } })._parent;
    let handle: unknown;
    let armed: Deadline | null = null;
    const fire = (deadline: Deadline, at: number) => {
      armed = null;
      handle = undefined;
      const event: DeadlineEvent = { type: 'lifecycle.deadline', kind: deadline.kind, dueAt: deadline.at, at };
      if (route && parent) route(parent.id, event);
      else sendBack(event);
    };
    const arm = (deadline: Deadline | null) => {
      if (handle !== undefined) clock.clearTimeout(handle);
      handle = undefined;
      armed = deadline;
      if (!deadline) return;
      const remaining = deadline.at - clock.now();
      // Passed while the process was down: fire now, stamped with the time it actually happens.
      if (remaining <= 0) fire(deadline, clock.now());
      else handle = clock.setTimeout(() => armed === deadline && fire(deadline, deadline.at), remaining);
    };
    receive((command) => {
      if (command.type === 'lifecycle.arm') arm(command.deadline);
    });
    arm(parent?.getSnapshot().context?.deadline ?? input ?? null);
    return () => {
      if (handle !== undefined) clock.clearTimeout(handle);
    };
  });
}
