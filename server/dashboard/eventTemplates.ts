import type { StrategyEvent, StrategyEventType } from '../../machines/events.js';

/** The payload of one event type: the union member without its `type` and the runtime's fields. */
type PayloadOf<K extends StrategyEventType> = Omit<Extract<StrategyEvent, { type: K }>, 'type' | 'at' | 'catchUp'>;

/**
 * An example payload for every event type, shown in the dashboard's "Send event" form when the
 * type is chosen (the operator edits it). Typed against the union, so a type added to
 * `StrategyEvent` does not compile until it has one here, and a field renamed there breaks this.
 */
export const EVENT_TEMPLATES: { readonly [K in StrategyEventType]: PayloadOf<K> } = {
  MARKET_OPEN: {},
  MARKET_CLOSE: {},
  TIME_WINDOW_START: { window: 'entry' },
  TIME_WINDOW_END: { window: 'entry' },
  ENTRY_CONDITIONS_MET: { vix: 18, expiry: '2027-01-15' },
  ENTRY_CONDITIONS_FAILED: { reason: 'VIX out of range' },
  ORDER_SUBMITTED: { orderId: 'broker-order-1' },
  ORDER_FILLED: { quantity: 1, price: 1.25, eventId: 'broker-order-1/report-1' },
  ORDER_PARTIALLY_FILLED: { quantity: 1, eventId: 'broker-order-1/report-1' },
  ORDER_REJECTED: { reason: 'rejected by the broker', orderId: 'broker-order-1' },
  VIX_SPIKE: { vix: 35 },
  MARGIN_CALL: { reason: 'margin call' },
  RISK_LIMIT_EXCEEDED: { reason: 'risk limit' },
  CORRELATION_LIMIT: { reason: 'correlation limit' },
  DEFENSIVE_EXIT_DTE: { dte: 21 },
  EARNINGS_APPROACHING: { symbol: 'SPY', date: '2026-12-10' },
  FOMC_MEETING: { date: '2026-12-16' },
  MANUAL_OVERRIDE: { target: 'READY', reason: 'why', operator: 'your name' },
  SYSTEM_ERROR: { reason: 'what failed' },
  EMERGENCY_EXIT: { reason: 'why' },
  RESET: { reason: 'checked the account' },
  RESUME: {},
  TERMINATE: { reason: 'end of life' },
};
