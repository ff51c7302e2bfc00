import type { AuditFeedEntry, AuditFeedPage } from '../services/store/types.js';

/** The store's audit feed as the stream reads it (`StrategyStore.readAuditAfter`). */
export type AuditFeedReader = (after: string | undefined, options: { limit: number; countUpTo?: number }) => Promise<AuditFeedPage>;

/** The one reader that follows the store's audit feed for the live stream. */
export interface FeedFollower {
  /** Reads every record after the last one read, page by page, and hands each to `onRow`. */
  pump(): Promise<void>;
  /**
   * Makes sure the follower has a starting point (the feed's head when it had none). A client
   * that catches up from the store waits for this before reading, so every record it does not
   * read itself is read by the follower after it joined: none falls between the two.
   */
  ready(): Promise<void>;
}

/**
 * Follows the audit feed while anyone listens: `pump()` (called after every transition and
 * periodically) reads after the last cursor read, in pages of `pageSize`; when `listening()` is
 * false it forgets its place and reads nothing, and starts again from the head when asked.
 * Calls that come while it reads make it read once more afterwards; failures go to `onError`
 * and the next call tries again.
 */
export function followAuditFeed(
  feed: AuditFeedReader,
  pageSize: number,
  listening: () => boolean,
  onRow: (row: AuditFeedEntry) => void,
  onError: (error: unknown) => void,
): FeedFollower {
  let tail: string | undefined;
  let starting: Promise<void> | undefined;
  let pumping = false;
  let again = false;
  const start = () => {
    starting ??= feed(undefined, { limit: 0 })
      .then((page) => void (tail ??= page.head))
      .finally(() => (starting = undefined));
    return starting;
  };
  return {
    ready: () => (tail === undefined ? start() : (starting ?? Promise.resolve())),
    async pump() {
      if (pumping) return void (again = true);
      pumping = true;
      try {
        do {
          again = false;
          if (!listening()) {
            tail = undefined;
            break;
          }
          if (tail === undefined) await start();
          for (let full = true; full;) {
            const page = await feed(tail, { limit: pageSize });
            if (!page.known) tail = undefined; // not expected: start again from the head
            for (const row of page.rows) {
              tail = row.cursor;
              onRow(row);
            }
            full = page.rows.length === pageSize;
          }
        } while (again);
      } catch (error) {
        onError(error);
      } finally {
        pumping = false;
      }
    },
  };
}
