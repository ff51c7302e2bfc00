import type { OptionLeg } from '../machines/events.js';
import type { Clock } from './clock.js';

/** An order a strategy sends: opening, closing or adjusting its position. */
export interface OrderRequest {
  strategyId: string;
  side: 'open' | 'close' | 'adjust';
  /** Contracts, > 0. */
  quantity: number;
  expiry?: string;
  legs?: OptionLeg[];
}

/** What the broker says about an order. */
export interface ExecutionReport {
  orderId: string;
  strategyId: string;
  kind: 'fill' | 'partial' | 'reject';
  /** Contracts filled by this report (0 for a rejection). */
  quantity: number;
  price?: number;
  reason?: string;
}

/** A position as the broker holds it, attributed to a strategy. */
export interface BrokerPosition {
  strategyId: string;
  quantity: number;
}

/**
 * The broker as the lifecycle sees it. Real adapters map their accounts' positions to strategy
 * ids; {@link PaperBroker} simulates one on the system clock.
 */
export interface BrokerAdapter {
  /** Places an order; its fate arrives later as execution reports. */
  submit(order: OrderRequest): Promise<{ orderId: string }>;
  /** Cancels a working order (its remainder is reported as rejected). */
  cancel(orderId: string): Promise<void>;
  /** Every open position, per strategy. */
  positions(): Promise<BrokerPosition[]>;
  /** Receives every execution report; returns the unsubscribe function. */
  onExecution(listener: (report: ExecutionReport) => void): () => void;
}

/** How the paper broker treats one order: a list of steps, each after a delay. */
export type PaperScript = Array<{ kind: 'fill' | 'partial' | 'reject'; quantity?: number; afterMs?: number; reason?: string }>;

/** Options of {@link PaperBroker}. */
export interface PaperBrokerOptions {
  clock: Clock;
  /** Delay of each report after the previous one (default 100 ms of the clock). */
  latencyMs?: number;
  /** The fill price reported (default 1). */
  price?: number;
  /** Decides the fate of each order; default: one full fill after the latency. */
  script?: (order: OrderRequest, orderId: string) => PaperScript;
  /** Positions already open at the broker (e.g. from a previous session). */
  initialPositions?: BrokerPosition[];
}

interface WorkingOrder {
  order: OrderRequest;
  remaining: number;
  timers: unknown[];
}

/**
 * A simulated broker: orders fill, partially fill or are rejected after a configurable latency on
 * the system clock (so simulations and tests stay deterministic), and it keeps positions per
 * strategy from what it filled.
 *
 * @example
 * ```ts
 * const broker = new PaperBroker({ clock, latencyMs: 250, script: (o) => [{ kind: 'reject', reason: 'no liquidity' }, ...] });
 * ```
 */
export class PaperBroker implements BrokerAdapter {
  private readonly held = new Map<string, number>();
  private readonly working = new Map<string, WorkingOrder>();
  private readonly listeners = new Set<(report: ExecutionReport) => void>();
  private sequence = 0;

  constructor(private readonly options: PaperBrokerOptions) {
    for (const p of options.initialPositions ?? []) this.held.set(p.strategyId, p.quantity);
  }

  async submit(order: OrderRequest): Promise<{ orderId: string }> {
    if (!(order.quantity > 0)) throw new RangeError(`order quantity must be > 0, got ${order.quantity}`);
    const orderId = `paper-${++this.sequence}`;
    const steps = this.options.script?.(order, orderId) ?? [{ kind: 'fill' }];
    const working: WorkingOrder = { order, remaining: order.quantity, timers: [] };
    this.working.set(orderId, working);
    let delay = 0;
    for (const step of steps) {
      delay += step.afterMs ?? this.options.latencyMs ?? 100;
      working.timers.push(this.options.clock.setTimeout(() => this.execute(orderId, step), delay));
    }
    return { orderId };
  }

  private execute(orderId: string, step: PaperScript[number]): void {
    const working = this.working.get(orderId);
    if (!working) return;
    const { order } = working;
    if (step.kind === 'reject') {
      this.finish(orderId);
      this.emit({ orderId, strategyId: order.strategyId, kind: 'reject', quantity: 0, reason: step.reason ?? 'rejected by paper broker' });
      return;
    }
    const quantity = step.kind === 'fill' ? working.remaining : Math.min(step.quantity ?? 1, working.remaining - 1);
    if (quantity <= 0) return;
    working.remaining -= quantity;
    if (order.side !== 'adjust') {
      const signed = order.side === 'open' ? quantity : -quantity;
      const next = (this.held.get(order.strategyId) ?? 0) + signed;
      if (next === 0) this.held.delete(order.strategyId);
      else this.held.set(order.strategyId, next);
    }
    if (working.remaining === 0) this.finish(orderId);
    this.emit({ orderId, strategyId: order.strategyId, kind: working.remaining === 0 ? 'fill' : 'partial', quantity, price: this.options.price ?? 1 });
  }

  private finish(orderId: string): void {
    const working = this.working.get(orderId);
    if (!working) return;
    for (const timer of working.timers) this.options.clock.clearTimeout(timer);
    this.working.delete(orderId);
  }

  private emit(report: ExecutionReport): void {
    for (const listener of this.listeners) listener(report);
  }

  async cancel(orderId: string): Promise<void> {
    const working = this.working.get(orderId);
    if (!working) return;
    this.finish(orderId);
    this.emit({ orderId, strategyId: working.order.strategyId, kind: 'reject', quantity: 0, reason: 'cancelled' });
  }

  async positions(): Promise<BrokerPosition[]> {
    return [...this.held].map(([strategyId, quantity]) => ({ strategyId, quantity }));
  }

  onExecution(listener: (report: ExecutionReport) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Changes a held position behind the lifecycle's back (tests of reconciliation). */
  setPosition(strategyId: string, quantity: number): void {
    if (quantity === 0) this.held.delete(strategyId);
    else this.held.set(strategyId, quantity);
  }
}
