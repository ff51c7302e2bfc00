/**
 * What market time needs of a strategy, and no more. The market clock, the event calendar and
 * the DTE monitor send events to strategies through these shapes, never through the runtime's
 * classes, so market time does not depend on the runtime. The runtime's `StrategyActor` has
 * every member listed here: an actor is passed wherever one of them is asked for.
 */
import type { StrategyMachine, StrategySnapshot } from '../../machines/createStrategyMachine.js';
import type { StrategyEvent } from '../../machines/events.js';
import type { StrategyState } from '../../machines/states.js';
import type { TransitionRecord } from '../../machines/types.js';
import type { Clock } from './clock.js';

/**
 * A receiver of market events (bells, notices, exits): anything that takes a strategy event.
 *
 * @example
 * ```ts
 * const target: StrategyTarget = createStrategyActor(createStrategyMachine(lt112)); // an actor is one
 * target.trigger({ type: 'MARKET_OPEN' });
 * ```
 */
export interface StrategyTarget {
  /** Applies one event; what it answers is the receiver's own business. */
  trigger(event: StrategyEvent): unknown;
}

/**
 * A receiver of calendar notices: the calendar reads its underlying (`params.underlying` in its
 * context) and its trail, so a restart does not send a notice it had already.
 *
 * @example
 * ```ts
 * const receivers: NoticeTarget[] = [createStrategyActor(machine, { params: { underlying: 'AAPL' } })];
 * ```
 */
export interface NoticeTarget extends StrategyTarget {
  getSnapshot(): StrategySnapshot;
  /** The audit records held in memory, oldest first. */
  getAuditTrail(): readonly TransitionRecord[];
}

/**
 * A strategy the DTE monitor watches: it reads the position, the state and whether an exit
 * would be taken, and re-arms when the strategy changes.
 *
 * @example
 * ```ts
 * startDteMonitor({ strategy: createStrategyActor(createStrategyMachine(lt112), { clock }) });
 * ```
 */
export interface WatchedStrategy extends StrategyTarget {
  readonly id: string;
  readonly machine: StrategyMachine;
  /** The monitor's clock unless one is given. */
  readonly clock: Clock;
  /** The current top-level state. */
  readonly state: StrategyState;
  /** Whether `event` would be accepted now; changes nothing. */
  can(event: StrategyEvent): boolean;
  getSnapshot(): StrategySnapshot;
  /** Calls `listener` after every change; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
}
