import { checkTradingState, type TradingState } from '../../guards/portfolio.js';
import {
  ExpiredPositionError,
  InvalidExecutionReportError,
  OwnershipLostError,
  RefusedFillError,
  StoreUnavailableError,
  UndeliveredEventError,
  UntrackedFillError,
} from '../../machines/errors.js';
import type { StrategyEvent } from '../../machines/events.js';
import type { Clock } from '../market/clock.js';
import { hasExpiredAt } from '../market/dteRules.js';
import type { SessionSource } from '../market/marketClock.js';
import { isIsoDate } from '../market/time.js';
import type { StrategyState } from '../../machines/states.js';
import { holdingsByStrategy, type BrokerAdapter, type ExecutionReport, type OrderRequest } from './broker.js';
import { settle, type MaybePromise } from '../runtime/settle.js';
import { NOT_DELIVERED } from '../runtime/handleResults.js';
import type { StrategyActor, TriggerResult } from '../runtime/strategyActor.js';

/** The states whose entry means "send an order", and which order. */
const INTENT: Partial<Record<StrategyState, OrderRequest['side']>> = { PENDING_ENTRY: 'open', PENDING_EXIT: 'close', ADJUSTING: 'adjust' };

/**
 * True when a strategy entering `state` wants an order sent (PENDING_ENTRY, PENDING_EXIT,
 * ADJUSTING).
 *
 * @example
 * ```ts
 * wantsOrder('PENDING_EXIT'); // true
 * ```
 */
export function wantsOrder(state: StrategyState): boolean {
  return INTENT[state] !== undefined;
}

/** The side of order a state waits on; in any other state no order of the strategy should be working. */
const EXPECTED_SIDE: Partial<Record<StrategyState, OrderRequest['side']>> = {
  PENDING_ENTRY: 'open',
  ENTERING: 'open',
  PENDING_EXIT: 'close',
  EXITING: 'close',
  PARTIAL_EXIT: 'close',
  ADJUSTING: 'adjust',
};

/**
 * True when a transition reached EXITING without an exit order: EMERGENCY_EXIT (or an operator's
 * MANUAL_OVERRIDE, the kill switch's) from a state where none was placed, such as MANAGING,
 * POSITION_OPEN or ERROR. EXITING means "exit order working", so the routing must place one now.
 *
 * @example
 * ```ts
 * needsExitOrder({ previousState: 'MANAGING', currentState: 'EXITING' }); // true
 * needsExitOrder({ previousState: 'PENDING_EXIT', currentState: 'EXITING' }); // false: its order is placed
 * ```
 */
export function needsExitOrder(record: { previousState: StrategyState; currentState: StrategyState }): boolean {
  // From a state that waits on a close order (PENDING_EXIT, EXITING, PARTIAL_EXIT), that order is the exit.
  return record.currentState === 'EXITING' && EXPECTED_SIDE[record.previousState] !== 'close';
}

/**
 * The order a strategy's state implies, or null: an entry sized by `params.quantity` (default 1)
 * for the expiry and underlying of the ENTRY_CONDITIONS_MET that led to PENDING_ENTRY; an exit
 * or an adjustment of the whole open position.
 *
 * @example
 * ```ts
 * orderIntentOf(strategy); // { strategyId: 'lt112-spx', side: 'close', quantity: 2, expiry: '2026-12-18' }
 * ```
 */
export function orderIntentOf(strategy: StrategyActor): OrderRequest | null {
  // EXITING: asked by `submitFor` only after an emergency exit, which placed no order (see needsExitOrder).
  const side = INTENT[strategy.state] ?? (strategy.state === 'EXITING' || strategy.state === 'PARTIAL_EXIT' ? 'close' : undefined);
  if (!side) return null;
  const { params, position, lastRecord, incarnation } = strategy.getSnapshot().context;
  // Tells this strategy's orders from those of an earlier one under its id (see OrderRequest.incarnation).
  const placedBy = incarnation !== undefined ? { incarnation } : {};
  if (side === 'open') {
    const size = params.quantity;
    const data = lastRecord?.currentState === 'PENDING_ENTRY' ? lastRecord.data : {};
    return {
      strategyId: strategy.id,
      side,
      quantity: Number.isInteger(size) && (size as number) > 0 ? (size as number) : 1,
      ...(typeof data.expiry === 'string' ? { expiry: data.expiry } : {}),
      ...placedBy,
    };
  }
  if (!position || position.quantity <= 0) return null;
  return {
    strategyId: strategy.id,
    side,
    quantity: position.quantity,
    ...(position.expiry ? { expiry: position.expiry } : {}),
    ...(position.legs ? { legs: position.legs } : {}),
    ...placedBy,
  };
}

/** What the routing needs of a strategy system: read a strategy, send it an event. */
export interface OrderTarget {
  get(id: string): StrategyActor;
  has?(id: string): boolean;
  send(id: string, event: StrategyEvent): MaybePromise<TriggerResult>;
  /** The system's trading state: no entry (HALTED, REDUCING) or adjustment (HALTED) is placed against it. */
  readonly tradingState?: TradingState;
}

/** Options of {@link startBrokerRouting}. */
export interface BrokerRoutingOptions {
  broker: BrokerAdapter;
  target: OrderTarget;
  /** Failed submissions, sends and store writes. Default: console.error. */
  onError?: (error: unknown) => void;
  /**
   * The strategies' clock: a report the store could not write is sent again after 1 s, 2 s, 4 s,
   * ... 30 s, later reports of that strategy waiting behind it: for as long as the store refuses
   * (StoreUnavailableError; told to `onError` after about 4 minutes and every 6 minutes after), and
   * about 4 minutes for a strategy this instance does not hold now (OwnershipLostError while it is
   * reloaded). Without a clock such a report is only told to `onError`.
   */
  clock?: Clock;
  /**
   * The sessions the system runs on (its calendar, with any extra holiday or early close), which
   * say when an order's contracts have expired; default the built-in NYSE calendar. Give the same
   * sessions as the DTE monitor's, so both agree on when a position expired.
   */
  sessions?: SessionSource;
}

/** Waits before each new attempt at a report the store could not write (about 4 minutes in all). */
const REPORT_RETRY_MS = [1000, 2000, 4000, 8000, 15_000, 30_000, 30_000, 30_000, 30_000, 30_000, 30_000, 30_000];

/**
 * Tries of an event the strategy refused as REENTRANT_TRIGGER (sent from inside its own hook or
 * transition listener): each on a later turn, the first at once after it (0 ms of the clock, or a
 * microtask without one), the next ones after the backoff of {@link REPORT_RETRY_MS}.
 */
const DEFER_TRIES = 4;

/** Reports a strategy has not taken yet (see `backlog` in {@link startBrokerRouting}). */
interface Backlog {
  events: StrategyEvent[];
  attempt: number;
  storeTries: number;
  ownerTries: number;
  deferTries: number;
  /** The pending retry; undefined while a send is on its way; null while one waits for a microtask. */
  timer: unknown;
  /** Its strategy was removed: nothing of it is sent any more (see `removed`). */
  dropped: boolean;
}

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
const isFillEvent = (event: StrategyEvent): event is Extract<StrategyEvent, { quantity: number }> =>
  event.type === 'ORDER_FILLED' || event.type === 'ORDER_PARTIALLY_FILLED';

/**
 * A partial fill of an adjustment, which ADJUSTING takes no edge for: the adjustment's position is
 * applied by its final ORDER_FILLED (a roll changes no quantity), so refusing the partial is no
 * mismatch and holds nothing (the paper broker's `partialFills` reports every order of 2 or more so).
 */
const adjustmentPartial = (event: StrategyEvent, result: TriggerResult): boolean =>
  event.type === 'ORDER_PARTIALLY_FILLED' && result.code === 'NO_EDGE' && EXPECTED_SIDE[result.from] === 'adjust';

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

/** A running routing between strategies and a broker. */
export interface BrokerRouting {
  /**
   * Sends the order `strategy`'s state implies (see {@link orderIntentOf}); nothing if none. Call it
   * on entering PENDING_ENTRY, PENDING_EXIT or ADJUSTING ({@link wantsOrder}), and on reaching
   * EXITING without an exit order ({@link needsExitOrder}).
   */
  submitFor(strategy: StrategyActor): void;
  /**
   * Cancels the strategy's working orders its state no longer waits on: an entry order left behind
   * by a stuck deadline (ENTERING -> ERROR) or an emergency exit (ENTERING -> READY or EXITING), an
   * exit order left by a stuck exit. Its late fill would otherwise reach a state with no edge for it
   * and the position would be wrong. A fill that races the cancel is still delivered (it happened).
   */
  cancelStale(strategy: StrategyActor): void;
  /**
   * After a restart: follows again the orders the broker works now (cancelling, as
   * {@link BrokerRouting.cancelStale} does, one its strategy's state no longer waits on), and settles each strategy that
   * waits on an order the broker does not have (see {@link BrokerAdapter.openOrders}; nothing
   * without it). Only where the broker's position agrees with the strategy's: one that moved while
   * the service was down is the reconciliation's, or the stuck deadline's, to settle.
   */
  resume(strategies: readonly StrategyActor[]): Promise<void>;
  /**
   * Forgets a strategy that is gone (removed): what the routing kept about it, so a service whose
   * strategies come and go (a dated 0DTE id a day) does not keep an entry per id for ever. An
   * order of it acknowledged later is cancelled.
   */
  forget(strategyId: string): void;
  /**
   * Tells the routing that the strategy of `strategyId` was removed (call it at the removal, as the
   * trading day does through the system's `subscribeRemovals`): every order the routing placed or
   * followed for it belongs to no strategy now. One still working is cancelled, and a fill of any
   * of them (one that raced its cancel, one acknowledged later) is delivered to no strategy, not
   * even one added again under the id, which never placed it: `onError` gets an
   * {@link UntrackedFillError} (the contracts are at the broker with no strategy tracking them).
   * So is a fill still waiting to be sent again (the store refused it, or the strategy was not held
   * here): it is never sent; any other report waiting so (a reject) is dropped, told to nobody, as
   * is the broker's refusal of a submission it had not answered yet at the removal.
   * Each fill is told once: the broker's repeat of a report (its report id, or one that would fill
   * the order past its quantity) is not told again, nor is the repeat of a fill the strategy took
   * before its removal (its contracts were tracked).
   * Also forgets the strategy as {@link BrokerRouting.forget} does.
   */
  removed(strategyId: string): void;
  /** Orders placed and not yet filled or rejected, by order id. */
  readonly working: ReadonlyMap<string, OrderRequest>;
  stop(): void;
}

/**
 * Routes orders between strategies and a {@link BrokerAdapter}: `submitFor` places the order a
 * strategy's state implies and answers ORDER_SUBMITTED (entries and exits; an adjustment has no
 * such step); every execution report becomes ORDER_PARTIALLY_FILLED, ORDER_FILLED or
 * ORDER_REJECTED. Each event's `eventId` is made of the broker's order id and report id, so a
 * report delivered twice is refused by the strategy as a duplicate. Reports that arrive before
 * an order's acknowledgement wait for it. A submission the broker refuses is told to the strategy
 * in its own terms: ENTRY_CONDITIONS_FAILED for an entry, ORDER_REJECTED for an adjustment,
 * SYSTEM_ERROR for an exit (an operator must look).
 *
 * A report the broker passes that cannot be read (an unknown `kind`, a `quantity` that is not a
 * non-negative number, no `orderId`, not an object) is refused with an
 * {@link InvalidExecutionReportError} to `onError`; the strategy is not touched and nothing is
 * thrown back into the broker. An event the strategy refuses as REENTRANT_TRIGGER (sent from
 * inside its own transition listener, as in the example below, where the paper broker
 * acknowledges at once) is sent again on a later turn (0 ms of `clock`, or a microtask without
 * one), the reports behind it waiting; one that still cannot be delivered, or reaches a stopped
 * strategy, is told to `onError` as an {@link UndeliveredEventError}.
 *
 * @example
 * ```ts
 * const routing = startBrokerRouting({ broker: new PaperBroker({ clock }), target: system, clock });
 * system.subscribe(({ strategyId, record }) => {
 *   // Called from inside the transition: the ORDER_SUBMITTED follows on a later turn of the clock.
 *   if (record.accepted && (wantsOrder(record.currentState) || needsExitOrder(record))) routing.submitFor(system.get(strategyId));
 * });
 * ```
 */
export function startBrokerRouting(options: BrokerRoutingOptions): BrokerRouting {
  const { broker, target, clock, sessions } = options;
  const onError = options.onError ?? ((error: unknown) => console.error('strategy-lifecycle broker routing:', error));
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
  /** Per strategy, the number of its latest submission: an older one acknowledged late is stale. */
  const submissions = new Map<string, number>();
  let submitted = 0;
  let stopped = false;

  /**
   * What the broker said and the strategy has not taken yet, per strategy, oldest first. A report
   * the store could not write (down, or the strategy being reloaded) is a fact that still has to
   * land: it is sent again after a backoff on the clock, and later reports wait behind it, so
   * the strategy gets them in the broker's order. Their eventIds make a repeat harmless.
   */
  const backlog = new Map<string, Backlog>();

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

  const retryable = (error: unknown) => error instanceof StoreUnavailableError || error instanceof OwnershipLostError;

  /** Sends the oldest report `strategyId` has not taken yet, then the next, until none is left. */
  const drain = (strategyId: string): void => {
    const queue = backlog.get(strategyId);
    if (!queue || stopped) return;
    queue.timer = undefined;
    const event = queue.events[0];
    const next = () => {
      // Its strategy was removed while this event was on its way: the rest was dealt with then.
      if (queue.dropped) return;
      queue.events.shift();
      queue.attempt = 0;
      queue.storeTries = 0;
      queue.ownerTries = 0;
      queue.deferTries = 0;
      if (queue.events.length === 0) backlog.delete(strategyId);
      else drain(strategyId);
    };
    const failed = (error: unknown) => {
      // Not landed, and its strategy is removed now: it never will (a fill is told as untracked).
      if (queue.dropped) return untrackedEvent(strategyId, event);
      if (!retryable(error) || !clock) {
        onError(error);
        return next();
      }
      // A fill is the broker's fact: while the store is down it waits as long as the outage lasts
      // (dropped after 4 minutes, the strategy and the broker disagreed for good). A strategy held
      // by no instance here is given up after the bounded tries, as before.
      const storeDown = error instanceof StoreUnavailableError ? error : null;
      // Counted per kind: the bounded tries of a strategy not held here are not used up by an outage before them.
      const tries = storeDown ? queue.storeTries++ : queue.ownerTries++;
      if (!storeDown && tries >= REPORT_RETRY_MS.length) {
        onError(error);
        return next();
      }
      // Told once the bounded tries are over, and every 12 tries after (about 6 minutes): not on each.
      if (storeDown && tries >= REPORT_RETRY_MS.length && (tries - REPORT_RETRY_MS.length) % 12 === 0)
        onError(
          new StoreUnavailableError(
            storeDown.store,
            `${event.type} of ${strategyId} from the broker still waits for the store (try ${tries + 1}): ${storeDown.message}`,
            storeDown,
          ),
        );
      // The wait grows with every try of this report, whatever the kind.
      const wait = REPORT_RETRY_MS[Math.min(queue.attempt, REPORT_RETRY_MS.length - 1)];
      queue.attempt++;
      queue.timer = clock.setTimeout(() => drain(strategyId), wait);
    };
    // Not held here (being reloaded from the store, or never ours): wait as for a store outage
    // (without a clock to wait on, dropped as before).
    if (target.has && !target.has(strategyId))
      return clock === undefined
        ? next()
        : failed(
            new OwnershipLostError(strategyId, '(this instance)', `${event.type} from the broker waits: the strategy is not held here now`),
          );
    /**
     * An answer that is no record of the strategy's: the event never reached it. Sent from inside
     * its own hook or transition listener (REENTRANT_TRIGGER: `submitFor` called from
     * `system.subscribe` with a broker that acknowledges at once), it is tried again on a later
     * turn, the reports behind it still waiting; anything else (a stopped strategy) is told to
     * `onError`. Before, such an answer counted as delivered: the ORDER_SUBMITTED was lost and the
     * fill landed in PENDING_ENTRY, with no edge for it.
     */
    const answered = (result: TriggerResult): void => {
      if (queue.dropped) {
        // Its strategy was removed meanwhile: nothing more is sent under its id (another may hold it).
        if (result?.record?.trigger === NOT_DELIVERED) untrackedEvent(strategyId, event);
        return;
      }
      if (result?.record?.trigger !== NOT_DELIVERED) {
        // A fill the strategy refused (more than is open, an invalid quantity, no edge for it) still
        // happened at the broker: its position no longer matches. Held for an operator, never
        // dropped (a duplicate was applied already: nothing to do).
        if (result && !result.accepted && result.code !== 'DUPLICATE_EVENT' && isFillEvent(event) && !adjustmentPartial(event, result))
          refusedFill(strategyId, event, result);
        if (result?.accepted && isFillEvent(event)) recordTaken(event);
        return next();
      }
      if (result.code === 'REENTRANT_TRIGGER' && queue.deferTries < DEFER_TRIES) {
        const wait = queue.deferTries === 0 ? 0 : REPORT_RETRY_MS[Math.min(queue.deferTries - 1, REPORT_RETRY_MS.length - 1)];
        queue.deferTries++;
        if (clock) queue.timer = clock.setTimeout(() => drain(strategyId), wait);
        else {
          // No clock to wait on: the next microtask (after the listener that sent it has returned).
          queue.timer = null;
          queueMicrotask(() => {
            if (backlog.get(strategyId) === queue && queue.timer === null) drain(strategyId);
          });
        }
        return;
      }
      onError(new UndeliveredEventError(strategyId, event.type, result.code, result.reason ?? result.record.reason ?? 'not delivered'));
      next();
    };
    settle(() => target.send(strategyId, event), answered, failed);
  };

  const send = (strategyId: string, event: StrategyEvent): void => {
    if (stopped) return;
    const waiting = backlog.get(strategyId);
    if (waiting) waiting.events.push(event);
    else {
      backlog.set(strategyId, {
        events: [event],
        attempt: 0,
        storeTries: 0,
        ownerTries: 0,
        deferTries: 0,
        timer: undefined,
        dropped: false,
      });
      drain(strategyId);
    }
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

  /** Holds a strategy in ERROR for an operator (no auto-recovery): its position no longer matches the broker's. */
  const hold = (strategyId: string, state: StrategyState, reason: string, eventId: string): void =>
    send(
      strategyId,
      state === 'ERROR' || state === 'TERMINATED'
        ? { type: 'MANUAL_OVERRIDE', target: 'ERROR', reason, operator: 'broker', hold: true, eventId }
        : { type: 'SYSTEM_ERROR', reason, hold: true, eventId },
    );

  /**
   * A broker's fill the strategy refused: told to `onError` as a {@link RefusedFillError} and the
   * strategy held in ERROR for an operator (no auto-recovery, which would resume managing, or
   * exit, a position the broker no longer holds as the strategy thinks). The hold carries the
   * fill's eventId, so a redelivery of the same fill is then a harmless duplicate.
   */
  const refusedFill = (strategyId: string, event: Extract<StrategyEvent, { quantity: number }>, result: TriggerResult): void => {
    const why = result.reason ?? result.record.reason ?? 'refused';
    const reason = `position mismatch: the broker reports ${event.type === 'ORDER_FILLED' ? 'a fill' : 'a partial fill'} of ${event.quantity}${event.orderId ? ` on order ${event.orderId}` : ''} that the strategy refused in ${result.from} (${why}); reconcile with the broker, then RESET or MANUAL_OVERRIDE`;
    onError(new RefusedFillError(strategyId, event.type, result.code, reason));
    // Held where the refusal left it: a hook failure at maxErrors forced it into ERROR already, where
    // only MANUAL_OVERRIDE holds (a SYSTEM_ERROR there changes nothing, its recovery stays armed).
    hold(strategyId, result.to, reason, event.eventId ?? `${event.orderId ?? 'fill'}/refused`);
  };

  /** The state `strategyId` is in here now, or undefined when it is not held here (fenced, reloading). */
  const stateOf = (strategyId: string): StrategyState | undefined => {
    try {
      return target.has && !target.has(strategyId) ? undefined : target.get(strategyId).state;
    } catch {
      return undefined;
    }
  };

  /** The data of the record that entered PENDING_ENTRY: the entry's expiry and underlying (an order placed before a restart). */
  const entryData = (strategyId: string): Record<string, unknown> => {
    try {
      const trail = target.get(strategyId).getAuditTrail();
      for (let i = trail.length - 1; i >= 0; i--) if (trail[i].accepted && trail[i].currentState === 'PENDING_ENTRY') return trail[i].data;
    } catch {
      // not held here: nothing to read
    }
    return {};
  };

  /**
   * The report id of a broker that gives none: its kind and the contracts the routing has seen
   * filled of the order, and the strategy's last audit seq. The count lives in this routing's
   * memory and starts again after a restart; the seq is stored with the strategy and only grows,
   * so a report after a restart never takes the id of one before it (which the strategy would
   * refuse as a duplicate: a real fill lost). Without the broker's id a report delivered twice
   * cannot be told from two reports: give `reportId`. The seq is the snapshot's (`lastRecord`), not
   * the in-memory audit window's, which is empty after a restore with `restoreWindow: 0`.
   */
  const fallbackReportId = (report: ExecutionReport, total: number): string => {
    let seq: number | undefined;
    try {
      seq = target.get(report.strategyId).getSnapshot().context.lastRecord?.seq;
    } catch {
      // not held here: the send refuses it anyway
    }
    return `${report.kind}-${total}${seq === undefined ? '' : `@${seq}`}`;
  };

  /** True when `strategyId` applied an event of `eventId` already, or has one waiting in its backlog. */
  const alreadyTaken = (strategyId: string, eventId: string): boolean => {
    if (backlog.get(strategyId)?.events.some((event) => event.eventId === eventId)) return true;
    try {
      return target.get(strategyId).getSnapshot().context.recentEventIds.includes(eventId);
    } catch {
      return false;
    }
  };

  /**
   * True when an order placed by `incarnation` is not the current strategy's under `strategyId`:
   * one removed before it was added again, maybe before a restart, when the routing that knew
   * of the removal is gone. An order, or a strategy, without an incarnation (stored before it was
   * kept) matches any; so does a strategy not held here (nothing to compare with).
   */
  const ofEarlierIncarnation = (strategyId: string, incarnation: string | undefined): boolean => {
    if (incarnation === undefined) return false;
    try {
      if (target.has && !target.has(strategyId)) return false;
      const current = target.get(strategyId).getSnapshot().context.incarnation;
      return current !== undefined && current !== incarnation;
    } catch {
      return false;
    }
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
      const what = order ? `${order.side === 'open' ? 'entry' : order.side === 'close' ? 'exit' : 'adjustment'} order` : 'order';
      const reason = `position mismatch: the broker reports ${report.kind === 'fill' ? 'a fill' : 'a partial fill'} of ${report.quantity} on ${what} ${report.orderId}, which the strategy no longer waits on (in ${state}); reconcile with the broker, then RESET or MANUAL_OVERRIDE`;
      onError(
        new RefusedFillError(report.strategyId, report.kind === 'fill' ? 'ORDER_FILLED' : 'ORDER_PARTIALLY_FILLED', undefined, reason),
      );
      // An exit is working for the position the strategy knows of: holding now would cancel it and
      // leave that position open too (an entry's late fill during a kill switch). The hold waits for
      // the exit to end. A stray exit fill is different: the working exit would then sell more than
      // is held, so it is held (and its exit cancelled) at once.
      if (expected === 'close' && order?.side !== 'close') mismatches.set(report.strategyId, { reason, eventId });
      else hold(report.strategyId, state, reason, eventId);
      return;
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

  // What the broker passes is checked here: a malformed report (an unknown kind, a string quantity,
  // null) is refused and told to `onError`, the strategy untouched; nothing is thrown back into
  // the broker (its emit may run in a timer callback, where a throw is an uncaught exception).
  const unsubscribe = broker.onExecution((received: unknown) => {
    if (stopped) return;
    try {
      const report = checkExecutionReport(received);
      if (report instanceof InvalidExecutionReportError) return onError(report);
      const held = awaiting.get(report.strategyId);
      if (held && !working.has(report.orderId)) held.push(report);
      else deliver(report);
    } catch (error) {
      onError(error);
    }
  });

  /** A report held for an acknowledgement that turned out stale: it waits for the strategy's current submission, or goes now. */
  const pendingReports = (strategyId: string, report: ExecutionReport): void => {
    const current = awaiting.get(strategyId);
    if (current && !working.has(report.orderId)) current.push(report);
    else deliver(report);
  };

  const refused = (order: OrderRequest, error: unknown, how: 'refused' | 'stopped' = 'refused'): StrategyEvent => {
    const kind = order.side === 'open' ? 'entry' : order.side === 'close' ? 'exit' : 'adjustment';
    const reason =
      how === 'refused'
        ? `the broker refused the ${kind} order: ${error instanceof Error ? error.message : String(error)}`
        : `the ${kind} order was ${error instanceof Error ? error.message : String(error)}`;
    if (order.side === 'open') return { type: 'ENTRY_CONDITIONS_FAILED', reason };
    if (order.side === 'adjust') return { type: 'ORDER_REJECTED', reason };
    return { type: 'SYSTEM_ERROR', reason };
  };

  return {
    working,
    cancelStale(strategy) {
      if (stopped) return;
      const expected = EXPECTED_SIDE[strategy.state];
      for (const [orderId, order] of working) if (order.strategyId === strategy.id && order.side !== expected) cancel(orderId);
      const mismatch = mismatches.get(strategy.id);
      if (mismatch && expected !== 'close') {
        mismatches.delete(strategy.id);
        hold(strategy.id, strategy.state, mismatch.reason, mismatch.eventId);
      }
    },
    submitFor(strategy) {
      const order = stopped ? null : orderIntentOf(strategy);
      if (!order) return;
      // The trading state changed since the strategy decided (a halt at the same instant): no entry
      // or adjustment goes out against it; the strategy is told in its own terms. Exits always go.
      const refusal = target.tradingState
        ? checkTradingState(target.tradingState, order.side === 'open' ? 'entry' : order.side === 'adjust' ? 'adjustment' : null)
        : null;
      if (refusal) {
        send(strategy.id, refused(order, new Error(`not placed: ${refusal.reason}`), 'stopped'));
        return;
      }
      // The position's contracts expired (the close of their expiry date passed): an exit or an
      // adjustment of them is refused by a broker, or worse. Not placed: reported, and the strategy
      // held for an operator (the kill switch then lists it as failed with this reason). Before, the
      // kill switch's EMERGENCY_EXIT of such a strategy sent a close order for the expired contracts.
      // Asked of the system's sessions: the built-in calendar answered otherwise on a configured early close.
      if (order.side !== 'open' && order.expiry && isIsoDate(order.expiry) && clock && hasExpiredAt(order.expiry, clock.now(), sessions)) {
        const now = clock.now();
        onError(new ExpiredPositionError(strategy.id, order.expiry, order.quantity, strategy.state));
        const reason = `position expired unmanaged: ${order.quantity} contracts expiring ${order.expiry} were still held in ${strategy.state} after that day's close; no ${order.side} order sent, held for an operator`;
        hold(strategy.id, strategy.state, reason, `${strategy.id}/expired/${now}`);
        return;
      }
      // EXITING and PARTIAL_EXIT have no ORDER_SUBMITTED step (an exit order is already working
      // there): no acknowledgement.
      const acknowledge = order.side !== 'adjust' && strategy.state !== 'EXITING' && strategy.state !== 'PARTIAL_EXIT';
      // One sequence for every strategy: a strategy removed and added again under its id never
      // reuses a number a late acknowledgement of its predecessor's order could match.
      const submission = ++submitted;
      submissions.set(strategy.id, submission);
      const held: ExecutionReport[] = [];
      awaiting.set(strategy.id, held);
      const release = () => {
        if (awaiting.get(strategy.id) === held) awaiting.delete(strategy.id);
      };
      settle(
        () => broker.submit(order),
        ({ orderId }) => {
          release();
          // Acknowledged late: the strategy left the state that placed it, or placed another since.
          // Nothing waits on it: it is cancelled, not announced (its fills would land in the wrong state).
          const now = stateOf(strategy.id);
          // Not held here any more (removed, taken over, being reloaded) counts as given up: an order
          // nobody here can follow is cancelled rather than left working for no one.
          if (submissions.get(strategy.id) !== submission || now === undefined || EXPECTED_SIDE[now] !== order.side) {
            cancel(orderId, order);
            if (orphanedSubmissions.delete(submission)) orphan(orderId, order);
            for (const report of held) if (report.orderId === orderId) deliver(report);
            for (const report of held) if (report.orderId !== orderId) pendingReports(strategy.id, report);
            return;
          }
          working.set(orderId, order);
          if (acknowledge) send(strategy.id, { type: 'ORDER_SUBMITTED', orderId, eventId: `${orderId}/submitted` });
          for (const report of held) deliver(report);
        },
        (error) => {
          release();
          // Its strategy was removed meanwhile: the refusal answers nothing (nothing is at the
          // broker), and must not reach a strategy added again under the id, waiting on its own order.
          if (orphanedSubmissions.delete(submission)) return;
          send(strategy.id, refused(order, error));
        },
      );
    },
    async resume(strategies) {
      if (stopped || !broker.openOrders) return;
      // What each strategy was doing when asked: one that moved, or placed an order, while the
      // broker answered is already in the routing's hands (the answer is older than that order).
      const asked = new Map(strategies.map((s) => [s.id, { state: s.state, submission: submissions.get(s.id) }]));
      const [open, positions] = await Promise.all([broker.openOrders(), broker.positions()]);
      if (stopped) return;
      // Its reports route as any order's (a late fill of an order placed before the restart). One
      // its strategy no longer waits on (an entry whose cancel had not taken when the service went
      // down, the strategy exiting now) is cancelled, as `cancelStale` would have: followed as
      // working, its cancel's reject reached the exit as ORDER_REJECTED and a second exit went out.
      const byId = new Map(strategies.map((s) => [s.id, s]));
      for (const { orderId, ...order } of open) {
        if (working.has(orderId) || cancelled.has(orderId) || orphaned.has(orderId)) continue;
        // Placed by a strategy removed before the restart, its successor under the id now held:
        // an orphan (see `removed`), cancelled; its fills reach no strategy.
        if (ofEarlierIncarnation(order.strategyId, order.incarnation)) {
          cancel(orderId, order);
          cancelled.delete(orderId);
          orphan(orderId, order);
          continue;
        }
        const owner = byId.get(order.strategyId);
        const ours = owner !== undefined && (!target.has || target.has(owner.id));
        if (ours && EXPECTED_SIDE[owner.state] !== order.side) cancel(orderId, order);
        else working.set(orderId, order);
      }
      const held = holdingsByStrategy(positions);
      for (const strategy of strategies) {
        const side = EXPECTED_SIDE[strategy.state];
        const then = asked.get(strategy.id);
        if (!side || !then || then.state !== strategy.state || then.submission !== submissions.get(strategy.id)) continue;
        if (awaiting.has(strategy.id) || (target.has && !target.has(strategy.id))) continue;
        if ([...working.values()].some((order) => order.strategyId === strategy.id && order.side === side)) continue;
        // The broker filled, or closed, something while the service was down: not placed again blind.
        if ((held.get(strategy.id) ?? 0) !== (strategy.getSnapshot().context.position?.quantity ?? 0)) continue;
        if (strategy.state === 'ENTERING') {
          // Its order is gone with whatever it had not filled: the entry ends with what it holds.
          send(strategy.id, {
            type: 'ORDER_REJECTED',
            reason: 'after a restart the broker has no working entry order for it (lost with the process that placed it)',
          });
        } else this.submitFor(strategy);
      }
    },
    forget(strategyId) {
      // A late acknowledgement of its order then matches no submission: it is cancelled.
      submissions.delete(strategyId);
      mismatches.delete(strategyId);
    },
    removed(strategyId) {
      for (const [orderId, order] of working) if (order.strategyId === strategyId) cancel(orderId);
      for (const orders of [cancelled, finished])
        for (const [orderId, order] of orders)
          if (order?.strategyId === strategyId) {
            orders.delete(orderId);
            orphanRemoved(orderId, order);
          }
      const pending = submissions.get(strategyId);
      if (pending !== undefined && awaiting.has(strategyId)) orphanedSubmissions.add(pending);
      // What the broker said and the strategy never took (the store refused it, or the strategy was
      // not held here): a retry would hand it to a strategy added again under the id. A fill is told
      // as untracked; a reject, an acknowledgement or a hold answers nothing now and is dropped.
      const queue = backlog.get(strategyId);
      if (queue) {
        backlog.delete(strategyId);
        queue.dropped = true;
        // A send still on its way (timer undefined) keeps its event: its answer decides (see drain).
        const inFlight = queue.timer === undefined;
        if (queue.timer !== undefined && queue.timer !== null) clock?.clearTimeout(queue.timer);
        for (const event of queue.events.slice(inFlight ? 1 : 0)) untrackedEvent(strategyId, event);
      }
      this.forget(strategyId);
    },
    stop() {
      stopped = true;
      unsubscribe();
      for (const queue of backlog.values()) if (queue.timer !== undefined) clock?.clearTimeout(queue.timer);
      backlog.clear();
    },
  };
}
