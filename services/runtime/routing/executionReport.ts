/**
 * The boundary check of what a broker passes to the routing's listener: a well-formed
 * {@link ExecutionReport}, or an {@link InvalidExecutionReportError} naming the field.
 */
import { InvalidExecutionReportError } from '../../../machines/errors.js';
import type { ExecutionReport } from '../../broker/broker.js';

const REPORT_KINDS: ReadonlySet<unknown> = new Set(['fill', 'partial', 'reject']);

/** A value as an error message quotes it. */
const quote = (value: unknown): string => {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
};

/**
 * The report a broker passed to the routing's listener, checked at the boundary: a report that is
 * not an object, names no order or strategy, has an unknown `kind` or a `quantity` that is not a
 * finite non-negative number (a string quantity made a concatenated fill total; a reject may
 * leave it out, as it fills nothing) is an
 * {@link InvalidExecutionReportError} naming the field and the value. Optional fields given as
 * `null` count as absent.
 */
export function checkExecutionReport(value: unknown): ExecutionReport | InvalidExecutionReportError {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return new InvalidExecutionReportError('report', `must be an object, got ${quote(value)}`);
  const r = value as Record<string, unknown>;
  for (const field of ['orderId', 'strategyId'] as const)
    if (typeof r[field] !== 'string' || r[field] === '')
      return new InvalidExecutionReportError(field, `must be a non-empty string, got ${quote(r[field])}`);
  if (!REPORT_KINDS.has(r.kind))
    return new InvalidExecutionReportError('kind', `must be one of fill, partial, reject, got ${quote(r.kind)}`);
  // A reject fills nothing: its quantity may be left out (0).
  const quantity = r.kind === 'reject' && (r.quantity === undefined || r.quantity === null) ? 0 : r.quantity;
  if (typeof quantity !== 'number' || !Number.isFinite(quantity) || quantity < 0)
    return new InvalidExecutionReportError('quantity', `must be a finite number >= 0, got ${quote(r.quantity)}`);
  const optional: Array<[string, string]> = [
    ['reportId', 'string'],
    ['price', 'number'],
    ['reason', 'string'],
    ['incarnation', 'string'],
  ];
  for (const [field, type] of optional) {
    const v = r[field];
    if (v !== undefined && v !== null && (typeof v !== type || (type === 'number' && !Number.isFinite(v))))
      return new InvalidExecutionReportError(
        field,
        `must be ${type === 'number' ? 'a finite number' : 'a string'} when given, got ${quote(v)}`,
      );
  }
  const report: ExecutionReport = {
    orderId: r.orderId as string,
    strategyId: r.strategyId as string,
    kind: r.kind as ExecutionReport['kind'],
    quantity,
  };
  if (typeof r.reportId === 'string') report.reportId = r.reportId;
  if (typeof r.price === 'number') report.price = r.price;
  if (typeof r.reason === 'string') report.reason = r.reason;
  if (typeof r.incarnation === 'string') report.incarnation = r.incarnation;
  return report;
}
