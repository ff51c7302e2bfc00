import type { MachineEvent } from '../machines/events.js';
import type { StrategyContext } from '../machines/types.js';

/**
 * A guard that can say why it failed: `null` means it passes, a string is the reason it does
 * not. The machine's XState guard is `check(...) === null`; a rejected trigger's audit record
 * carries the string.
 */
export type GuardCheck<P = undefined> = (context: StrategyContext, event: MachineEvent, params: P) => string | null;

/**
 * A named entry rule of a variant (time window, VIX range, DTE band, weekday). The name reads as
 * a question and is the guard's name in the machine, so the inspector and the audit show it.
 */
export interface EntryGuard {
  /** Unique guard name, e.g. `isVixInRange`. */
  name: string;
  /** One line for docs and diagrams, e.g. `VIX between 12 and 35`. */
  description: string;
  check: GuardCheck;
}

/** The time of an event: stamped by the strategy actor; 0 only for hand-made bare events. */
export function eventTime(event: MachineEvent): number {
  return typeof event.at === 'number' ? event.at : 0;
}
