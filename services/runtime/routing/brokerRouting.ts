/**
 * The routing between strategies and a broker: places the order a strategy's state implies,
 * follows it, and turns the broker's reports into the strategy's events. Its parts: the order a
 * state implies (`orderIntent.ts`), the report check (`executionReport.ts`), the book of orders
 * (`orderBook.ts`), the queues to the strategies (`reportBacklog.ts`) and one report's delivery
 * (`reportDelivery.ts`).
 */
import { checkTradingState } from '../../../guards/portfolio.js';
import { ExpiredPositionError, InvalidExecutionReportError } from '../../../machines/errors.js';
import type { StrategyEvent } from '../../../machines/events.js';
import type { Clock } from '../../market/clock.js';
import { hasExpiredAt } from '../../market/dteRules.js';
import type { SessionSource } from '../../market/marketClock.js';
import { isIsoDate } from '../../market/time.js';
import { holdingsByStrategy, type BrokerAdapter, type ExecutionReport, type OrderRequest } from '../../broker/broker.js';
import { checkExecutionReport } from './executionReport.js';
import { createOrderBook } from './orderBook.js';
import { EXPECTED_SIDE, orderIntentOf } from './orderIntent.js';
import { createReportBacklog } from './reportBacklog.js';
import { createReportDelivery } from './reportDelivery.js';
import { targetLookups, type OrderTarget } from './routingTarget.js';
import { settle } from '../settle.js';
import type { StrategyActor } from '../strategyActor.js';

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

/** A running routing between strategies and a broker. */
export interface BrokerRouting {
  /**
   * Sends the order `strategy`'s state implies (see {@link orderIntentOf}); nothing if none, or if
   * an order of that side works for it already (its state re-entered, not a new decision). Call it
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
   * After a restart: follows again the orders the broker works now (acknowledging one its strategy
   * never recorded as placed, with ORDER_SUBMITTED; cancelling, as
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
 * strategy's state implies and answers ORDER_SUBMITTED (entries and exits; an adjustment where its
 * variant has that step, as strangle's ADJUSTING.ROLLING -> AWAITING_FILL); every execution report
 * becomes ORDER_PARTIALLY_FILLED, ORDER_FILLED or
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
  const book = createOrderBook(broker, onError);
  const { working, awaiting, cancelled, finished, orphaned, orphanedSubmissions, orphan, orphanRemoved, mismatches, cancel } = book;
  /** Per strategy, the number of its latest submission: an older one acknowledged late is stale. */
  const submissions = new Map<string, number>();
  let submitted = 0;
  let stopped = false;
  const reports = createReportBacklog(target, clock, onError, book);
  const { send, hold } = reports;
  const lookups = targetLookups(target);
  const { stateOf, ofEarlierIncarnation } = lookups;
  const deliver = createReportDelivery(target, book, reports, lookups);

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
      // Its state re-entered (an operator's MANUAL_OVERRIDE to ADJUSTING mid-roll) while the order
      // it waits on works: a second one would fill too (the position rolled twice).
      for (const placed of working.values()) if (placed.strategyId === strategy.id && placed.side === order.side) return;
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
      // there): no acknowledgement. An adjustment is acknowledged where its variant has the step
      // (strangle's ADJUSTING.ROLLING -> AWAITING_FILL), asked when the broker answers.
      const acknowledge = order.side !== 'adjust' && strategy.state !== 'EXITING' && strategy.state !== 'PARTIAL_EXIT';
      const acknowledges = (submittedEvent: StrategyEvent): boolean => {
        if (order.side !== 'adjust') return acknowledge;
        try {
          return target.get(strategy.id).can(submittedEvent);
        } catch {
          return false; // not held here: the order is cancelled above
        }
      };
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
          const submittedEvent: StrategyEvent = { type: 'ORDER_SUBMITTED', orderId, eventId: `${orderId}/submitted` };
          if (acknowledges(submittedEvent)) send(strategy.id, submittedEvent);
          for (const report of held) deliver(report);
        },
        (error) => {
          release();
          // Its strategy was removed meanwhile: the refusal answers nothing (nothing is at the
          // broker), and must not reach a strategy added again under the id, waiting on its own order.
          if (orphanedSubmissions.delete(submission)) return;
          // Refused after its strategy placed another, or left the state that placed it (an
          // emergency exit came mid-roll): it answers nothing the strategy waits on now. Before, a
          // roll's refusal reached EXITING as ORDER_REJECTED, "retry the exit", while the exit worked.
          const now = stateOf(strategy.id);
          if (submissions.get(strategy.id) !== submission || (now !== undefined && EXPECTED_SIDE[now] !== order.side)) return;
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
        else {
          working.set(orderId, order);
          // Acknowledged by the broker, never by the strategy (the process died before its
          // ORDER_SUBMITTED was written): told now, or the fill reached PENDING_EXIT, no edge for it.
          const submittedEvent: StrategyEvent = { type: 'ORDER_SUBMITTED', orderId, eventId: `${orderId}/submitted` };
          if (
            ours &&
            (owner.state === 'PENDING_ENTRY' || owner.state === 'PENDING_EXIT' || owner.state === 'ADJUSTING') &&
            owner.can(submittedEvent)
          )
            send(owner.id, submittedEvent);
        }
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
        } else if (strategy.state === 'ADJUSTING') {
          // A roll changes no quantity: the positions agreeing cannot tell a roll lost from one that
          // filled while the service was down. Placed again blind, the position could roll twice.
          send(strategy.id, {
            type: 'ORDER_REJECTED',
            reason:
              'after a restart the broker has no working adjustment order for it (filled or lost while the service was down): not placed again blind',
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
      for (const [orderId, order] of working)
        if (order.strategyId === strategyId) {
          book.rollPartials.delete(orderId);
          cancel(orderId);
        }
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
      reports.drop(strategyId);
      this.forget(strategyId);
    },
    stop() {
      stopped = true;
      unsubscribe();
      reports.stop();
    },
  };
}
