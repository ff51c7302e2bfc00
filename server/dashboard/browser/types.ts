/**
 * What the dashboard reads from the service, as JSON on the wire. Declared here rather than
 * imported from the server's modules: those pull in Node, and the browser bundle must not.
 */
import type { StrategyState } from '../../../machines/states.js';

/** `GET /strategies` and the live stream: one strategy (server/views.ts `StrategyView`). */
export interface StrategyView {
  id: string;
  variant: string;
  state: StrategyState;
  value: unknown;
  enteredAt: string;
  timeInStateMs: number;
  position: { quantity: number; expiry?: string; underlying?: string } | null;
  errorCount: number;
  lastError: { reason: string; at: string } | null;
  schedule: Array<{ kind: string; label: string; at: string }>;
  instance: string | null;
  params: Record<string, unknown>;
}

/** One record of a strategy's audit trail (machines/types.ts `TransitionRecord`). */
export interface AuditRecord {
  seq: number;
  timestamp: string;
  at: number;
  previousState: StrategyState;
  currentState: StrategyState;
  trigger: string;
  message: string;
  accepted: boolean;
  reason?: string;
  reentered?: true;
  code?: string;
}

/** `GET /strategies/:id`'s statistics. */
export interface Statistics {
  totalTransitions: number;
  rejectedTriggers: number;
  errorCount: number;
  openQuantity: number;
  timeInStateMs: Partial<Record<StrategyState, number>>;
}

/** `GET /market`. */
export interface MarketView {
  now: string;
  phase: 'open' | 'closed';
  nextBell: { type: 'MARKET_OPEN' | 'MARKET_CLOSE'; at: string } | null;
  simulated: boolean;
  driver: boolean;
  instance: string | null;
}

/** A strategy as the page holds it: its view, when it arrived (time in state ticks from there) and a version that changes with every update. */
export interface Entry {
  view: StrategyView;
  at: number;
  version: number;
}
