import { assign, setup, stopChild, type AnyActorRef, type ErrorActorEvent } from 'xstate';
import type { TradingState } from '../guards/portfolio.js';

/** One change of the system's trading state, as the coordinator audits it. */
export interface TradingStateChange {
  from: TradingState;
  to: TradingState;
  reason: string;
  at: number;
  /** Who made the change (an operator name, `api`, `kill-switch`); persisted systems always say. */
  operator?: string;
}

/** The coordinator's context: the system-wide trading state and its history. */
export interface CoordinatorContext {
  tradingState: TradingState;
  changes: TradingStateChange[];
}

/** Events of the coordinator. */
export type CoordinatorEvent =
  | { type: 'system.setTradingState'; tradingState: TradingState; reason: string; at: number; operator?: string }
  /** A change the store has already committed (its `from` is the stored state it replaced). */
  | { type: 'system.recordTradingState'; change: TradingStateChange }
  /** The stored history replaces the context's (on open, and when another instance changed it). */
  | { type: 'system.restoreTradingState'; changes: TradingStateChange[] }
  | { type: 'system.stopStrategy'; strategyId: string }
  /** XState's report of a strategy actor that failed (`xstate.error.actor.<id>`): the strategy stops, the system goes on. */
  | ErrorActorEvent;

/**
 * The root actor of a strategy system. Strategies are its children (created with it as their
 * `parent`, registered under their id as `systemId`), so they share its clock and the inspector
 * sees the whole system from one `inspect` callback. Its context holds the trading state.
 */
export const coordinatorMachine = setup({
  types: { context: {} as CoordinatorContext, events: {} as CoordinatorEvent },
}).createMachine({
  id: 'strategySystem',
  context: { tradingState: 'ACTIVE', changes: [] },
  initial: 'running',
  states: {
    running: {
      on: {
        'system.setTradingState': {
          actions: assign(({ context, event }) => ({
            tradingState: event.tradingState,
            changes: [
              ...context.changes,
              {
                from: context.tradingState,
                to: event.tradingState,
                reason: event.reason,
                at: event.at,
                ...(event.operator !== undefined ? { operator: event.operator } : {}),
              },
            ],
          })),
        },
        'system.recordTradingState': {
          actions: assign(({ context, event }) => ({ tradingState: event.change.to, changes: [...context.changes, event.change] })),
        },
        'system.restoreTradingState': {
          actions: assign(({ event }) => ({ tradingState: event.changes.at(-1)?.to ?? 'ACTIVE', changes: event.changes })),
        },
        // A strategy whose actor fails (an action that throws) stops alone: XState fails a parent
        // that does not handle its child's error, and every strategy of the system with it.
        'xstate.error.actor.*': {},
        // Only a parent may stop its children (XState refuses `stop()` on a non-root actor).
        'system.stopStrategy': { actions: stopChild(({ event, system }) => system.get(event.strategyId) as AnyActorRef) },
      },
    },
  },
});
