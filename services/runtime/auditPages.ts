import type { TransitionRecord } from '../../machines/types.js';
import { DEFAULT_AUDIT_PAGE, isFiniteNumber } from '../store/auditPage.js';
import type { StrategyStore } from '../store/types.js';

/** Most records in one page of {@link readAuditPage}. */
export const MAX_AUDIT_PAGE = 1000;

/** Which page of a strategy's audit trail to read: the newest `limit` records older than `before`. */
export interface AuditPageQuery {
  /** Only records older than this seq (default: up to the newest); a page's `next`. */
  before?: number;
  /** Records in the page, 1 to {@link MAX_AUDIT_PAGE} (default 100). */
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
 * @throws {StoreUnavailableError} when the store cannot be read.
 */
export async function readAuditPage(
  store: StrategyStore,
  strategyId: string,
  held: readonly TransitionRecord[],
  query: AuditPageQuery = {},
): Promise<AuditTrailPage> {
  const limit = isFiniteNumber(query.limit) ? Math.min(MAX_AUDIT_PAGE, Math.max(1, Math.floor(query.limit))) : DEFAULT_AUDIT_PAGE;
  const before = isFiniteNumber(query.before) ? Math.ceil(query.before) : Number.MAX_SAFE_INTEGER;
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
