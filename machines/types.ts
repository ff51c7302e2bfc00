import type { RejectionCode } from './errors.js';
import type { DeadlineKind, OptionLeg } from './events.js';
import type { StrategyState } from './states.js';

/** The position a strategy holds. `quantity` is what is still open, in contracts. */
export interface Position {
  quantity: number;
  /**
   * Expiry of the options (`yyyy-MM-dd`); the DTE rule counts to it. The nearest expiry of the
   * entry's fills (the contracts that expire first), or the roll's after an adjustment.
   */
  expiry?: string;
  legs?: OptionLeg[];
  underlying?: string;
  /** Average entry price over the fills that carried a price, weighted by their quantities. */
  entryPrice?: number;
  /**
   * Contracts `entryPrice` averages over: those of the fills that carried a price (fewer than
   * `quantity` when some fills had none). Absent in positions stored before it was kept: then
   * `entryPrice` is taken to cover the whole quantity.
   */
  pricedQuantity?: number;
  openedAt: number;
}

/** A durable deadline: an absolute time, kept in the context so it survives a restart. */
export interface Deadline {
  kind: DeadlineKind;
  /** The state it guards. */
  state: StrategyState;
  /** Epoch ms when it falls due. */
  at: number;
}

/**
 * One audit record: the seed's StateContext, plus what a rejected trigger needs.
 * Every trigger, accepted or rejected, leaves exactly one.
 */
export interface TransitionRecord {
  /** 1-based position in the strategy's trail. */
  seq: number;
  /** ISO 8601 from the strategy's clock, in New York time with its offset. */
  timestamp: string;
  /** The same instant, epoch ms. */
  at: number;
  previousState: StrategyState;
  currentState: StrategyState;
  /** The event type (or, for a malformed event, what was sent as its type). */
  trigger: string;
  /** The event's payload (without `type`). */
  data: Record<string, unknown>;
  message: string;
  accepted: boolean;
  /** Why a trigger was rejected, naming the state and the event. */
  reason?: string;
  /** The state was left and entered again (a re-armed deadline, a reset interval). */
  reentered?: true;
  /** Stable code of a rejection (`NO_EDGE`, `GUARD_FAILED`, `DUPLICATE_EVENT`, ...). */
  code?: RejectionCode;
  eventId?: string;
}

/** Totals kept as the strategy runs, so statistics cost nothing to read. */
export interface StrategyStats {
  /** Accepted triggers. */
  transitions: number;
  /** Rejected triggers. */
  rejected: number;
  /** Milliseconds spent in each state, closed intervals only (the current one is added on read). */
  timeInState: Partial<Record<StrategyState, number>>;
}

/** The machine context of a strategy: everything that must survive a restart. */
export interface StrategyContext {
  strategyId: string;
  /** The definition's id (`zeroDte`, `lt112`, ...). */
  variant: string;
  /** Caller-supplied parameters, kept as given (underlying, size, ...). */
  params: Record<string, unknown>;
  position: Position | null;
  errorCount: number;
  lastError: { reason: string; at: number } | null;
  deadline: Deadline | null;
  /** Auto-recoveries on one New York trading day, for the circuit breaker. */
  autoRecoveries: { day: string; count: number };
  createdAt: number;
  /** When the current top-level state was entered. */
  enteredAt: number;
  stats: StrategyStats;
  /** The newest audit record (the whole trail lives with the actor and the store). */
  lastRecord: TransitionRecord | null;
  /** Ids of recently applied events, newest last, for duplicate detection. */
  recentEventIds: string[];
  /**
   * A random id given when the strategy was added, on every order it places: an order of an earlier
   * strategy under the same id (removed, then added again) is told from its own, also after a
   * restart. Absent in a snapshot stored before it was kept: its orders carry none, and match.
   */
  incarnation?: string;
}

/** Input for a strategy machine's actor. */
export interface StrategyInput {
  strategyId?: string;
  params?: Record<string, unknown>;
  /** Creation time (epoch ms); defaults to the actor system's clock. */
  createdAt?: number;
  /** The strategy's {@link StrategyContext.incarnation}; none when absent (the machine stays deterministic). */
  incarnation?: string;
}
