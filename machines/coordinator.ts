import { assign, setup, stopChild } from 'xstate';
import type { TradingState } from '../guards/portfolio.js';

/** One change of the system's trading state, as the coordinator audits it. */
export interface TradingStateChange {
  from: TradingState;
  to: TradingState;
  reason: string;
  at: number;
}

/** The coordinator's context: the system-wide trading state and its history. */
export interface CoordinatorContext {
  tradingState: TradingState;
  changes: TradingStateChange[];
}

/** Events of the coordinator. */
export type CoordinatorEvent =
  | { type: 'system.setTradingState'; tradingState: TradingState; reason: string; at: number }
  | { type: 'system.stopStrategy'; strategyId: string };

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
            changes: [...context.changes, { from: context.tradingState, to: event.tradingState, reason: event.reason, at: event.at }],
          })),
        },
        // Only a parent may stop its children (XState refuses `stop()` on a non-root actor).
        'system.stopStrategy': { actions: stopChild(({ event, system }) => system.get(event.strategyId)) },
      },
    },
  },
});
