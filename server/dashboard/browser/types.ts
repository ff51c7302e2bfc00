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

/** `GET /strategies`. */
export interface StrategiesAnswer {
  strategies: StrategyView[];
  instance?: string | null;
}

/** `GET /summary` (the part the dashboard reads). */
export interface SummaryAnswer {
  tradingState: string;
}

/** `GET /strategies/:id?limit=`. */
export interface StrategyDetail {
  strategy: StrategyView;
  audit: { records: AuditRecord[]; total: number };
  statistics: Statistics;
}

/** `POST /strategies/:id/events`: the accepted transition. */
export interface EventAnswer {
  result: { from: string; to: string };
}

/** `POST /system/suspend` and `/system/resume`. */
export interface SystemOperationAnswer {
  result: { changed: Array<{ strategyId: string; to: string }>; skipped: Array<{ strategyId: string; state: string; reason: string }> };
}

/** A change of the system's trading state (`POST /system/trading-state`, and the live stream). */
export interface TradingStateChange {
  to: string;
  reason?: string;
}

/** `POST /system/kill-switch`. */
export interface KillSwitchAnswer {
  tradingState: string;
}

/** The live stream's `connected` event: `earlierStart` when it resumed across a restart of the service. */
export interface ConnectedMessage {
  replayed: number;
  earlierStart?: boolean;
}

/** The live stream's `transition`, `strategyAdded` and `strategyRemoved` events. */
export interface StrategyMessage {
  strategyId: string;
  strategy?: StrategyView | null;
  record?: AuditRecord | null;
}

/**
 * The live stream's `damaged` event: sent in place of a transition whose audit record the store
 * cannot read, so the page never learned what that transition changed.
 */
export interface DamagedMessage {
  strategyId: string;
  seq: number;
  /** The record's place in the store's audit feed. */
  cursor: string;
  error: { code: string; message: string };
}

/** The live stream's `system` events. */
export type SystemMessage =
  | { type: 'tradingState'; change?: TradingStateChange }
  | {
      type: 'killSwitch';
      error?: string;
      result: { flattened: string[]; alreadyFlat: string[]; failed: Array<{ strategyId: string; reason: string }> };
    };
