/**
 * A broker adapter a test scripts by hand: every order is acknowledged at once as B-1, B-2, ...
 * and kept in `orders` and in the `book` of working orders; cancels are recorded and take only
 * when the test reports them (a reject); `held` is the position `positions()` reports for
 * strategy `s`; `report` hands an execution report to the routing (a fill or a reject takes the
 * order off the book).
 */
import type { BrokerAdapter, ExecutionReport, OrderRequest } from '../../services/broker/broker';

export class ScriptedBroker implements BrokerAdapter {
  orders: Array<{ id: string; order: OrderRequest }> = [];
  cancels: string[] = [];
  book = new Map<string, OrderRequest>();
  held = 0;
  private listeners = new Set<(report: ExecutionReport) => void>();
  private n = 0;
  submit(order: OrderRequest): Promise<{ orderId: string }> {
    const id = `B-${++this.n}`;
    this.orders.push({ id, order });
    this.book.set(id, order);
    return Promise.resolve({ orderId: id });
  }
  cancel(orderId: string): Promise<void> {
    this.cancels.push(orderId);
    return Promise.resolve();
  }
  positions() {
    return Promise.resolve(this.held ? [{ strategyId: 's', quantity: this.held }] : []);
  }
  openOrders() {
    return Promise.resolve([...this.book].map(([orderId, order]) => ({ ...order, orderId })));
  }
  onExecution(listener: (report: ExecutionReport) => void) {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
  report(report: ExecutionReport): void {
    if (report.kind !== 'partial') this.book.delete(report.orderId);
    for (const listener of [...this.listeners]) listener(report);
  }
}

/** A few turns of the event loop: the routing's promises (submissions, reports) settle. */
export const settled = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};
