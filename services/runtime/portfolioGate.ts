/**
 * The system's checks between a trigger's validation and the strategy's own edges: the trading
 * state (ACTIVE / REDUCING / HALTED) and the portfolio limits, with the slots each strategy holds.
 */
import {
  checkPortfolioLimits,
  checkTradingState,
  holdsPortfolioSlot,
  orderEffectOf,
  type OrderEffect,
  type PortfolioLimits,
  type TradingState,
} from '../../guards/portfolio.js';
import { definitionOf } from '../../machines/createStrategyMachine.js';
import { edgeTargetsOf } from '../../machines/edgeTargets.js';
import { InvalidOptionsError, type RejectionCode } from '../../machines/errors.js';
import type { StrategyEvent } from '../../machines/events.js';
import { topLevelState, type StrategyState } from '../../machines/states.js';
import type { StrategyContext, TransitionRecord } from '../../machines/types.js';
import type { StrategyHandle, TriggerGate } from './strategyActor.js';

/** The gate of one system and the portfolio slots it counts. */
export interface PortfolioGate {
  /** Strategy id -> correlation group, for every strategy holding a portfolio slot. */
  readonly slots: Map<string, string | undefined>;
  /** The gate of `handle`'s triggers: {@link check}, then the entry's portfolio slot is reserved. */
  gateFor(handle: StrategyHandle): TriggerGate;
  /** What the gate would answer, reserving nothing (for `can()` and `explain()`). */
  readonly check: (
    handle: StrategyHandle,
    state: StrategyState,
    event: StrategyEvent,
    context: StrategyContext,
  ) => { code: RejectionCode; reason: string } | null;
  /** What orders `event` would lead `handle` to place from `state` (what the gate checks). */
  effectOf(handle: StrategyHandle, state: StrategyState, event: { type: string }, context: StrategyContext): OrderEffect | null;
  /** The strategy's correlation group (its definition's). */
  groupOf(handle: StrategyHandle): string | undefined;
  /** Brings the strategy's slot in line with `state` and its position. */
  syncSlot(handle: StrategyHandle, state: StrategyState): void;
  /**
   * After a trigger through {@link gateFor}: as `syncSlot`, and a slot the gate reserved for it
   * that the strategy did not hold before is returned when the trigger left the strategy in a
   * state that keeps the slot it came with (a flat ERROR or SUSPENDED) without passing through a
   * slot (refused, rolled back): the reservation is not the slot of a working order.
   */
  settleReservation(handle: StrategyHandle, state: StrategyState): void;
  /**
   * The slot of a strategy just added or restored: as `syncSlot`, and in a state that keeps the slot
   * it came with (a flat ERROR or SUSPENDED), what the states before it in its trail say (one that
   * left PENDING_ENTRY for ERROR still holds it, as it did before a restart); held when the trail in
   * memory does not reach the record that decides.
   */
  restoreSlot(handle: StrategyHandle): void;
  /** Strategies whose restored slot is held only because the trail in memory could not decide. */
  undecidedSlots(): string[];
  /** Settles an undecided slot from the store's older records (unless the strategy moved since). */
  decideSlot(strategyId: string, holds: boolean): void;
}

/**
 * Whether a flat ERROR or SUSPENDED strategy holds the slot it came with, from `records` (oldest
 * first): the newest state change says whether the state it left held one, else the one before it.
 * Undefined when none of them says (the deciding record is older than `records`).
 *
 * @example
 * ```ts
 * slotHeldPerRecords(handle.getAuditTrail()); // true after PENDING_ENTRY -> ERROR
 * ```
 */
export function slotHeldPerRecords(records: readonly TransitionRecord[]): boolean | undefined {
  for (let i = records.length - 1; i >= 0; i--) {
    const record = records[i];
    if (!record.accepted || record.previousState === record.currentState) continue;
    const holds = holdsPortfolioSlot(record.previousState, 0);
    if (holds !== undefined) return holds;
  }
  return undefined;
}

/**
 * Builds the gate over the system's trading state (read on each trigger) and `limits`.
 *
 * @example
 * ```ts
 * const gate = createPortfolioGate(() => coordinator.getSnapshot().context.tradingState, { maxOpen: 3 });
 * handle.prepare(event, gate.gateFor(handle));
 * ```
 */
export function createPortfolioGate(tradingState: () => TradingState, limits: PortfolioLimits = {}): PortfolioGate {
  const slots = new Map<string, string | undefined>();
  /** Restored slots held because the trail in memory could not decide (see restoreSlot). */
  const undecided = new Map<string, StrategyHandle>();
  /** Strategies whose slot the gate reserved for the trigger under way, not held before it. */
  const reserved = new Set<string>();
  const groupOf = (handle: StrategyHandle) => definitionOf(handle.machine)?.correlationGroup;
  const effectOf: PortfolioGate['effectOf'] = (handle, state, event, context) =>
    orderEffectOf(
      state,
      event as StrategyEvent,
      context,
      definitionOf(handle.machine)?.canAdjust ?? false,
      edgeTargetsOf(handle.machine, state, event.type),
    );
  /** What the trading state and, for an entry, the portfolio limits answer to `effect`. */
  const refusalFor = (handle: StrategyHandle, effect: OrderEffect | null) =>
    checkTradingState(tradingState(), effect) ??
    (effect === 'entry' ? checkPortfolioLimits(slots, limits, handle.id, groupOf(handle)) : null);
  const check: PortfolioGate['check'] = (handle, state, event, context) => refusalFor(handle, effectOf(handle, state, event, context));
  const syncSlot: PortfolioGate['syncSlot'] = (handle, state) => {
    const holds = holdsPortfolioSlot(state, handle.peekSnapshot().context.position?.quantity ?? 0);
    if (holds !== undefined) undecided.delete(handle.id);
    if (holds === false) slots.delete(handle.id);
    else if (holds) slots.set(handle.id, groupOf(handle));
  };
  return {
    slots,
    groupOf,
    effectOf,
    syncSlot,
    settleReservation(handle, state) {
      const fresh = reserved.delete(handle.id);
      const holds = holdsPortfolioSlot(state, handle.peekSnapshot().context.position?.quantity ?? 0);
      // The newest state change in the trail says whether the trigger went through a slot (to
      // PENDING_ENTRY and on to ERROR keeps it); none, or one from a state without a slot: the
      // trigger did not take it, and the strategy held none before.
      if (holds === undefined && fresh && slotHeldPerRecords(handle.getAuditTrail()) !== true) slots.delete(handle.id);
      else syncSlot(handle, state);
    },
    undecidedSlots: () => [...undecided.keys()],
    decideSlot(strategyId, holds) {
      const handle = undecided.get(strategyId);
      if (!handle) return;
      undecided.delete(strategyId);
      if (holds) slots.set(strategyId, groupOf(handle));
      else slots.delete(strategyId);
    },
    restoreSlot(handle) {
      // A strategy attached anew under an id: no trigger of an earlier one is under way.
      reserved.delete(handle.id);
      const { value, context } = handle.peekSnapshot();
      let holds = holdsPortfolioSlot(topLevelState(value), context.position?.quantity ?? 0);
      if (holds === undefined) {
        // The state it came from decides, and before it the one that one came from (newest first).
        const trail = handle.getAuditTrail();
        holds = slotHeldPerRecords(trail);
        // The deciding record is older than the trail held in memory (a restore loads its newest
        // records only, a snapshot may come without its trail): keep the slot until the store's
        // older records decide (`decideSlot`). One too many refuses an entry for a while; one too
        // few would let an entry past the limit while an order may still be working.
        if (holds === undefined && (trail[0]?.seq ?? (context.lastRecord?.seq ?? 0) + 1) > 1) {
          holds = true;
          undecided.set(handle.id, handle);
        }
      }
      if (holds) slots.set(handle.id, groupOf(handle));
      else slots.delete(handle.id);
    },
    check,
    gateFor: (handle) => (state, event, context) => {
      const effect = effectOf(handle, state, event, context);
      const refusal = refusalFor(handle, effect);
      // The slot is reserved now, synchronously: a concurrent entry whose write is still in flight
      // counts, so limits hold under Promise.all. settleSlot returns it if the trigger goes nowhere.
      if (!refusal && effect === 'entry') {
        if (!slots.has(handle.id)) reserved.add(handle.id);
        slots.set(handle.id, groupOf(handle));
        // An entry's own reservation: a late decision from the store about the restored slot must not drop it.
        undecided.delete(handle.id);
      }
      return refusal;
    },
  };
}

/**
 * Checks a trading state given to `method` (callers may be untyped JavaScript, or cast).
 * @throws {InvalidOptionsError} with `option` `state`, unless `state` is ACTIVE, REDUCING or HALTED:
 * the same error as the method's other arguments, so one `catch` holds every input mistake.
 */
export function checkTradingStateName(state: unknown, method = 'setTradingState'): asserts state is TradingState {
  if (state !== 'ACTIVE' && state !== 'REDUCING' && state !== 'HALTED') {
    // Never String() of an object: its own toString could throw, or say anything.
    const got =
      typeof state === 'string'
        ? JSON.stringify(state.slice(0, 40))
        : state === null
          ? 'null'
          : typeof state === 'object'
            ? 'an object'
            : typeof state === 'function'
              ? 'a function'
              : String(state);
    throw new InvalidOptionsError(method, 'state', `must be ACTIVE, REDUCING or HALTED, got ${got}`);
  }
}
