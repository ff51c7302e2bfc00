/**
 * The duplicate check of the event-id window (`context.recentEventIds`, up to `eventIdWindow`
 * ids) in constant time. The window stays a plain array in the context (the persisted snapshot's
 * JSON is unchanged); this index follows it from one committed snapshot to the next: the usual
 * step appends one id and may drop the oldest, which costs two set updates instead of a scan of
 * up to 1,000 ids per event. Any other change (a rollback, a restore) rebuilds it once.
 *
 * Memory counts as much as time here (a strategy lives for months, most of them idle): a short
 * window is scanned and has no index at all, and a long one is indexed by a `Set` of its ids.
 */

/** Windows shorter than this are scanned (a few dozen comparisons) instead of indexed. */
export const SCANNED_WINDOW = 64;

/** An index of one strategy's event-id window; not shared between strategies. */
export interface EventIdIndex {
  /** Whether `id` is in `window` (the committed snapshot's `recentEventIds`). */
  has(window: readonly string[], id: string): boolean;
}

/**
 * Creates an {@link EventIdIndex}. `scanBelow`: windows shorter than this are scanned (default
 * {@link SCANNED_WINDOW}; 0 indexes every window).
 *
 * @example
 * ```ts
 * const ids = createEventIdIndex();
 * ids.has(snapshot.context.recentEventIds, event.eventId); // true: a duplicate
 * ```
 */
export function createEventIdIndex(scanBelow = SCANNED_WINDOW): EventIdIndex {
  let seen: readonly string[] = [];
  /** The ids of `seen`, or null while `seen` is scanned (short, or holding an id twice). */
  let ids: Set<string> | null = null;
  const rebuild = (window: readonly string[]) => {
    ids = null;
    if (window.length < scanBelow) return;
    const set = new Set(window);
    // An id held twice could not be removed from a set once: such a window is scanned.
    if (set.size === window.length) ids = set;
  };
  /** `next` is `seen` plus one id at the end, its oldest id dropped or not; anything else rebuilds. */
  const follow = (next: readonly string[]) => {
    const prev = seen;
    const p = prev.length;
    const n = next.length;
    const index = ids;
    const added = next[n - 1];
    if (index && n === p + 1 && next[0] === prev[0] && next[p - 1] === prev[p - 1] && !index.has(added)) {
      index.add(added);
    } else if (
      index &&
      n === p &&
      n > 1 &&
      next[0] === prev[1] &&
      next[n - 2] === prev[p - 1] &&
      (added === prev[0] || !index.has(added))
    ) {
      index.delete(prev[0]);
      index.add(added);
    } else {
      rebuild(next);
    }
    seen = next;
  };
  return {
    has(window, id) {
      if (window !== seen) follow(window);
      return ids ? ids.has(id) : window.includes(id);
    },
  };
}
