import type { RejectionCode } from './errors.js';
import type { StrategyState } from './states.js';

/** Every event type a caller may send, as in the spec (SCREAMING_CASE). */
export const STRATEGY_EVENT_TYPES = [
  'MARKET_OPEN',
  'MARKET_CLOSE',
  'TIME_WINDOW_START',
  'TIME_WINDOW_END',
  'ENTRY_CONDITIONS_MET',
  'ENTRY_CONDITIONS_FAILED',
  'ORDER_SUBMITTED',
  'ORDER_FILLED',
  'ORDER_PARTIALLY_FILLED',
  'ORDER_REJECTED',
  'VIX_SPIKE',
  'MARGIN_CALL',
  'RISK_LIMIT_EXCEEDED',
  'CORRELATION_LIMIT',
  'DEFENSIVE_EXIT_DTE',
  'EARNINGS_APPROACHING',
  'FOMC_MEETING',
  'MANUAL_OVERRIDE',
  'SYSTEM_ERROR',
  'EMERGENCY_EXIT',
  'RESET',
  'RESUME',
  'TERMINATE',
] as const;

/** The `type` of a {@link StrategyEvent}. */
export type StrategyEventType = (typeof STRATEGY_EVENT_TYPES)[number];

/** Fields every event may carry. */
export interface EventBase {
  /** Idempotency key: a second event with an id already applied to the strategy is a duplicate. */
  eventId?: string;
  /**
   * When the event happened, epoch ms. Stamped by the strategy actor from its clock; only
   * replays and bare XState users set it themselves.
   */
  at?: number;
  /**
   * Why a market driver sends this event late: it was due while the service was down (a missed
   * bell, window or 21-DTE open) and the present still requires it. Kept in the audit record's data.
   */
  catchUp?: string;
}

/** One option leg of a position. */
export interface OptionLeg {
  symbol?: string;
  right: 'C' | 'P';
  strike: number;
  expiry: string;
  /** Signed contracts: negative for a short leg. */
  quantity: number;
}

/** Payload of a fill: `quantity` is what this fill filled (contracts), always > 0. */
export interface FillPayload {
  quantity: number;
  price?: number;
  /** Expiry of the position's options, `yyyy-MM-dd` (the nearest one for multi-expiry structures). */
  expiry?: string;
  legs?: OptionLeg[];
  underlying?: string;
  orderId?: string;
}

/**
 * The typed union of every event a strategy accepts. Payload fields sit beside `type`.
 * Anything else (unknown type, missing or wrong field) is rejected at the boundary with an
 * {@link InvalidEventError} naming the problem.
 */
export type StrategyEvent =
  | ({ type: 'MARKET_OPEN' } & EventBase)
  | ({ type: 'MARKET_CLOSE' } & EventBase)
  | ({ type: 'TIME_WINDOW_START'; window?: string } & EventBase)
  | ({ type: 'TIME_WINDOW_END'; window?: string } & EventBase)
  | ({ type: 'ENTRY_CONDITIONS_MET'; vix?: number; expiry?: string; underlying?: string } & EventBase)
  | ({ type: 'ENTRY_CONDITIONS_FAILED'; reason?: string } & EventBase)
  | ({ type: 'ORDER_SUBMITTED'; orderId?: string } & EventBase)
  | ({ type: 'ORDER_FILLED' } & FillPayload & EventBase)
  | ({ type: 'ORDER_PARTIALLY_FILLED' } & FillPayload & EventBase)
  | ({ type: 'ORDER_REJECTED'; reason?: string; orderId?: string } & EventBase)
  | ({ type: 'VIX_SPIKE'; vix?: number } & EventBase)
  | ({ type: 'MARGIN_CALL'; reason?: string } & EventBase)
  | ({ type: 'RISK_LIMIT_EXCEEDED'; reason?: string } & EventBase)
  | ({ type: 'CORRELATION_LIMIT'; reason?: string } & EventBase)
  | ({ type: 'DEFENSIVE_EXIT_DTE'; dte?: number } & EventBase)
  | ({ type: 'EARNINGS_APPROACHING'; symbol?: string; date?: string } & EventBase)
  | ({ type: 'FOMC_MEETING'; date?: string } & EventBase)
  | ({
      type: 'MANUAL_OVERRIDE';
      target: StrategyState;
      reason: string;
      operator: string;
      /** With target ERROR: no auto-recovery. */ hold?: boolean;
      /**
       * Only while the strategy is in one of these states: a compare-and-set for an override
       * decided from a state read earlier (refused, GUARD_FAILED, if the strategy moved since).
       */
      from?: StrategyState[];
    } & EventBase)
  | ({
      type: 'SYSTEM_ERROR';
      reason?: string;
      /** Stay in ERROR until RESET or MANUAL_OVERRIDE (no auto-recovery). */ hold?: boolean;
    } & EventBase)
  | ({ type: 'EMERGENCY_EXIT'; reason?: string } & EventBase)
  | ({ type: 'RESET'; reason?: string } & EventBase)
  | ({ type: 'RESUME' } & EventBase)
  | ({ type: 'TERMINATE'; reason?: string } & EventBase);

/** Kinds of durable deadline a strategy can be waiting on. */
export type DeadlineKind = 'ERROR_RECOVERY' | 'STUCK';

/**
 * A delayed transition falling due: XState's own event (`xstate.after.<delay>.<machine id>.<state>`),
 * sent by XState's timer in memory, or by the runtime's durable timer with the instants stamped.
 * The audit records it as `lifecycle.deadline` with `{ kind, dueAt }`.
 */
export type AfterEvent = { type: `xstate.after.${string}`; /** When it fell due, epoch ms. */ dueAt?: number } & EventBase;

/**
 * Events the library itself sends into a strategy machine. They are not part of the public
 * union: `trigger()` rejects them as unknown when a caller sends them.
 */
export type InternalEvent =
  | AfterEvent
  | HookFailedEvent
  | ({ type: 'lifecycle.rejected'; trigger: string; reason: string; code: RejectionCode; data?: Record<string, unknown> } & EventBase)
  /** An invoked actor asks for `event` (see machines/actors.ts): announced, never applied here. */
  | ({ type: 'lifecycle.request'; event: StrategyEvent } & EventBase);

/** Everything the machine itself handles. */
export type MachineEvent = StrategyEvent | InternalEvent;

/** A user hook threw: counted, audited, and at `maxErrors` the strategy is forced into ERROR. */
export type HookFailedEvent = {
  type: 'lifecycle.hookFailed';
  hook: string;
  trigger: string;
  message: string;
  /** The hook ran after a transition that stands. */ after?: boolean;
} & EventBase;

/** The public event types as a set: every trigger is checked against it. */
const EVENT_TYPES: ReadonlySet<string> = new Set(STRATEGY_EVENT_TYPES);

/** True when `type` is a public event type. */
export function isStrategyEventType(type: unknown): type is StrategyEventType {
  return typeof type === 'string' && EVENT_TYPES.has(type);
}
