/**
 * Values that may or may not be promises: a driver talks to an in-memory system (answers at once)
 * and to a persistent one (answers after the commit) through the same code. Staying synchronous
 * when the answer is synchronous is what lets a whole simulated year run inside one call.
 */

/** A value, or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/** Whether a maybe-promise is a promise (anything with a `then`). */
export const isThenable = <T>(value: MaybePromise<T>): value is Promise<T> =>
  typeof (value as { then?: unknown } | null)?.then === 'function';

/**
 * Calls `onValue` with what `make` returns: at once for a plain value, on resolution for a
 * promise. A throw or a rejection goes to `onError`; nothing is left unhandled.
 *
 * @example
 * ```ts
 * settle(() => target.send(id, event), (result) => console.log(result.to), (error) => log(error));
 * ```
 */
export function settle<T>(make: () => MaybePromise<T>, onValue: (value: T) => void, onError: (error: unknown) => void): void {
  let value: MaybePromise<T>;
  try {
    value = make();
  } catch (error) {
    onError(error);
    return;
  }
  if (!isThenable(value)) {
    try {
      onValue(value);
    } catch (error) {
      onError(error);
    }
    return;
  }
  value.then(onValue, onError).then(undefined, onError);
}
