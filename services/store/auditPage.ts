import type { AuditTrailQuery } from './types.js';
import { objectOption, refuser, wholeNumber, type Refuse } from './storeOptions.js';

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

/**
 * Checks the bounds a page of an audit trail is asked with: `before` a whole seq from 1, `after` a
 * whole seq from 0, `limit` a whole number from 1 to `maxLimit`, each when set, and the query an
 * object when given. Before, NaN, a negative, a fraction, Infinity or a string was read as some
 * default or rounded, and a page came back that was not the one asked for.
 *
 * @throws {@link InvalidOptionsError} of `component` naming the first bound at fault and its value.
 * @example
 * ```ts
 * checkAuditQuery(refuser('store.readAuditTrail'), { limit: NaN }, Number.MAX_SAFE_INTEGER); // throws: option limit must be a whole number from 1 ...
 * ```
 */
export function checkAuditQuery(refuse: Refuse, query: unknown, maxLimit: number): void {
  if (query === undefined) return;
  objectOption(refuse, 'query', query);
  if (Array.isArray(query)) refuse('query', 'must be an object, got a list');
  const q = query as Record<string, unknown>;
  wholeNumber(refuse, 'before', q.before, 1);
  wholeNumber(refuse, 'after', q.after, 0);
  wholeNumber(refuse, 'limit', q.limit, 1, maxLimit);
}

/**
 * Checks a store page's query ({@link checkAuditQuery}: `limit` from 1, no maximum) and fills in its
 * defaults. Every store reads its pages through this, so each refuses the same bad bounds.
 *
 * @throws {@link InvalidOptionsError} (`store.readAuditTrail: option limit must be ...`) for a bound out of its domain.
 */
export function auditPageBounds(query: AuditTrailQuery = {}): AuditPageBounds {
  checkAuditQuery(refuser('store.readAuditTrail'), query, Number.MAX_SAFE_INTEGER);
  return {
    after: query.after ?? 0,
    before: query.before ?? Number.MAX_SAFE_INTEGER,
    limit: query.limit ?? DEFAULT_AUDIT_PAGE,
    forward: query.after !== undefined,
  };
}
