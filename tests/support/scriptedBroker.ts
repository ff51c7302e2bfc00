/**
 * A broker adapter a test scripts by hand: every order is acknowledged at once as B-1, B-2, ...
 * and kept in `orders` and in the `book` of working orders; cancels are recorded and take only
 * when the test reports them (a reject); `held` is the position `positions()` reports for
 * strategy `s`; `report` hands an execution report to the routing (a fill or a reject takes the
 * order off the book).
 */
import type { StrategyDefinition } from '../../machines/definition';
import type { StrategyEvent } from '../../machines/events';
import { strangle } from '../../machines/variants';
import { PaperBroker, type BrokerAdapter, type ExecutionReport, type OrderRequest } from '../../services/broker/broker';
import { startTradingDay } from '../../services/day/tradingDay';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategySystem } from '../../services/runtime/strategySystem';

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

/**
 * Drives strategy `id` (default `s`) from INITIALIZING to PENDING_ENTRY as the broker tests do:
 * market open, the entry window, entry conditions met (VIX 18, expiry 2027-01-15).
 */
export function sendEntry(system: { send(id: string, event: StrategyEvent): unknown }, id = 's'): void {
  system.send(id, { type: 'MARKET_OPEN' });
  system.send(id, { type: 'TIME_WINDOW_START', window: 'entry' });
  system.send(id, { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-01-15' });
}

/**
 * A strategy of `definition` (default strangle) with 2 contracts in an in-memory system, Monday
 * 2026-11-23 10:00 ET, driven by the trading day over a {@link ScriptedBroker}: opened, in its
 * entry window and past ENTRY_CONDITIONS_MET, so its entry order (B-1) works.
 */
export async function brokerDay(definition: StrategyDefinition = strangle) {
  const clock = createSimulatedClock('2026-11-23T10:00:00-05:00');
  const system = createStrategySystem({ clock });
  const strategy = system.add(definition, { id: 's', params: { quantity: 2 } });
  const broker = new ScriptedBroker();
  const errors: unknown[] = [];
  const driver = startTradingDay({ target: system, clock, broker, onError: (e) => errors.push(e) });
  const send = (event: StrategyEvent) => system.send('s', event);
  sendEntry(system);
  clock.increment(0);
  await settled();
  return { clock, system, strategy, broker, errors, driver, send };
}

/** {@link brokerDay} with its entry (B-1) filled in full and the next open: the strategy manages its 2 contracts. */
export async function brokerDayManaging(definition: StrategyDefinition = strangle) {
  const d = await brokerDay(definition);
  d.broker.report({ orderId: 'B-1', strategyId: 's', kind: 'fill', quantity: 2, reportId: 'E-1', price: 1 });
  await settled();
  d.send({ type: 'MARKET_OPEN' });
  return d;
}

/** {@link brokerDayManaging}, then a MARGIN_CALL: its 2 contracts open (entry B-1 filled) and the exit order B-2 working. */
export async function brokerDayExiting(definition: StrategyDefinition = strangle) {
  const d = await brokerDayManaging(definition);
  d.send({ type: 'MARGIN_CALL' });
  d.clock.increment(0);
  await settled();
  const ids = d.broker.orders.map((o) => o.id).join(',');
  if (d.strategy.state !== 'EXITING' || ids !== 'B-1,B-2')
    throw new Error(`setup: expected EXITING with orders B-1,B-2, got ${d.strategy.state} with ${ids}`);
  return d;
}

/**
 * A paper broker whose execution listener a test can call directly, with anything: a real broker
 * adapter may hand the routing a report it cannot read.
 */
export class ReportingBroker extends PaperBroker {
  private listener: ((report: ExecutionReport) => void) | undefined;
  override onExecution(listener: (report: ExecutionReport) => void): () => void {
    this.listener = listener;
    return super.onExecution(listener);
  }
  /** Hands `report` to the routing's listener, as the broker's feed would. */
  deliver(report: unknown): void {
    if (!this.listener) throw new Error('ReportingBroker: no routing listens yet');
    this.listener(report as ExecutionReport);
  }
}
