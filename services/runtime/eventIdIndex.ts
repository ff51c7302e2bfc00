/**
 * The duplicate check of the event-id window (`context.recentEventIds`, up to `eventIdWindow`
 * ids) in constant time. The window stays a plain array in the context (the persisted snapshot's
 * JSON is unchanged); this index follows it from one committed snapshot to the next: the usual
 * step appends one id and may drop the oldest, which costs two map updates instead of a scan of
 * up to 1,000 ids per event. Any other change (a rollback, a restore) rebuilds it once.
 */

/** An index of one strategy's event-id window; not shared between strategies. */
export interface EventIdIndex {
  /** Whether `id` is in `window` (the committed snapshot's `recentEventIds`). */
  has(window: readonly string[], id: string): boolean;
}

/**
 * Creates an {@link EventIdIndex}.
 *
 * @example
 * ```ts
 * const ids = createEventIdIndex();
 * ids.has(snapshot.context.recentEventIds, event.eventId); // true: a duplicate
 * ```
 */
export function createEventIdIndex(): EventIdIndex {
  let seen: readonly string[] = [];
  /** id -> occurrences in `seen` (ids are unique there; a count keeps the index right if not). */
  const counts = new Map<string, number>();
  const add = (id: string) => counts.set(id, (counts.get(id) ?? 0) + 1);
  const remove = (id: string) => {
    const n = counts.get(id) ?? 0;
    if (n <= 1) counts.delete(id);
    else counts.set(id, n - 1);
  };
  const rebuild = (window: readonly string[]) => {
    counts.clear();
    for (const id of window) add(id);
  };
  /** `next` is `seen` plus one id at the end, its oldest id dropped or not; anything else rebuilds. */
  const follow = (next: readonly string[]) => {
    const prev = seen;
    const p = prev.length;
    const n = next.length;
    if (n === p + 1 && (p === 0 || (next[0] === prev[0] && next[p - 1] === prev[p - 1]))) {
      add(next[n - 1]);
    } else if (n === p && n > 1 && next[0] === prev[1] && next[n - 2] === prev[p - 1]) {
      remove(prev[0]);
      add(next[n - 1]);
    } else {
      rebuild(next);
    }
    seen = next;
  };
  return {
    has(window, id) {
      if (window !== seen) follow(window);
      return counts.has(id);
    },
  };
}
