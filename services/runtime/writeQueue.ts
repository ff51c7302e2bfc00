/**
 * One write at a time per strategy (and one at a time for the system's safety state), over a
 * store that answers at once or later: the same code orders the writes of both systems.
 */
import { isThenable, type MaybePromise } from './settle.js';

/** Runs tasks one after another per key. */
export interface WriteQueues {
  /** Runs `task` after every earlier task of the same key; answers what it answers. */
  run<T>(key: string, task: () => MaybePromise<T>): MaybePromise<T>;
  /** Resolves when no task is queued or running. */
  flush(): Promise<void>;
  /**
   * Settles once every task queued so far has run (tasks queued later are not waited for, so a
   * busy system does not hold the caller back); at once when none is queued.
   */
  barrier(): MaybePromise<void>;
}

/**
 * Per-key queues. With `immediate` (a synchronous store) a task whose key is idle runs at once, so
 * a synchronous task answers synchronously (and throws synchronously); a task that returns a
 * promise makes the key busy until it settles. Without it every task runs after the caller's turn,
 * as a write to a database does: a caller never sees a synchronous throw from `run`.
 *
 * @example
 * ```ts
 * const queues = createWriteQueues(store.synchronous === true);
 * const result = queues.run(id, () => writeAhead(handle, prepared)); // a TriggerResult in memory
 * ```
 */
export function createWriteQueues(immediate: boolean): WriteQueues {
  const queues = new Map<string, Promise<unknown>>();
  const track = <T>(key: string, run: Promise<T>): Promise<T> => {
    // The next task of the key chains on `run` itself (both outcomes): one reaction less per task.
    queues.set(key, run);
    const idle = () => {
      if (queues.get(key) === run) queues.delete(key);
    };
    run.then(idle, idle);
    return run;
  };
  return {
    run<T>(key: string, task: () => MaybePromise<T>): MaybePromise<T> {
      const before = queues.get(key);
      if (immediate && !before) {
        const value = task();
        return isThenable(value) ? track(key, value) : value;
      }
      return track(key, (before ?? Promise.resolve()).then(task, task));
    },
    async flush() {
      while (queues.size > 0) await Promise.allSettled([...queues.values()]);
    },
    barrier() {
      if (queues.size === 0) return undefined;
      return Promise.allSettled([...queues.values()]).then(() => undefined);
    },
  };
}

/** Chains a maybe-promise: synchronous while the value is, a promise once it is one. */
export const then = <T, U>(value: MaybePromise<T>, next: (value: T) => MaybePromise<U>): MaybePromise<U> =>
  isThenable(value) ? value.then(next) : next(value);

/**
 * Runs `run`, then `onError` for a throw or rejection (it rethrows or answers instead), then
 * `always` in either case, as soon as `onError` returned: try/catch/finally over a maybe-promise.
 */
export function attempt<T>(run: () => MaybePromise<T>, onError: (error: unknown) => MaybePromise<T>, always?: () => void): MaybePromise<T> {
  let value: MaybePromise<T>;
  try {
    value = run();
  } catch (error) {
    try {
      return onError(error);
    } finally {
      always?.();
    }
  }
  if (!isThenable(value)) {
    always?.();
    return value;
  }
  if (!always) return value.then(undefined, onError);
  // One reaction, not a catch and a finally: this runs on every persisted send.
  return value.then(
    (result) => {
      always();
      return result;
    },
    (error: unknown) => {
      try {
        return onError(error);
      } finally {
        always();
      }
    },
  );
}
