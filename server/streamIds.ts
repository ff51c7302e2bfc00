/**
 * The `id:` of a live stream event (`GET /events`), which a client sends back as `Last-Event-ID`.
 *
 * `<run>-<n>` or, when the stream resumes from the store, `<run>-<n>/<cursor>`:
 * - `<run>`: 8 hex digits naming this start of the service;
 * - `<n>`: how many of this run's memory-only events (`strategyAdded`, `strategyRemoved`,
 *   `system`; transitions too without a store feed) the client has had;
 * - `<cursor>`: the store's audit feed cursor of the newest transition the client has had
 *   (SQLite `42`, PostgreSQL `7301.12`): durable, the same after a restart and on every instance
 *   of a shared store.
 */

/** An id as a reconnecting client sent it, taken apart. */
export interface ParsedEventId {
  run: string;
  n: number;
  /** Absent in an id of a stream without a store feed. */
  cursor?: string;
}

const ID = /^([0-9a-f]{8})-(\d{1,15})(?:\/(\d{1,20}(?:\.\d{1,20})?))?$/;

/** Takes an id apart; undefined when it is not one of the stream's ids. */
export function parseEventId(id: string): ParsedEventId | undefined {
  const match = ID.exec(id);
  if (!match) return undefined;
  return { run: match[1], n: Number(match[2]), ...(match[3] === undefined ? {} : { cursor: match[3] }) };
}

/** Writes an id (see the module comment). */
export function formatEventId(run: string, n: number, cursor?: string): string {
  return cursor === undefined ? `${run}-${n}` : `${run}-${n}/${cursor}`;
}

/**
 * Orders two audit feed cursors: dot-separated decimals compared part by part (the stores'
 * cursors are one number, SQLite, or two, PostgreSQL). Negative when `a` comes first.
 */
export function compareCursors(a: string, b: string): number {
  const pa = a.split('.').map(BigInt);
  const pb = b.split('.').map(BigInt);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0n;
    const y = pb[i] ?? 0n;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** The memory events a resuming client missed: those after `n`, the count it had. */
export interface MemoryReplay<E> {
  entries: E[];
  n: number;
  /** The id was from an earlier start: that start's memory events after it are gone. */
  earlierStart: boolean;
}

/**
 * Which kept memory events (`kept`, oldest first, each with its count `n`; `head` the newest
 * count) a client resuming from `lastEventId` missed, or why that is not known (a reset).
 * `fromStore`: ids carry a store cursor, and an id of an earlier start resumes (its transitions
 * come from the store; this start's memory events are all missed). Without it an id is only good
 * within this start, as long as the events after it are kept.
 */
export function memoryReplay<E extends { n?: number }>(
  kept: readonly E[],
  head: number,
  run: string,
  lastEventId: string,
  fromStore: boolean,
): MemoryReplay<E> | string {
  const parsed = parseEventId(lastEventId);
  if (!parsed || (parsed.cursor !== undefined) !== fromStore || (!fromStore && parsed.run !== run)) {
    return fromStore ? "the id is not one of the service's ids" : 'the id is from an earlier start of the service, or not one of its ids';
  }
  const earlierStart = parsed.run !== run;
  const seen = earlierStart ? 0 : parsed.n;
  if (seen > head) return "the id is not one of the service's ids";
  if (seen + 1 < (kept[0]?.n ?? head + 1)) return 'the events since that id are no longer kept';
  return { entries: kept.filter((entry) => entry.n !== undefined && entry.n > seen), n: seen, earlierStart };
}
