import type { StrategyEvent } from '../../machines/events.js';
import type { StrategyState } from '../../machines/states.js';
import { hasStateTag, statesTagged } from '../../machines/tags.js';
import { nextTurn, STRATEGIES_PER_TURN } from './eventLoopTurns.js';
import { mustExist } from '../../machines/errors.js';
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
  /** Strategies sent to per turn of the event loop (default {@link BROADCAST_PART}). */
  partSize?: number;
  /**
   * Parts whose sends may be unanswered at once (default {@link BROADCAST_PARTS_IN_FLIGHT}): a
   * store's group commit gathers them into one batch; more wait for the oldest to be answered.
   */
  partsInFlight?: number;
}

/**
 * Strategies a broadcast sends to per turn of the event loop: a quarter of
 * {@link STRATEGIES_PER_TURN}, as a store's commit of the parts before (and its acknowledgements)
 * may run in the same turn (its `setImmediate` follows the part's), and a turn then holds both.
 * Measured on a 10k broadcast over SQLite: parts of 64 instead of 128 cut the longest turn by
 * about a sixth and the 90th percentile by a third, and the broadcast took no longer.
 */
export const BROADCAST_PART = STRATEGIES_PER_TURN / 4;

/** Parts of a broadcast sent before the oldest is answered: 8 x 64 strategies, two default batches (256): one commits while the next gathers. */
export const BROADCAST_PARTS_IN_FLIGHT = 8;

/** Outcome slots of one part, filled as its sends answer; `done` resolves when all have. */
interface Part {
  ids: string[];
  outcomes: Array<PromiseSettledResult<TriggerResult>>;
  done: Promise<void>;
}

/** Sends `event` to each of `ids` now: their outcomes when every send answered at once (in memory), else a part in flight. */
function sendPart(ids: string[], send: SystemSend, event: StrategyEvent): Part | Array<PromiseSettledResult<TriggerResult>> {
  const outcomes = new Array<PromiseSettledResult<TriggerResult>>(ids.length);
  let waiting = 0;
  let finish: (() => void) | undefined;
  const settle = (i: number, outcome: PromiseSettledResult<TriggerResult>) => {
    outcomes[i] = outcome;
    if (--waiting === 0) finish?.();
  };
  ids.forEach((id, i) => {
    try {
      const value = send(id, event);
      if (!isThenable(value)) return void (outcomes[i] = { status: 'fulfilled', value });
      waiting++;
      value.then(
        (v) => settle(i, { status: 'fulfilled', value: v }),
        (reason: unknown) => settle(i, { status: 'rejected', reason }),
      );
    } catch (reason) {
      outcomes[i] = { status: 'rejected', reason };
    }
  });
  if (waiting === 0) return outcomes;
  return { ids, outcomes, done: new Promise<void>((resolve) => (finish = resolve)) };
}

/**
 * Sends `event` to each target, a part of `partSize` ({@link BROADCAST_PART}) at a time with a
 * turn of the event loop between parts, so timers and requests get in. When the sends answer
 * asynchronously (a store), up to `partsInFlight` parts are sent before the oldest is answered,
 * so the store's group commit takes several parts in one transaction; each answer still comes
 * after the commit holding it. In memory every send answers at once and so does the broadcast.
 * One failure never stops it. Results are listed in the order of `targets`.
 */
export function broadcast<E>(
  targets: readonly StrategyActor[],
  send: SystemSend,
  event: StrategyEvent,
  options: BroadcastOptions<E>,
): MaybePromise<Record<string, TriggerResult | E>> {
  const results: Record<string, TriggerResult | E> = {};
  const maxInFlight = Math.max(1, Math.floor(options.partsInFlight ?? BROADCAST_PARTS_IN_FLIGHT));
  const partSize = Math.max(1, Math.floor(options.partSize ?? BROADCAST_PART));
  const answer = (ids: readonly string[], outcomes: ReadonlyArray<PromiseSettledResult<TriggerResult>>) =>
    outcomes.forEach((outcome, i) => {
      const id = ids[i];
      if (outcome.status === 'fulfilled') return void (results[id] = outcome.value);
      const entry = options.onError(id, outcome.reason);
      if (entry !== undefined) results[id] = entry;
    });
  const inFlight: Part[] = [];
  /** Waits for the oldest part in flight and lists its answers (parts are answered in order). */
  const oldest = async () => {
    const part = mustExist(inFlight.shift(), 'a part in flight');
    await part.done;
    answer(part.ids, part.outcomes);
  };
  const rest = async (from: number): Promise<Record<string, TriggerResult | E>> => {
    for (; from < targets.length; from += partSize) {
      await nextTurn();
      const sent = sendNext(from);
      if (sent && inFlight.push(sent) >= maxInFlight) await oldest();
    }
    while (inFlight.length > 0) await oldest();
    return results;
  };
  const sendNext = (from: number): Part | undefined => {
    const ids = targets
      .slice(from, from + partSize)
      .filter((t) => options.has(t.id))
      .map((t) => t.id);
    const sent = sendPart(ids, send, event);
    if (!Array.isArray(sent)) return sent;
    // Answered at once: listed now, after the parts in flight before it (listed when they answer).
    if (inFlight.length === 0) answer(ids, sent);
    else return { ids, outcomes: sent, done: Promise.resolve() };
  };
  for (let from = 0; from < targets.length; from += partSize) {
    const sent = sendNext(from);
    if (sent) {
      inFlight.push(sent);
      return rest(from + partSize);
    }
  }
  return results;
}
