/**
 * One execution report made the strategy's event: ORDER_FILLED, ORDER_PARTIALLY_FILLED or
 * ORDER_REJECTED for the order it waits on; a fill of an order it no longer waits on is a
 * position mismatch held for an operator; a fill of a removed strategy's order is told as untracked.
 */
import type { ExecutionReport, OrderRequest } from '../../broker/broker.js';
import type { OrderBook } from './orderBook.js';
import { EXPECTED_SIDE } from './orderIntent.js';
import type { ReportBacklog } from './reportBacklog.js';
import type { OrderTarget, TargetLookups } from './routingTarget.js';

/**
 * The routing's delivery of one report to the strategy it names, through `reports`, with what
 * `book` knows of its order.
 *
 * @example
 * ```ts
 * const deliver = createReportDelivery(target, book, reports, targetLookups(target));
 * deliver({ orderId: 'o-1', strategyId: 'lt112-spx', kind: 'fill', quantity: 2, reportId: 'r-1' });
 * ```
 */
export function createReportDelivery(
  target: OrderTarget,
  book: OrderBook,
  reports: ReportBacklog,
  lookups: TargetLookups,
): (report: ExecutionReport) => void {
  const { working, filled, cancelled, finished, finish, orphaned, orphan, tellUntracked, cancel, rollPartials, takeRolled } = book;
  const { send, mismatch, strayFill, alreadyTaken } = reports;
  const { stateOf, entryData, fallbackReportId, ofEarlierIncarnation } = lookups;

  /** An adjustment that ended after rolling `rolled` of its contracts: a mismatch for an operator. */
  const halfRolled = (strategyId: string, order: OrderRequest, orderId: string, rolled: number, how: string, eventId: string): void => {
    const state = stateOf(strategyId);
    if (state === undefined) return;
    const reason = `position mismatch: adjustment order ${orderId} ended (${how}) after filling ${rolled} of ${order.quantity} in part: the broker holds a roll half done, the strategy its position before it; reconcile with the broker, then RESET or MANUAL_OVERRIDE`;
    mismatch(strategyId, state, order, 'ORDER_PARTIALLY_FILLED', reason, `${eventId}/half-rolled`);
  };

  const deliver = (report: ExecutionReport): void => {
    const known = working.get(report.orderId) ?? cancelled.get(report.orderId) ?? finished.get(report.orderId);
    if (!orphaned.has(report.orderId) && ofEarlierIncarnation(report.strategyId, known?.incarnation ?? report.incarnation)) {
      // An order of a strategy removed before a restart (the broker's report names its incarnation):
      // an orphan, as if `removed` had been told here. Still working after a partial: cancelled.
      if (report.kind === 'partial' && !cancelled.has(report.orderId)) cancel(report.orderId, known);
      for (const orders of [working, cancelled, finished]) orders.delete(report.orderId);
      orphan(report.orderId, known);
    }
    if (orphaned.has(report.orderId)) {
      // Its strategy was removed: a reject (the cancel taken) answers nothing; a fill put contracts
      // at the broker that no strategy tracks, told as such and given to no strategy.
      if (report.kind !== 'partial') filled.delete(report.orderId);
      if (report.kind !== 'reject') tellUntracked(report.strategyId, report.orderId, report.kind, report.quantity, report.reportId);
      return;
    }
    const wasCancelled = cancelled.has(report.orderId);
    const wasFinished = !wasCancelled && !working.has(report.orderId) && finished.has(report.orderId);
    const order = working.get(report.orderId) ?? cancelled.get(report.orderId) ?? finished.get(report.orderId);
    if (wasCancelled) {
      if (report.kind !== 'partial') cancelled.delete(report.orderId);
      if (report.kind === 'reject') {
        // The cancel took: the order is over, whatever it filled in part before.
        filled.delete(report.orderId);
        finish(report.orderId, order);
        const rolled = takeRolled(report.orderId);
        if (rolled > 0 && order)
          halfRolled(report.strategyId, order, report.orderId, rolled, 'cancelled', `${report.orderId}/${report.reportId ?? 'cancelled'}`);
        return;
      }
    }
    // A reject of an order already over is no answer to anything working: taken as the answer of
    // the strategy's current order (an exit's), it sent a second exit while the first still worked.
    if (wasFinished && report.kind === 'reject') return;
    const total = (wasFinished ? 0 : (filled.get(report.orderId) ?? 0)) + report.quantity;
    if (!wasFinished) filled.set(report.orderId, total);
    const eventId = `${report.orderId}/${report.reportId ?? fallbackReportId(report, total)}`;
    if (report.kind !== 'partial') {
      working.delete(report.orderId);
      filled.delete(report.orderId);
      finish(report.orderId, order);
    }
    if (report.kind === 'reject') {
      send(report.strategyId, {
        type: 'ORDER_REJECTED',
        orderId: report.orderId,
        eventId,
        ...(report.reason ? { reason: report.reason } : {}),
      });
      const rolled = takeRolled(report.orderId);
      if (rolled > 0 && order) halfRolled(report.strategyId, order, report.orderId, rolled, 'rejected', eventId);
      return;
    }
    // A fill of an order the strategy no longer waits on (cancelled, superseded, or of the other
    // side: an entry's fill racing its cancel while the exit works) cannot be applied as what the
    // state waits for: the strategy's position no longer matches the broker's. Held in ERROR for an
    // operator (no auto-recovery, so no second exit of a position the broker already closed).
    const state = stateOf(report.strategyId);
    const expected = state ? EXPECTED_SIDE[state] : undefined;
    if (state !== undefined && (wasCancelled || wasFinished || (order ? order.side !== expected : expected === undefined))) {
      // The same report delivered again (its reportId): the strategy took it, or the hold it made,
      // already. Nothing mismatches, so nothing is told (before: a false "position mismatch").
      if (alreadyTaken(report.strategyId, eventId)) return;
      return strayFill(report.strategyId, state, order, report.kind === 'fill', report.quantity, report.orderId, eventId);
    }
    if (order?.side === 'adjust') {
      const parts = rollPartials.get(report.orderId) ?? new Map<string, number>();
      if (report.kind === 'partial') rollPartials.set(report.orderId, parts.set(eventId, report.quantity));
      else rollPartials.delete(report.orderId);
    }
    // Placed before a restart, acknowledged by the broker but not yet by the strategy (its
    // ORDER_SUBMITTED was never written): the acknowledgement first, then the fill it waits for.
    if (!order && (state === 'PENDING_ENTRY' || state === 'PENDING_EXIT'))
      send(report.strategyId, { type: 'ORDER_SUBMITTED', orderId: report.orderId, eventId: `${report.orderId}/submitted` });
    // An entry order placed before a restart is not in `working`: its expiry and underlying are the entry record's.
    const entry = order?.side === 'open' ? undefined : expected === 'open' ? entryData(report.strategyId) : undefined;
    const underlying =
      order?.side === 'open' ? target.get(report.strategyId).getSnapshot().context.lastRecord?.data.underlying : entry?.underlying;
    const expiry = order?.side === 'open' ? order.expiry : typeof entry?.expiry === 'string' ? entry.expiry : undefined;
    send(report.strategyId, {
      type: report.kind === 'fill' ? 'ORDER_FILLED' : 'ORDER_PARTIALLY_FILLED',
      quantity: report.quantity,
      orderId: report.orderId,
      eventId,
      ...(report.price !== undefined ? { price: report.price } : {}),
      // An entry fill records the position: its expiry and legs come from the order placed.
      ...(expiry ? { expiry } : {}),
      ...(order?.side === 'open' && order.legs ? { legs: order.legs } : {}),
      ...(typeof underlying === 'string' ? { underlying } : {}),
    });
  };

  return deliver;
}
