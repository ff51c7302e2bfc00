/**
 * The routing's way to a strategy: every event it sends goes through a per-strategy queue, in the
 * broker's order, sent again with a backoff while the store refuses it or the strategy is held
 * elsewhere, and on a later turn when refused as re-entrant. Also the hold of a strategy whose
 * position no longer matches the broker's.
 */
import { OwnershipLostError, RefusedFillError, StoreUnavailableError, UndeliveredEventError } from '../../../machines/errors.js';
import type { OrderRequest } from '../../broker/broker.js';
import type { StrategyEvent } from '../../../machines/events.js';
import type { StrategyState } from '../../../machines/states.js';
import type { Clock } from '../../market/clock.js';
import { isFillEvent, type OrderBook } from './orderBook.js';
import { EXPECTED_SIDE } from './orderIntent.js';
import { targetLookups, type OrderTarget } from './routingTarget.js';
import { settle } from '../settle.js';
import { NOT_DELIVERED } from '../handleResults.js';
import type { TriggerResult } from '../strategyActor.js';

/** Waits before each new attempt at a report the store could not write (about 4 minutes in all). */
const REPORT_RETRY_MS = [1000, 2000, 4000, 8000, 15_000, 30_000, 30_000, 30_000, 30_000, 30_000, 30_000, 30_000];

/**
 * Tries of an event the strategy refused as REENTRANT_TRIGGER (sent from inside its own hook or
 * transition listener): each on a later turn, the first at once after it (0 ms of the clock, or a
 * microtask without one), the next ones after the backoff of {@link REPORT_RETRY_MS}.
 */
const DEFER_TRIES = 4;

/** Reports a strategy has not taken yet (see `backlog` in {@link createReportBacklog}). */
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

/**
 * A partial fill of an adjustment, which ADJUSTING takes no edge for: the adjustment's position is
 * applied by its final ORDER_FILLED (a roll changes no quantity), so refusing the partial is no
 * mismatch and holds nothing (the paper broker's `partialFills` reports every order of 2 or more so).
 */
const adjustmentPartial = (event: StrategyEvent, result: TriggerResult): boolean =>
  event.type === 'ORDER_PARTIALLY_FILLED' && result.code === 'NO_EDGE' && EXPECTED_SIDE[result.from] === 'adjust';

/**
 * The queues of events on their way to the strategies of `target`; `book` is told of the fills
 * they took and of those that will reach no strategy. Without `clock`, a report the store refused
 * is only told to `onError`.
 *
 * @example
 * ```ts
 * const reports = createReportBacklog(target, clock, onError, book);
 * reports.send('lt112-spx', { type: 'ORDER_SUBMITTED', orderId, eventId: `${orderId}/submitted` });
 * ```
 */
export function createReportBacklog(target: OrderTarget, clock: Clock | undefined, onError: (error: unknown) => void, book: OrderBook) {
  const { recordTaken, untrackedEvent, working, cancelled, finished, mismatches } = book;
  const { stateOf } = targetLookups(target);
  let stopped = false;

  /**
   * What the broker said and the strategy has not taken yet, per strategy, oldest first. A report
   * the store could not write (down, or the strategy being reloaded) is a fact that still has to
   * land: it is sent again after a backoff on the clock, and later reports wait behind it, so
   * the strategy gets them in the broker's order. Their eventIds make a repeat harmless.
   */
  const backlog = new Map<string, Backlog>();

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
    // A report that waited here (the store refused it) while its strategy moved on is checked
    // again against the state it reaches, as a fresh one is: a roll's fill taken in EXITING closed
    // it; a roll's rejection there went back to PENDING_EXIT while the exit still worked.
    if ((event.type === 'ORDER_REJECTED' || isFillEvent(event)) && event.orderId !== undefined) {
      const { orderId } = event;
      const order = working.get(orderId) ?? cancelled.get(orderId) ?? finished.get(orderId);
      const state = order ? stateOf(strategyId) : undefined;
      if (order && state !== undefined && order.side !== EXPECTED_SIDE[state]) {
        // A rejection answers nothing the strategy waits on now; a fill is a mismatch, unless the
        // strategy took it already (this event is still first in its backlog: only its record counts).
        const eventId = event.eventId ?? `${orderId}/refused`;
        if (isFillEvent(event) && !applied(strategyId, eventId))
          strayFill(strategyId, state, order, event.type === 'ORDER_FILLED', event.quantity, orderId, eventId);
        return next();
      }
    }
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

  /** Tells a position mismatch to `onError` and holds the strategy for an operator (see {@link strayFill}). */
  const mismatch = (
    strategyId: string,
    state: StrategyState,
    order: OrderRequest | undefined,
    trigger: 'ORDER_FILLED' | 'ORDER_PARTIALLY_FILLED',
    reason: string,
    eventId: string,
  ): void => {
    onError(new RefusedFillError(strategyId, trigger, undefined, reason));
    // An exit is working for the position the strategy knows of: holding now would cancel it and
    // leave that position open too (an entry's late fill during a kill switch). The hold waits for
    // the exit to end. A stray exit fill is different: the working exit would then sell more than
    // is held, so it is held (and its exit cancelled) at once.
    if (EXPECTED_SIDE[state] === 'close' && order?.side !== 'close') mismatches.set(strategyId, { reason, eventId });
    else hold(strategyId, state, reason, eventId);
  };

  /**
   * A fill of an order the strategy in `state` no longer waits on: told to `onError` as a
   * {@link RefusedFillError}, and the strategy held for an operator (its position no longer matches).
   */
  const strayFill = (
    strategyId: string,
    state: StrategyState,
    order: OrderRequest | undefined,
    final: boolean,
    quantity: number,
    orderId: string,
    eventId: string,
  ): void => {
    const what = order ? `${order.side === 'open' ? 'entry' : order.side === 'close' ? 'exit' : 'adjustment'} order` : 'order';
    const reason = `position mismatch: the broker reports ${final ? 'a fill' : 'a partial fill'} of ${quantity} on ${what} ${orderId}, which the strategy no longer waits on (in ${state}); reconcile with the broker, then RESET or MANUAL_OVERRIDE`;
    mismatch(strategyId, state, order, final ? 'ORDER_FILLED' : 'ORDER_PARTIALLY_FILLED', reason, eventId);
  };

  /** True when `strategyId` applied an event of `eventId` already (false when it is not held here). */
  const applied = (strategyId: string, eventId: string): boolean => {
    try {
      return target.get(strategyId).getSnapshot().context.recentEventIds.includes(eventId);
    } catch {
      return false;
    }
  };

  /** True when `strategyId` applied an event of `eventId` already, or has one waiting in its backlog. */
  const alreadyTaken = (strategyId: string, eventId: string): boolean =>
    backlog.get(strategyId)?.events.some((event) => event.eventId === eventId) === true || applied(strategyId, eventId);

  /** Drops what `strategyId` has not taken yet (its strategy was removed): a fill among it is told as untracked. */
  const drop = (strategyId: string): void => {
    const queue = backlog.get(strategyId);
    if (queue) {
      backlog.delete(strategyId);
      queue.dropped = true;
      // A send still on its way (timer undefined) keeps its event: its answer decides (see drain).
      const inFlight = queue.timer === undefined;
      if (queue.timer !== undefined && queue.timer !== null) clock?.clearTimeout(queue.timer);
      for (const event of queue.events.slice(inFlight ? 1 : 0)) untrackedEvent(strategyId, event);
    }
  };

  /** Sends nothing more; the pending retries are cleared. */
  const stop = (): void => {
    stopped = true;
    for (const queue of backlog.values()) if (queue.timer !== undefined) clock?.clearTimeout(queue.timer);
    backlog.clear();
  };

  return { send, hold, mismatch, strayFill, alreadyTaken, drop, stop };
}

/** The queues of {@link createReportBacklog}. */
export type ReportBacklog = ReturnType<typeof createReportBacklog>;
