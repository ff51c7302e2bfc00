/**
 * The lifecycle's invoked actors: what runs while a strategy is in a state (issue 14, item 10).
 * MANAGING and ADJUSTING invoke `positionMonitor`, ANALYZING invokes `entryAnalyzer`, ERROR
 * invokes `errorAlert`. XState starts each one when its state is entered, stops it when the state
 * is left, and starts it again when a snapshot in that state is restored.
 *
 * The defaults do nothing; a user replaces them by name with
 * `machine.provide({ actors: { positionMonitor: fromCallback(...) } })`. What an actor reports
 * (VIX_SPIKE, RISK_LIMIT_EXCEEDED, ENTRY_CONDITIONS_MET, ...) does not move the machine by
 * itself: it sends `lifecycleRequest(event)`, which the machine only announces (an emitted
 * `request`), and the runtime routes the inner event through the same trigger path as any caller's
 * (validated, gated, audited, persisted).
 */
import { emit, fromCallback, type EventObject } from 'xstate';
import { describeThrown } from './errors.js';
import type { StrategyEvent } from './events.js';
import type { StrategyState } from './states.js';
import type { StrategyContext } from './types.js';

/** What every invoked actor of the lifecycle receives as `input`. */
export interface StrategyActorInput {
  /** The strategy the actor works for. */
  strategyId: string;
  /** Its variant's id (`lt112`, `strangle`, ...). */
  variant: string;
  /** The top-level state that invoked the actor. */
  state: StrategyState;
  /** The strategy's parameters (underlying, quantity, ...). */
  params: Record<string, unknown>;
  /** The position held when the state was entered, or null when flat. */
  position: StrategyContext['position'];
  /** The error that led to ERROR (for `errorAlert`), or null. */
  lastError: StrategyContext['lastError'];
  /** When the state was entered, epoch ms. */
  enteredAt: number;
}

/**
 * What an invoked actor sends back to its strategy: a request to apply `event`, which the runtime
 * treats like any caller's trigger. Sending a bare event instead would bypass validation, the
 * system's gates and the store, so the machine takes only this wrapper from its children.
 */
export interface LifecycleRequest {
  type: 'lifecycle.request';
  /** The event the actor asks the strategy to apply. */
  event: StrategyEvent;
}

/**
 * Wraps an event an invoked actor reports, for its `sendBack`.
 *
 * @example
 * ```ts
 * const positionMonitor = fromCallback<EventObject, StrategyActorInput>(({ input, sendBack }) => {
 *   const stop = feed.onVix((vix) => { if (vix > 30) sendBack(lifecycleRequest({ type: 'VIX_SPIKE', vix })); });
 *   return stop; // XState calls it when MANAGING is left
 * });
 * ```
 */
export function lifecycleRequest(event: StrategyEvent): LifecycleRequest {
  return { type: 'lifecycle.request', event };
}

/** What the machine emits for a {@link LifecycleRequest}: `actor.on('request', ({ event }) => ...)`. */
export interface RequestEmitted {
  type: 'request';
  event: StrategyEvent;
}

/** The names of the invoked actors, as `setup({ actors })` and `machine.provide()` know them. */
export const ACTOR_NAMES = ['positionMonitor', 'entryAnalyzer', 'errorAlert'] as const;

/** One of {@link ACTOR_NAMES}. */
export type StrategyActorName = (typeof ACTOR_NAMES)[number];

/** An invoked actor that does nothing: the default of every name. */
const idle = () => fromCallback<EventObject, StrategyActorInput>(() => {});

/** The default implementation of each invoked actor (no-ops), for `setup({ actors })`. */
export const defaultActors: Record<StrategyActorName, ReturnType<typeof idle>> = {
  positionMonitor: idle(),
  entryAnalyzer: idle(),
  errorAlert: idle(),
};

/** The input an actor invoked by `state` receives, read from the context on entry. */
export function actorInputOf(context: StrategyContext, state: StrategyState): StrategyActorInput {
  return {
    strategyId: context.strategyId,
    variant: context.variant,
    state,
    params: context.params,
    position: context.position,
    lastError: context.lastError,
    enteredAt: context.enteredAt,
  };
}

/**
 * The `invoke` entry of a state node: the named actor, with its id and its input. An actor that
 * fails (throws, rejects, errors) is reported by `reportActorFailure` instead of failing the
 * strategy's own actor, as XState does with an error nobody handles.
 */
export function invokeActor(src: StrategyActorName, state: StrategyState) {
  return {
    id: src,
    src,
    input: ({ context }: { context: StrategyContext }) => actorInputOf(context, state),
    onError: { actions: { type: 'reportActorFailure', params: { actor: src } } },
  } as const;
}

/** What an error event carries, as a message: its `message` for an `Error`, else the value as text. */
function failureText(error: unknown): string {
  return describeThrown(error);
}

/**
 * The action of an invoked actor's failure (`xstate.error.actor.<name>`): it asks for
 * `SYSTEM_ERROR`, naming the actor and its error, and changes nothing itself. The runtime takes
 * the request down the trigger path like any other: the strategy goes to ERROR (audited, persisted,
 * recovery armed) with a position it can no longer watch; in ERROR, where SYSTEM_ERROR has no edge,
 * a failing `errorAlert` is audited as a refused SYSTEM_ERROR that names it.
 */
export const reportActorFailure = emit(({ event }: { event: { type: string; error?: unknown } }, params: { actor: StrategyActorName }) => ({
  type: 'request' as const,
  event: { type: 'SYSTEM_ERROR', reason: `${params.actor} failed: ${failureText(event.error)}` } as StrategyEvent,
}));

/** The root's action for a {@link LifecycleRequest}: announces it, changes nothing, writes no record. */
export const emitRequest = emit(({ event }: { event: { type: string; event?: unknown } }) => ({
  type: 'request' as const,
  event: event.event as StrategyEvent,
}));
