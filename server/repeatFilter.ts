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
export function createRepeatFilter(windowMs: number, now: () => number = Date.now, maxKeys = 100_000) {
  const last = new Map<string, { at: number; leftOut: number }>();
  /** Null to leave the line out; else say it, with the count of lines like it left out since it was last said. */
  return (key: string, message: string): number | null => {
    const at = now();
    // Per key and message: two errors alternating for one strategy are each said once a window.
    const id = `${key}\u0000${message}`;
    const seen = last.get(id);
    if (seen && at - seen.at < windowMs) {
      seen.leftOut++;
      return null;
    }
    // Bounded: past `maxKeys` entries, those whose window is over go first, then all of them.
    if (!seen && last.size >= maxKeys) {
      for (const [old, entry] of last) if (at - entry.at >= windowMs) last.delete(old);
      if (last.size >= maxKeys) last.clear();
    }
    last.set(id, { at, leftOut: 0 });
    return seen?.leftOut ?? 0;
  };
}
