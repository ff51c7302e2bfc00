import type { TransitionRecord } from '../../machines/types.js';
import { checkAuditQuery, DEFAULT_AUDIT_PAGE } from '../store/auditPage.js';
import { refuser } from '../store/storeOptions.js';
import type { StrategyStore } from '../store/types.js';

/** Most records in one page of {@link readAuditPage}. */
export const MAX_AUDIT_PAGE = 1000;

/**
 * Which page of a strategy's audit trail to read: the newest `limit` records older than `before`.
 * A bound out of its domain (NaN, Infinity, a fraction, a negative, a string) is refused with an
 * {@link InvalidOptionsError} naming it and its value, never rounded or replaced by a default.
 */
export interface AuditPageQuery {
  /**
   * Only records older than this seq (default: up to the newest); a page's `next`. A whole number
   * from 1 (seqs start at 1, so `before: 1` is an empty page) to `Number.MAX_SAFE_INTEGER`.
   */
  before?: number;
  /** Records in the page, a whole number from 1 to {@link MAX_AUDIT_PAGE} (default 100). */
  limit?: number;
}

/** One page of a strategy's audit trail. */
export interface AuditTrailPage {
  /** Oldest first, seqs without gaps. */
  records: TransitionRecord[];
  /** The `before` of the next, older page; null when this page holds the first record (or none is older). */
  next: number | null;
}

/**
 * Reads one page of a strategy's trail, newest records first taken from the window it holds in
 * memory (which also has any record a failed background write has not stored yet), older ones
 * from the store, so a page is whole whatever the window's size.
 *
 * @example
 * ```ts
 * let page = await readAuditPage(store, 'lt112-spx', strategy.getAuditTrail(), { limit: 50 });
 * while (page.next !== null) page = await readAuditPage(store, 'lt112-spx', strategy.getAuditTrail(), { before: page.next, limit: 50 });
 * ```
 * @throws {InvalidOptionsError} for a bound out of its domain (see {@link AuditPageQuery}), or an
 *   `after` (pages here read back in time; `store.readAuditTrail` reads forward), before anything is read.
 * @throws {StoreUnavailableError} when the store cannot be read.
 */
export async function readAuditPage(
  store: StrategyStore,
  strategyId: string,
  held: readonly TransitionRecord[],
  query: AuditPageQuery = {},
): Promise<AuditTrailPage> {
  const refuse = refuser('readAuditTrail');
  checkAuditQuery(refuse, query, MAX_AUDIT_PAGE);
  if ((query as { after?: unknown }).after !== undefined) {
    refuse('after', 'is not a bound of these pages, which read back in time from `before`: read forward with store.readAuditTrail');
  }
  const limit = query.limit ?? DEFAULT_AUDIT_PAGE;
  const before = query.before ?? Number.MAX_SAFE_INTEGER;
  if (before <= 1) return { records: [], next: null };
  // The window is contiguous and oldest first: the records below `before` are a suffix-free slice.
  const inMemory = held.filter((record) => record.seq < before).slice(-limit);
  let records = inMemory;
  const oldestHeld = inMemory[0]?.seq;
  if (inMemory.length < limit && oldestHeld !== 1) {
    const older = await store.readAuditTrail(strategyId, { before: oldestHeld ?? before, limit: limit - inMemory.length });
    records = [...older, ...inMemory];
  }
  return { records, next: records.length > 0 && records[0].seq > 1 ? records[0].seq : null };
}
