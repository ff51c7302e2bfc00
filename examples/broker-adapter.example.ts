/**
 * A skeleton of a real broker adapter: what `startService({ market: { broker } })` needs of your
 * broker, method by method. Copy it, replace `BrokerConnection` with your broker's SDK, and fill
 * in the mapping. It type-checks against the package's `BrokerAdapter` (`npm run typecheck`
 * includes examples/), so a change of the interface breaks it here first.
 *
 * How the pieces fit (services/runtime/routing/brokerRouting.ts does the routing; you write none of it):
 *
 * - A strategy entering PENDING_ENTRY (open), PENDING_EXIT (close) or ADJUSTING (adjust) makes the
 *   trading day call `submit(order)` once. The acknowledgement's `orderId` becomes ORDER_SUBMITTED
 *   (eventId `<orderId>/submitted`). A `submit` that throws or rejects is told to the strategy in
 *   its own terms: ENTRY_CONDITIONS_FAILED for an entry, ORDER_REJECTED for an adjustment,
 *   SYSTEM_ERROR for an exit (an operator must look at an exit that could not be placed).
 * - Every execution report you pass to the `onExecution` listener becomes one event:
 *   `kind: 'partial'` -> ORDER_PARTIALLY_FILLED, `'fill'` -> ORDER_FILLED (the last fill of the
 *   order), `'reject'` -> ORDER_REJECTED (also for a cancelled remainder). `quantity` is what THIS
 *   report filled, not the cumulative total.
 * - eventIds: each event's `eventId` is `<orderId>/<reportId>`. The strategy refuses an eventId it
 *   has already applied, so a report your broker delivers twice (a reconnect replaying the day's
 *   executions) changes nothing. Give every report the broker's own execution id as `reportId`;
 *   without one the routing derives `<kind>-<cumulative quantity>`, which is only safe when
 *   reports arrive in order and exactly once.
 * - Reports for an order whose acknowledgement has not come back yet are held until it has.
 * - `order.incarnation` names the strategy that placed the order (a random id drawn when it was
 *   added: removed and added again under the same id, it is another one). Keep it with the order
 *   and give it back in `openOrders()` and in every report: after a restart the routing then
 *   tells the order of a removed strategy from its successor's (cancelled, its fills told to
 *   `onError` as UntrackedFillError) instead of handing its fill or its cancel to the new one.
 * - A report that cannot be read (another `kind`, a `quantity` that is not a number >= 0, no
 *   `orderId` or `strategyId`) is refused and told to the routing's `onError` as an
 *   InvalidExecutionReportError naming the field; it never throws back into your callback.
 * - Reconciliation: on start (`openStrategySystem({ broker })`, done by `startService` when you
 *   pass `market.broker`) every stored strategy's position is compared with `positions()`. A
 *   mismatch holds that strategy in ERROR ("position mismatch: expected 2, broker has 0") until an
 *   operator sends RESET or MANUAL_OVERRIDE; positions of strategies the system does not hold
 *   are listed in `system.reconciliation.unknown`. So `positions()` must attribute what the
 *   account holds to strategy ids: tag orders with the strategy id (an order reference, a
 *   sub-account, a client order id prefix) and sum per tag.
 *
 * Wiring it:
 * ```ts
 * import { startService } from 'strategy-lifecycle/server';
 * const broker = new ExampleBrokerAdapter(await BrokerConnection.connect(process.env.BROKER_URL!));
 * const service = await startService({ market: { broker } });
 * ```
 */
import type { BrokerAdapter, BrokerPosition, ExecutionReport, OrderRequest } from '../index.js';

/** Stands in for your broker's SDK: replace it with the real client. */
export interface BrokerConnection {
  placeOrder(order: {
    clientOrderId: string;
    side: 'buy' | 'sell';
    quantity: number;
    expiry?: string;
    legs?: unknown[];
  }): Promise<{ brokerOrderId: string }>;
  cancelOrder(brokerOrderId: string): Promise<void>;
  openPositions(): Promise<Array<{ clientTag: string; quantity: number }>>;
  /** Orders working at the broker now (placed, not yet filled, rejected or cancelled). */
  workingOrders(): Promise<Array<{ brokerOrderId: string; clientOrderId: string; quantity: number }>>;
  /** The broker's execution stream; returns its unsubscribe function. */
  onExecution(listener: (execution: BrokerExecution) => void): () => void;
}

/** One execution as your broker reports it (field names vary per broker). */
export interface BrokerExecution {
  brokerOrderId: string;
  executionId: string;
  clientOrderId: string;
  status: 'partially_filled' | 'filled' | 'rejected' | 'cancelled';
  lastQuantity: number;
  lastPrice?: number;
  text?: string;
}

/**
 * The adapter: one instance per account, shared by every strategy of the service.
 */
export class ExampleBrokerAdapter implements BrokerAdapter {
  /** Our order sequence: the client order id carries the strategy id, so executions map back. */
  private sequence = 0;

  constructor(private readonly connection: BrokerConnection) {}

  /**
   * Places the order and resolves with the broker's order id once the broker has ACCEPTED it
   * for working (not when it fills). Throw (or reject) when it is refused outright: the strategy
   * is told (see the file comment). Never resolve for an order that was not placed.
   *
   * `order.side`: 'open' buys the strategy's structure, 'close' sells what it holds, 'adjust'
   * rolls it; `order.legs` and `order.expiry` say what. Map them to your broker's instruments.
   */
  async submit(order: OrderRequest): Promise<{ orderId: string }> {
    // The strategy id first (executions and positions map back by it), its incarnation second
    // (given back in openOrders and reports), the side last (openOrders).
    const clientOrderId = `${order.strategyId}:${order.incarnation ?? ''}:${++this.sequence}:${Date.now()}:${order.side}`;
    const placed = await this.connection.placeOrder({
      clientOrderId,
      side: order.side === 'close' ? 'sell' : 'buy',
      quantity: order.quantity,
      ...(order.expiry ? { expiry: order.expiry } : {}),
      ...(order.legs ? { legs: order.legs } : {}),
    });
    return { orderId: placed.brokerOrderId };
  }

  /**
   * Cancels a working order. The remainder must then come back as a `reject` report (kind
   * 'reject', quantity 0, a reason), so the strategy leaves its working state.
   */
  async cancel(orderId: string): Promise<void> {
    await this.connection.cancelOrder(orderId);
  }

  /**
   * Every open position, per strategy id: read at start for reconciliation. Must be the
   * account's truth (not a cache of what this process sent), or a restart after a fill that
   * arrived while down would hide a position.
   */
  async positions(): Promise<BrokerPosition[]> {
    const held = new Map<string, number>();
    for (const p of await this.connection.openPositions()) {
      const strategyId = p.clientTag.split(':')[0];
      held.set(strategyId, (held.get(strategyId) ?? 0) + p.quantity);
    }
    return [...held].filter(([, quantity]) => quantity !== 0).map(([strategyId, quantity]) => ({ strategyId, quantity }));
  }

  /**
   * Orders working at the broker now, for a restart (optional in `BrokerAdapter`, but worth
   * having): the routing follows them again, and places again only what the broker does not
   * have. Without it, a strategy restored while waiting on an order waits for its stuck deadline.
   * Must be the broker's truth, like `positions()`.
   */
  async openOrders(): Promise<Array<OrderRequest & { orderId: string }>> {
    return (await this.connection.workingOrders()).map((o) => {
      const parts = o.clientOrderId.split(':');
      const side = parts.at(-1);
      return {
        orderId: o.brokerOrderId,
        strategyId: parts[0],
        side: side === 'close' || side === 'adjust' ? side : 'open',
        quantity: o.quantity,
        ...incarnationOf(o.clientOrderId),
      };
    });
  }

  /**
   * Subscribes to executions and passes each on as an {@link ExecutionReport}. Called once by
   * the routing at start; return the broker's unsubscribe function.
   */
  onExecution(listener: (report: ExecutionReport) => void): () => void {
    return this.connection.onExecution((execution) => listener(toReport(execution)));
  }
}

/**
 * One broker execution as the lifecycle's report. `reportId` is the broker's execution id: the
 * same execution delivered twice is then the same eventId, refused as a duplicate.
 */
export function toReport(execution: BrokerExecution): ExecutionReport {
  const strategyId = execution.clientOrderId.split(':')[0];
  const base = { orderId: execution.brokerOrderId, strategyId, reportId: execution.executionId, ...incarnationOf(execution.clientOrderId) };
  switch (execution.status) {
    case 'partially_filled':
      return {
        ...base,
        kind: 'partial',
        quantity: execution.lastQuantity,
        ...(execution.lastPrice !== undefined ? { price: execution.lastPrice } : {}),
      };
    case 'filled':
      return {
        ...base,
        kind: 'fill',
        quantity: execution.lastQuantity,
        ...(execution.lastPrice !== undefined ? { price: execution.lastPrice } : {}),
      };
    case 'rejected':
    case 'cancelled':
      return { ...base, kind: 'reject', quantity: 0, reason: execution.text ?? execution.status };
  }
}

/** The placing strategy's incarnation, read back from the client order id `submit` made (none when it had none). */
function incarnationOf(clientOrderId: string): { incarnation?: string } {
  const incarnation = clientOrderId.split(':')[1];
  return incarnation ? { incarnation } : {};
}
