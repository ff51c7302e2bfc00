/**
 * The routing's memory of orders: those working, cancelled, finished, orphaned by a removed
 * strategy, the fills each strategy took, and the untracked fills told once. Bounded: finished
 * and orphaned orders are kept for the latest {@link FINISHED_KEPT}.
 */
import { UntrackedFillError } from '../../../machines/errors.js';
import type { StrategyEvent } from '../../../machines/events.js';
import type { BrokerAdapter, ExecutionReport, OrderRequest } from '../../broker/broker.js';
import { settle } from '../settle.js';

/** An order of a removed strategy (see `removed`) and the fills of it told as untracked. */
interface Orphan {
  order: OrderRequest | undefined;
  /** Report ids told already, or taken by its strategy before the removal. */
  told: Set<string>;
  /**
   * Contracts of it told as untracked, or taken by its strategy before the removal (a fill waiting
   * in its retry queue then was never taken: it is told). Never more than it filled, so a report
   * that would take it past the order's quantity is a repeat.
   */
  total: number;
  /** Its final fill was told: nothing more fills. */
  done: boolean;
}

/** Finished orders the routing remembers, so a late report of one is not taken for the current order's. */
const FINISHED_KEPT = 1000;

/** A fill the routing sends (ORDER_FILLED or ORDER_PARTIALLY_FILLED). */
export const isFillEvent = (event: StrategyEvent): event is Extract<StrategyEvent, { quantity: number }> =>
  event.type === 'ORDER_FILLED' || event.type === 'ORDER_PARTIALLY_FILLED';

/**
 * The routing's book of orders, cancelling through `broker` (a failed cancel is told to `onError`).
 *
 * @example
 * ```ts
 * const book = createOrderBook(broker, onError);
 * book.cancel(orderId); // no longer working; its late reports are known as answers to the cancel
 * ```
 */
export function createOrderBook(broker: BrokerAdapter, onError: (error: unknown) => void) {
  const working = new Map<string, OrderRequest>();
  /** Cumulative fills per order, for report ids of brokers that give none. */
  const filled = new Map<string, number>();
  /** Strategies with a submission awaiting its acknowledgement, and the reports held meanwhile. */
  const awaiting = new Map<string, ExecutionReport[]>();
  /** Orders this routing cancelled: the broker's answer that it is cancelled is not news to the strategy. */
  const cancelled = new Map<string, OrderRequest | undefined>();
  /**
   * Orders that are over (filled in full, rejected, their cancel taken), the latest
   * {@link FINISHED_KEPT}: a later report of one (a late fill, the broker's "done for the day"
   * reject) answers nothing the strategy waits on, even when another order of it works now.
   */
  const finished = new Map<string, OrderRequest | undefined>();
  const finish = (orderId: string, order: OrderRequest | undefined): void => {
    finished.delete(orderId);
    finished.set(orderId, order);
    if (finished.size > FINISHED_KEPT) finished.delete(finished.keys().next().value as string);
  };
  /**
   * Orders of strategies that were removed (see `removed`), the latest {@link FINISHED_KEPT}: their
   * reports reach no strategy. Kept after their last report, so a repeat of it reaches none either.
   */
  const orphaned = new Map<string, Orphan>();
  /** Submissions of removed strategies not acknowledged yet: their order is orphaned when it is. */
  const orphanedSubmissions = new Set<number>();
  const orphan = (orderId: string, order: OrderRequest | undefined): Orphan => {
    const entry = orphaned.get(orderId) ?? { order, told: new Set<string>(), total: 0, done: false };
    entry.order ??= order;
    orphaned.delete(orderId);
    orphaned.set(orderId, entry);
    if (orphaned.size > FINISHED_KEPT) orphaned.delete(orphaned.keys().next().value as string);
    return entry;
  };
  /**
   * Tells a fill of an orphaned order as an {@link UntrackedFillError}, once: a repeat (the broker
   * delivering a report again) is known by its report id `key`, or by the order's quantity
   * (nothing fills after its final fill; a partial leaves some of it unfilled).
   */
  const tellUntracked = (strategyId: string, orderId: string, kind: 'fill' | 'partial', quantity: number, key?: string): void => {
    const entry = orphaned.get(orderId) ?? orphan(orderId, undefined);
    if (entry.done || (key !== undefined && entry.told.has(key))) return;
    const total = entry.total + quantity;
    const size = entry.order?.quantity;
    if (size !== undefined && (kind === 'partial' ? total >= size : total > size)) return;
    if (key !== undefined) entry.told.add(key);
    entry.total = total;
    entry.done = kind === 'fill';
    onError(new UntrackedFillError(strategyId, orderId, quantity, entry.order?.side));
  };
  /**
   * Per order, the fills its strategy took (report ids, contracts), the latest {@link FINISHED_KEPT}
   * orders: orphaned at the strategy's removal, the broker's repeat of one of them is known as
   * such (before, it was told as an untracked fill of contracts the strategy had tracked).
   */
  const taken = new Map<string, { keys: Set<string>; quantity: number }>();
  /** The report id in a fill event's eventId `<orderId>/<reportId>`, if it has one. */
  const reportKeyOf = (orderId: string, event: StrategyEvent): string | undefined =>
    event.eventId?.startsWith(`${orderId}/`) ? event.eventId.slice(orderId.length + 1) : undefined;
  const recordTaken = (event: Extract<StrategyEvent, { quantity: number }>): void => {
    if (event.orderId === undefined) return;
    const entry = taken.get(event.orderId) ?? { keys: new Set<string>(), quantity: 0 };
    const key = reportKeyOf(event.orderId, event);
    if (key !== undefined) entry.keys.add(key);
    entry.quantity += event.quantity;
    taken.delete(event.orderId);
    taken.set(event.orderId, entry);
    if (taken.size > FINISHED_KEPT) taken.delete(taken.keys().next().value as string);
  };
  /** Orphans an order of a removed strategy, what the strategy took of it counted as told. */
  const orphanRemoved = (orderId: string, order: OrderRequest | undefined): void => {
    const entry = orphan(orderId, order);
    const took = taken.get(orderId);
    if (!took) return;
    taken.delete(orderId);
    for (const key of took.keys) entry.told.add(key);
    entry.total += took.quantity;
  };
  /** Position mismatches found while an exit worked: each strategy is held once its exit has ended. */
  const mismatches = new Map<string, { reason: string; eventId: string }>();

  /**
   * Per adjustment order still working, the partial fills the strategy was sent (by event id): a
   * roll applies only at its final fill (see `adjustmentPartial` in reportBacklog.ts), so one that
   * ends otherwise (rejected, cancelled) after rolling some contracts leaves the position half rolled.
   */
  const rollPartials = new Map<string, Map<string, number>>();
  /** Contracts an adjustment order rolled in part before it ended without its final fill, forgotten now. */
  const takeRolled = (orderId: string): number => {
    const parts = rollPartials.get(orderId);
    rollPartials.delete(orderId);
    return parts ? [...parts.values()].reduce((a, b) => a + b, 0) : 0;
  };

  /**
   * A fill event of a removed strategy that will never reach a strategy (it waited in the
   * strategy's backlog): its contracts are at the broker with no strategy tracking them.
   */
  const untrackedEvent = (strategyId: string, event: StrategyEvent): void => {
    if (!isFillEvent(event)) return;
    const orderId = event.orderId ?? '(unknown order)';
    // Its eventId is `<orderId>/<reportId>`: the broker's repeat of the report is then known as told.
    const key = reportKeyOf(orderId, event);
    tellUntracked(strategyId, orderId, event.type === 'ORDER_FILLED' ? 'fill' : 'partial', event.quantity, key);
  };

  const cancel = (orderId: string, order = working.get(orderId)): void => {
    working.delete(orderId);
    cancelled.set(orderId, order);
    settle(
      () => broker.cancel(orderId),
      () => undefined,
      onError,
    );
  };

  return {
    working,
    filled,
    awaiting,
    cancelled,
    finished,
    finish,
    orphaned,
    orphanedSubmissions,
    orphan,
    tellUntracked,
    recordTaken,
    orphanRemoved,
    mismatches,
    rollPartials,
    takeRolled,
    untrackedEvent,
    cancel,
  };
}

/** The book of {@link createOrderBook}. */
export type OrderBook = ReturnType<typeof createOrderBook>;
