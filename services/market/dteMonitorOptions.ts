/**
 * What the DTE monitor is given and gives back: its options, the handle of a running monitor,
 * and how an exit it sends came about. The monitor itself is `dteMonitor.ts`.
 */
import type { StrategyEvent } from '../../machines/events.js';
import type { StrategyState } from '../../machines/states.js';
import type { Clock } from './clock.js';
import type { SessionSource } from './marketClock.js';
import type { WatchedStrategy } from './strategyTarget.js';
import type { TimeWindow } from './timeWindows.js';

/** How an exit the monitor sends came about. */
export interface DteExitInfo {
  /** Sent after its time: the monitor saw the position late (a restart), or it waited for the open. */
  late: boolean;
  dueAt: number;
  /** The state it waited in when it fell due (the strategy could not take it there), if it waited. */
  heldIn?: StrategyState;
}

/** Options of {@link startDteMonitor}. */
export interface DteMonitorOptions {
  /** The strategy watched: a `StrategyActor`, or anything with the members the monitor reads. */
  strategy: WatchedStrategy;
  /** Default: the strategy's clock. */
  clock?: Clock;
  /** Default: the definition's (`definitionOf(strategy.machine)`); `null` selects the same-day rule. */
  defensiveDte?: number | null;
  /** Windows of the same-day rule; default the variant's in {@link TIME_WINDOWS}, else {@link DEFAULT_SAME_DAY_EXIT}. */
  windows?: readonly TimeWindow[];
  /** The window whose end exits a same-day position; default `manage`. */
  exitWindow?: string;
  /** Failures after start (e.g. an expiry past the calendar's years). Default: console.error. */
  onError?: (error: unknown) => void;
  /** Default: a new {@link createSessionCache}; a simulation shares one across its monitors. */
  sessions?: SessionSource;
  /**
   * Replaces `strategy.trigger(event)`, e.g. to send through a persistent system. `late` says the
   * exit fell due before the monitor could send it (the process was down over it). Also sends the
   * hold of a position that expired while held (SYSTEM_ERROR, or MANUAL_OVERRIDE to ERROR, with
   * `hold`; `late` false): no exit is sent for it.
   */
  send?: (event: StrategyEvent, info: DteExitInfo) => void;
}

/** A running monitor. */
export interface DteMonitorHandle {
  /** Which rule this strategy follows. */
  readonly rule: 'defensiveDte' | 'sameDay';
  /** When the armed exit falls due (epoch ms), or null when no position is watched or it was sent. */
  readonly dueAt: number | null;
  /**
   * The exit just sent was not delivered (its write failed): it is worked out again, now while the
   * market is open, else at the next open, from the state the strategy is in then (a same-day
   * position in ERROR gets EMERGENCY_EXIT, one held for an operator is reported).
   */
  retry(): void;
  stop(): void;
}
