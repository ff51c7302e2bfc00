import type { OptionLeg } from '../../machines/events.js';

/** An order a strategy sends: opening, closing or adjusting its position. */
export interface OrderRequest {
  strategyId: string;
  side: 'open' | 'close' | 'adjust';
  /** Contracts, > 0. */
  quantity: number;
  expiry?: string;
  legs?: OptionLeg[];
  /**
   * The placing strategy's incarnation (its context's `incarnation`, drawn when it was added): a
   * strategy removed and added again under the same id is another incarnation. A broker keeps it
   * with the order and gives it back in `openOrders()` and in the order's execution reports, so an
   * order of a removed strategy is never taken for its successor's, even after a restart. Absent
   * for a strategy stored before it was kept; an order or report without it matches any.
   */
  incarnation?: string;
}

/** What the broker says about an order. */
export interface ExecutionReport {
  orderId: string;
  strategyId: string;
  kind: 'fill' | 'partial' | 'reject';
  /**
   * The broker's id of this report, unique within the order: a report delivered twice carries the
   * same id, so the event made from it is recognised as a duplicate.
   */
  reportId?: string;
  /** Contracts filled by this report (0 for a rejection). */
  quantity: number;
  price?: number;
  reason?: string;
  /** The order's {@link OrderRequest.incarnation}, given back as the broker received it. */
  incarnation?: string;
}

/** A position as the broker holds it, attributed to a strategy. */
export interface BrokerPosition {
  strategyId: string;
  quantity: number;
}

/**
 * Contracts held per strategy: the sum of every entry the broker gives for it. An adapter may
 * list one strategy more than once (per account, per underlying or per leg); keeping only the
 * last entry would hide contracts (`[{ s, 3 }, { s, 0 }]` read as flat).
 */
export function holdingsByStrategy(positions: readonly BrokerPosition[]): Map<string, number> {
  const held = new Map<string, number>();
  for (const { strategyId, quantity } of positions) held.set(strategyId, (held.get(strategyId) ?? 0) + quantity);
  return held;
}

/**
 * The broker as the lifecycle sees it. Real adapters map their accounts' positions to strategy
 * ids; {@link PaperBroker} simulates one on the system clock.
 */
export interface BrokerAdapter {
  /**
   * Places an order; its fate arrives later as execution reports. The acknowledgement may come at
   * once (the paper broker's does, so a simulation never waits on a promise) or as a promise.
   */
  submit(order: OrderRequest): Promise<{ orderId: string }> | { orderId: string };
  /** Cancels a working order (its remainder is reported as rejected). */
  cancel(orderId: string): Promise<void>;
  /**
   * Every open position, attributed to strategies. A strategy listed more than once holds the sum
   * of its entries.
   */
  positions(): Promise<BrokerPosition[]>;
  /** Receives every execution report; returns the unsubscribe function. */
  onExecution(listener: (report: ExecutionReport) => void): () => void;
  /**
   * Orders working at the broker now, with their ids (optional). With it, a restart resumes at
   * once: working orders are followed again, and a strategy waiting on an order the broker does not
   * have (lost with the process that placed it) and whose position the broker agrees with gets it
   * placed again (an entry in part filled, or an adjustment, is ended with ORDER_REJECTED: a roll
   * changes no quantity, so the agreement cannot tell one lost from one filled). Without it, such a
   * strategy waits for its stuck deadline.
   */
  openOrders?(): Promise<Array<OrderRequest & { orderId: string }>>;
}

/** How the paper broker treats one order: a list of steps, each after a delay. */
export type PaperScript = Array<{ kind: 'fill' | 'partial' | 'reject'; quantity?: number; afterMs?: number; reason?: string }>;

/**
 * The timers the paper broker needs of a clock: any `Clock` of market time (real or simulated)
 * has them. Declared here, so the broker depends on the chart's types only.
 *
 * @example
 * ```ts
 * const timers: PaperClock = createSimulatedClock('2026-06-16T10:00:00-04:00');
 * ```
 */
export interface PaperClock {
  /** Calls `fn` once after `ms` milliseconds of the clock's time; the handle cancels it. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Options of {@link PaperBroker}. */
export interface PaperBrokerOptions {
  /** The system's clock: reports come after delays of its time, so simulations stay deterministic. */
  clock: PaperClock;
  /** Delay of each report after the previous one (default 100 ms of the clock). */
  latencyMs?: number;
  /** The fill price reported (default 1). */
  price?: number;
  /** Decides the fate of each order; default: one full fill after the latency. */
  script?: (order: OrderRequest, orderId: string) => PaperScript;
  /** Positions already open at the broker (e.g. from a previous session). */
  initialPositions?: BrokerPosition[];
  /**
   * This broker's session, in every order id (`paper-<session>-1`, `-2`, ...). Strategies remember
   * the event ids of the reports they applied (`<orderId>/<reportId>`) across restarts, so a new
   * broker over the same store must never repeat an order id: the default is a fresh random
   * session per broker. `''` gives `paper-1`, `paper-2`, ... (one run, e.g. a seeded simulation).
   */
  session?: string;
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
  private reports = 0;
  private readonly prefix: string;

  constructor(private readonly options: PaperBrokerOptions) {
    for (const p of options.initialPositions ?? []) this.held.set(p.strategyId, (this.held.get(p.strategyId) ?? 0) + p.quantity);
    // No node:crypto: the package's root stays free of Node built-ins (it runs in a browser too).
    const session =
      options.session ??
      Math.floor(Math.random() * 0x100000000)
        .toString(16)
        .padStart(8, '0');
    this.prefix = session ? `paper-${session}-` : 'paper-';
  }

  submit(order: OrderRequest): { orderId: string } {
    if (!(order.quantity > 0)) throw new RangeError(`order quantity must be > 0, got ${order.quantity}`);
    const orderId = `${this.prefix}${++this.sequence}`;
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
      this.emit({
        orderId,
        reportId: this.nextReportId(),
        strategyId: order.strategyId,
        ...(order.incarnation !== undefined ? { incarnation: order.incarnation } : {}),
        kind: 'reject',
        quantity: 0,
        reason: step.reason ?? 'rejected by paper broker',
      });
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
    this.emit({
      orderId,
      reportId: this.nextReportId(),
      strategyId: order.strategyId,
      ...(order.incarnation !== undefined ? { incarnation: order.incarnation } : {}),
      kind: working.remaining === 0 ? 'fill' : 'partial',
      quantity,
      price: this.options.price ?? 1,
    });
  }

  private nextReportId(): string {
    return `paper-report-${++this.reports}`;
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
    this.emit({
      orderId,
      reportId: this.nextReportId(),
      strategyId: working.order.strategyId,
      ...(working.order.incarnation !== undefined ? { incarnation: working.order.incarnation } : {}),
      kind: 'reject',
      quantity: 0,
      reason: 'cancelled',
    });
  }

  async positions(): Promise<BrokerPosition[]> {
    return [...this.held].map(([strategyId, quantity]) => ({ strategyId, quantity }));
  }

  /** The orders this paper broker works now (its book lives in memory: none after a restart). */
  async openOrders(): Promise<Array<OrderRequest & { orderId: string }>> {
    return [...this.working].map(([orderId, { order }]) => ({ ...order, orderId }));
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

/** Plain settings of a {@link PaperBroker}'s behaviour, as a config file gives them. */
export interface PaperBehaviour {
  /** Each report after the previous one, ms of the clock (default 100). */
  latencyMs?: number;
  /** Fill every order in two reports: about half, then the rest (default false). */
  partialFills?: boolean;
  /** Reject every n-th order (1: all, 0 or absent: none), reason "rejected by paper broker". */
  rejectEvery?: number;
}

/**
 * The {@link PaperScript} for a {@link PaperBehaviour}: deterministic, so a paper session or a
 * test replays the same way.
 *
 * @example
 * ```ts
 * new PaperBroker({ clock, latencyMs: 500, script: paperScript({ partialFills: true, rejectEvery: 5 }) });
 * ```
 */
export function paperScript(behaviour: PaperBehaviour): NonNullable<PaperBrokerOptions['script']> {
  let count = 0;
  return (order) => {
    count++;
    if (behaviour.rejectEvery && count % behaviour.rejectEvery === 0) return [{ kind: 'reject', reason: 'rejected by paper broker' }];
    if (behaviour.partialFills && order.quantity > 1)
      return [{ kind: 'partial', quantity: Math.floor(order.quantity / 2) }, { kind: 'fill' }];
    return [{ kind: 'fill' }];
  };
}
