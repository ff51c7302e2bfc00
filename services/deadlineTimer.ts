import { fromCallback } from 'xstate';
import type { Deadline } from '../machines/types.js';
import { clockOf } from './clock.js';

/**
 * The actor invoked by every state with a durable deadline. Its input is the absolute deadline
 * kept in the context, so when XState restores a persisted snapshot it restarts this actor with
 * the same input and the timer is armed for the time that is left: a deadline that passed while
 * the process was down fires at once. (XState's own `after` timers are not restored:
 * statelyai/xstate issue 5331.)
 */
export const deadlineTimer = fromCallback<{ type: 'never' }, Deadline | null>(({ input, system, sendBack }) => {
  if (!input) return undefined;
  const clock = clockOf(system);
  const fire = (at: number) => sendBack({ type: 'lifecycle.deadline', kind: input.kind, dueAt: input.at, at });
  const remaining = input.at - clock.now();
  if (remaining <= 0) {
    // Passed while the process was down: fire now, stamped with the time it actually happens.
    fire(clock.now());
    return undefined;
  }
  const handle = clock.setTimeout(() => fire(input.at), remaining);
  return () => clock.clearTimeout(handle);
});
