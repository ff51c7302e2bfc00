import type { StrategyEvent } from '../../machines/events.js';
import type { StrategyState } from '../../machines/states.js';
import { hasStateTag, statesTagged } from '../../machines/tags.js';
import { nextTurn, STRATEGIES_PER_TURN } from './eventLoopTurns.js';
import { isThenable, type MaybePromise } from './settle.js';
import type { StrategyActor, TriggerResult } from './strategyActor.js';

/**
 * The system-wide operations, written once for both systems over their `send`: an in-memory
 * system answers at once, so the operation does too; a persisted one answers after each commit.
 */

/** Which strategies a system-wide operation moved and which it left alone, with why. */
export interface SystemOperationResult {
  changed: Array<{ strategyId: string; to: StrategyState }>;
  skipped: Array<{ strategyId: string; state: StrategyState; reason: string }>;
}

/** A system's `send`: the event pipeline with its gate (and, persisted, its store write). */
export type SystemSend = (id: string, event: StrategyEvent) => MaybePromise<TriggerResult>;

const then = <T, U>(value: MaybePromise<T>, next: (value: T) => MaybePromise<U>): MaybePromise<U> =>
  isThenable(value) ? value.then(next) : next(value);

/** Runs `step` on each item in order, synchronously for as long as every step answers synchronously. */
function inSequence<T>(items: readonly T[], step: (item: T) => MaybePromise<void>, from = 0): MaybePromise<void> {
  for (let i = from; i < items.length; i++) {
    const done = step(items[i]);
    if (isThenable(done)) return done.then(() => inSequence(items, step, i + 1));
  }
}

/**
 * Whether a broadcast reaches `strategy`: EARNINGS_APPROACHING with a `symbol` concerns only the
 * strategies whose `params.underlying` is that symbol; every other event concerns all.
 */
export function isConcernedBy(event: StrategyEvent, strategy: StrategyActor): boolean {
  if (event?.type !== 'EARNINGS_APPROACHING' || typeof event.symbol !== 'string') return true;
  return String(strategy.getSnapshot().context.params.underlying ?? '').toUpperCase() === event.symbol.toUpperCase();
}

/**
 * What `suspendAll` does to a strategy in `state`: the event to send, or why it is skipped. The
 * states it may be suspended from are the ones tagged `suspendable` in the lifecycle.
 */
export function suspensionOf(state: StrategyState, reason: string): { event: StrategyEvent } | { skip: string } {
  if (!hasStateTag(state, 'suspendable')) return { skip: `${state} cannot be suspended (only ${statesTagged('suspendable').join(', ')})` };
  return { event: { type: 'MANUAL_OVERRIDE', target: 'SUSPENDED', reason: `system-wide suspension: ${reason}`, operator: 'system' } };
}

/** What `resumeAll` does to a strategy in `state`: RESUME when suspended, nothing otherwise. */
export function resumptionOf(state: StrategyState): StrategyEvent | null {
  return state === 'SUSPENDED' ? { type: 'RESUME' } : null;
}

/** Adds one strategy's outcome to a system-wide operation's result. */
export function recordOutcome(result: SystemOperationResult, strategyId: string, state: StrategyState, outcome: TriggerResult): void {
  if (outcome.accepted) result.changed.push({ strategyId, to: outcome.to });
  else result.skipped.push({ strategyId, state, reason: outcome.reason ?? 'rejected' });
}

/**
 * Moves every strategy in a `suspendable` state (READY, ANALYZING, PENDING_ENTRY) to SUSPENDED, one at a time; reports the others.
 *
 * @example
 * ```ts
 * const result = suspendAll(handles, (id, event) => system.send(id, event), 'FOMC at 14:00');
 * ```
 */
export function suspendAll(strategies: readonly StrategyActor[], send: SystemSend, reason: string): MaybePromise<SystemOperationResult> {
  const result: SystemOperationResult = { changed: [], skipped: [] };
  const done = inSequence(strategies, (strategy) => {
    const state = strategy.state;
    const step = suspensionOf(state, reason);
    if ('skip' in step) return void result.skipped.push({ strategyId: strategy.id, state, reason: step.skip });
    return then(send(strategy.id, step.event), (outcome) => recordOutcome(result, strategy.id, state, outcome));
  });
  return then(done, () => result);
}

/** Resumes every SUSPENDED strategy (READY when flat, MANAGING with a position), one at a time. */
export function resumeAll(strategies: readonly StrategyActor[], send: SystemSend): MaybePromise<SystemOperationResult> {
  const result: SystemOperationResult = { changed: [], skipped: [] };
  const done = inSequence(strategies, (strategy) => {
    const state = strategy.state;
    const event = resumptionOf(state);
    if (event) return then(send(strategy.id, event), (outcome) => recordOutcome(result, strategy.id, state, outcome));
  });
  return then(done, () => result);
}

/** How {@link broadcast} reaches the strategies and what it does with a failed send. */
export interface BroadcastOptions<E> {
  /** Whether a target is still in the system (one removed during an earlier turn is not reached). */
  has(id: string): boolean;
  /** A send that threw or rejected: the entry to answer for it, or undefined to leave it out. */
  onError(id: string, error: unknown): E | undefined;
}

/**
 * Sends `event` to each target, a part of {@link STRATEGIES_PER_TURN} at a time: the sends of a
 * part are made together (a store commits them in one group commit), and when they answer
 * asynchronously a turn of the event loop follows each part, so timers and requests get in. In
 * memory every send answers at once and so does the broadcast. One failure never stops it.
 */
export function broadcast<E>(
  targets: readonly StrategyActor[],
  send: SystemSend,
  event: StrategyEvent,
  options: BroadcastOptions<E>,
): MaybePromise<Record<string, TriggerResult | E>> {
  const results: Record<string, TriggerResult | E> = {};
  const answer = (id: string, outcome: PromiseSettledResult<TriggerResult>) => {
    if (outcome.status === 'fulfilled') return void (results[id] = outcome.value);
    const entry = options.onError(id, outcome.reason);
    if (entry !== undefined) results[id] = entry;
  };
  const part = (from: number): MaybePromise<Record<string, TriggerResult | E>> => {
    for (; from < targets.length; from += STRATEGIES_PER_TURN) {
      const slice = targets.slice(from, from + STRATEGIES_PER_TURN).filter((t) => options.has(t.id));
      const sent = slice.map((t): MaybePromise<PromiseSettledResult<TriggerResult>> => {
        try {
          const value = send(t.id, event);
          return isThenable(value)
            ? value.then(
                (v) => ({ status: 'fulfilled', value: v }),
                (reason: unknown) => ({ status: 'rejected', reason }),
              )
            : { status: 'fulfilled', value };
        } catch (reason) {
          return { status: 'rejected', reason };
        }
      });
      if (sent.some(isThenable)) {
        const next = from + STRATEGIES_PER_TURN;
        return Promise.all(sent.map((outcome) => Promise.resolve(outcome))).then(async (settled) => {
          settled.forEach((outcome, i) => answer(slice[i].id, outcome));
          if (next >= targets.length) return results;
          await nextTurn();
          return part(next);
        });
      }
      (sent as Array<PromiseSettledResult<TriggerResult>>).forEach((outcome, i) => answer(slice[i].id, outcome));
    }
    return results;
  };
  return part(0);
}
