import type { AuditTrailQuery } from './types.js';

/** Records in a page of `readAuditTrail` when the query gives no limit. */
export const DEFAULT_AUDIT_PAGE = 100;

/** An {@link AuditTrailQuery} with every bound filled in, as the stores run it. */
export interface AuditPageBounds {
  /** Records newer than this seq (0: from the first). */
  after: number;
  /** Records older than this seq. */
  before: number;
  limit: number;
  /** True: the oldest `limit` records after `after`; false: the newest before `before`. */
  forward: boolean;
}

/** A finite number, told apart from `undefined` and `NaN` or an infinity. */
export function isFiniteNumber(value: number | undefined): value is number {
  return value !== undefined && Number.isFinite(value);
}

/** Fills in a query's defaults; a limit below 1 or not a number becomes 1 or the default. */
export function auditPageBounds(query: AuditTrailQuery = {}): AuditPageBounds {
  const limit = isFiniteNumber(query.limit) ? Math.max(1, Math.floor(query.limit)) : DEFAULT_AUDIT_PAGE;
  return {
    after: isFiniteNumber(query.after) ? Math.floor(query.after) : 0,
    before: isFiniteNumber(query.before) ? Math.ceil(query.before) : Number.MAX_SAFE_INTEGER,
    limit,
    forward: query.after !== undefined,
  };
}
