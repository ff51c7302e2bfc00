/**
 * Keeping restored strategies dormant in a test. Right after `openStrategySystem` the system wakes
 * its dormant strategies in the background, a batch per turn of the event loop (`setImmediate`).
 * Faking only `setImmediate` while the system opens parks that wake for good (the fake timers are
 * never run), so afterwards only what the test does can make a strategy's actor.
 */
import type { AnyActorRef, InspectionEvent } from 'xstate';

/** Runs `open` with the background wake parked; real timers are back when it resolves. */
export async function openParked<T>(open: () => Promise<T>): Promise<T> {
  jest.useFakeTimers({
    doNotFake: [
      'nextTick',
      'queueMicrotask',
      'setTimeout',
      'clearTimeout',
      'setInterval',
      'clearInterval',
      'Date',
      'hrtime',
      'performance',
    ],
  });
  try {
    return await open();
  } finally {
    jest.useRealTimers();
  }
}

/** An `inspect` observer that lists, in `created`, the actors XState makes whose id `watch` accepts. */
export function actorsCreated(watch: (id: string) => boolean): { created: string[]; inspect: (e: InspectionEvent) => void } {
  const created: string[] = [];
  return {
    created,
    inspect: (e) => {
      const id = (e.actorRef as AnyActorRef).id;
      if (e.type === '@xstate.actor' && watch(id)) created.push(id);
    },
  };
}
