/**
 * A filter for repeated log lines: the first line of a key and message is said, the same again
 * within `windowMs` is left out (counted), and the next one said after the window carries how
 * many were left out. During a store outage every strategy retries its deadline each second; one
 * line per strategy and message a minute says as much as sixty.
 *
 * @example
 * ```ts
 * const said = createRepeatFilter(60_000);
 * said('lt', 'disk full'); // 0: say it
 * said('lt', 'disk full'); // null: left out
 * ```
 */
export function createRepeatFilter(windowMs: number, now: () => number = Date.now, maxKeys = 10_000) {
  const last = new Map<string, { message: string; at: number; leftOut: number }>();
  /** Null to leave the line out; else say it, with the count of lines like it left out since the last said. */
  return (key: string, message: string): number | null => {
    const at = now();
    const seen = last.get(key);
    if (seen && seen.message === message && at - seen.at < windowMs) {
      seen.leftOut++;
      return null;
    }
    const leftOut = seen?.message === message ? seen.leftOut : 0;
    // Bounded: an entry per key that was ever said, forgotten wholesale past `maxKeys`.
    if (!seen && last.size >= maxKeys) last.clear();
    last.set(key, { message, at, leftOut: 0 });
    return leftOut;
  };
}
