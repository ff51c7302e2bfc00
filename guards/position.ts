import type { MachineEvent } from '../machines/events.js';
import { FLAT_STATES, POSITION_STATES, isStrategyState, stateOf, type StrategyState } from '../machines/states.js';
import type { StrategyContext } from '../machines/types.js';
import type { GuardCheck } from './types.js';

/** Contracts still open (0 when flat). */
export function openQuantity(context: StrategyContext): number {
  return context.position?.quantity ?? 0;
}

/** Passes when the strategy holds an open position. */
export const hasOpenPosition: GuardCheck = (context) => (openQuantity(context) > 0 ? null : 'the strategy holds no position');

/** Passes when the strategy holds nothing. */
export const isFlat: GuardCheck = (context) =>
  openQuantity(context) === 0 ? null : `the strategy holds a position of ${openQuantity(context)} contracts: exit first`;

function fillQuantity(event: MachineEvent): number {
  return 'quantity' in event && typeof event.quantity === 'number' ? event.quantity : 0;
}

/** Passes when an exit fill closes exactly what remains open. */
export const isExitFillComplete: GuardCheck = (context, event) => {
  const fill = fillQuantity(event);
  const open = openQuantity(context);
  if (open === 0) return 'there is no open position to exit';
  return fill === open ? null : `an exit fill of ${fill} does not close the ${open} contracts open`;
};

/** Passes when an exit fill leaves part of the position open. */
export const isExitFillPartial: GuardCheck = (context, event) => {
  const fill = fillQuantity(event);
  const open = openQuantity(context);
  if (fill < open) return null;
  return fill === open
    ? `a partial fill of ${fill} would close all ${open} contracts open: send ORDER_FILLED`
    : `an exit fill of ${fill} exceeds the ${open} contracts open`;
};

/** True when `target` is a state a strategy may be put in given what it holds. */
export function isLegalStateFor(target: string, holdsPosition: boolean): boolean {
  if (!isStrategyState(target)) return false;
  return holdsPosition ? POSITION_STATES.includes(target) : FLAT_STATES.includes(target);
}

/** Passes when a MANUAL_OVERRIDE names `params.target` and that state is legal for the position. */
export const isOverrideTargetLegal: GuardCheck<{ target: string }> = (context, event, params) => {
  if (event.type !== 'MANUAL_OVERRIDE') return 'not a MANUAL_OVERRIDE';
  if (event.target !== params.target) return `override target is ${event.target}, not ${params.target}`;
  return explainOverride(context, event.target, event.from);
};

/** Why an override to `target` (asked only `from` those states, when given) is refused, or null when it is allowed. */
export function explainOverride(context: StrategyContext, target: unknown, from?: readonly StrategyState[]): string | null {
  if (!isStrategyState(target)) return `MANUAL_OVERRIDE target "${String(target)}" is not a lifecycle state`;
  if (Array.isArray(from)) {
    const now = stateOf(context);
    if (!from.includes(now)) return `MANUAL_OVERRIDE asked only from ${from.join(', ')}; the strategy is in ${now}`;
  }
  const open = openQuantity(context);
  if (isLegalStateFor(target, open > 0)) return null;
  return open > 0
    ? `MANUAL_OVERRIDE to ${target} is illegal while holding a position of ${open} contracts: exit first`
    : `MANUAL_OVERRIDE to ${target} is illegal for a flat strategy: there is no position to manage`;
}
