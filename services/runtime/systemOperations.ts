import type { StrategyEvent } from '../../machines/events.js';
import { topLevelState, type StrategyState } from '../../machines/states.js';
import { hasStateTag, statesTagged } from '../../machines/tags.js';
import { nextTurn, STRATEGIES_PER_TURN } from './eventLoopTurns.js';
import { mustExist } from '../../machines/errors.js';
import { isThenable, type MaybePromise } from './settle.js';
import type { StrategyActor, StrategyHandle, TriggerResult } from './strategyActor.js';

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

/**
 * Whether a broadcast reaches `strategy`: EARNINGS_APPROACHING with a `symbol` concerns only the
 * strategies whose `params.underlying` is that symbol; every other event concerns all.
 */
export function isConcernedBy(event: StrategyEvent, strategy: OperationTarget): boolean {
  if (event?.type !== 'EARNINGS_APPROACHING' || typeof event.symbol !== 'string') return true;
  return String(strategy.peekSnapshot().context.params.underlying ?? '').toUpperCase() === event.symbol.toUpperCase();
}

/**
 * What `suspendAll` does to a strategy in `state`: the event to send, or why it is skipped. The
 * states it may be suspended from are the ones tagged `suspendable` in the lifecycle.
 */
export function suspensionOf(state: StrategyState, reason: string): { event: StrategyEvent } | { skip: string } {
  if (!hasStateTag(state, 'suspendable')) return { skip: `${state} cannot be suspended (only ${statesTagged('suspendable').join(', ')})` };
  return { event: suspension(reason) };
}

/**
 * The system-wide suspension: an audited MANUAL_OVERRIDE to SUSPENDED by operator `system`, only
 * from a `suspendable` state. The decision is made from each strategy's committed state before the
 * broadcast reaches it; `from` has the machine check it again when the event is applied, so a
 * strategy that moved meanwhile (a fill on its way) is refused and reported, not suspended.
 */
const suspension = (reason: string): StrategyEvent => ({
  type: 'MANUAL_OVERRIDE',
  target: 'SUSPENDED',
  reason: `system-wide suspension: ${reason}`,
  operator: 'system',
  from: [...statesTagged('suspendable')],
});

const RESUME: StrategyEvent = { type: 'RESUME' };

/** What `resumeAll` does to a strategy in `state`: RESUME when suspended, nothing otherwise. */
export function resumptionOf(state: StrategyState): StrategyEvent | null {
  return state === 'SUSPENDED' ? RESUME : null;
}

/** Adds one strategy's outcome to a system-wide operation's result. */
export function recordOutcome(result: SystemOperationResult, strategyId: string, state: StrategyState, outcome: TriggerResult): void {
  if (outcome.accepted) result.changed.push({ strategyId, to: outcome.to });
  else result.skipped.push({ strategyId, state, reason: outcome.reason ?? 'rejected' });
}

/** A strategy as a system-wide operation sees it: its id and its committed state, read without waking it. */
export type OperationTarget = Pick<StrategyHandle, 'id' | 'peekSnapshot'>;

/**
 * How a system-wide operation sends one event to many strategies: {@link broadcast}'s parts, turns
 * of the event loop and group commit; a failed send's entry is its error.
 */
export type SendToAll = (targets: readonly OperationTarget[], event: StrategyEvent) => MaybePromise<Record<string, TriggerResult | Error>>;

/**
 * Sends `event` to every strategy `decide` picks from its committed state (read without waking a
 * dormant one), as one broadcast; lists the outcomes in the order of `strategies`, with those
 * `decide` skips (a reason) and leaves out (null). One strategy's failed write never stops the
 * others: it is listed as skipped with the error as its reason (it did not move).
 */
function operate(
  strategies: readonly OperationTarget[],
  sendToAll: SendToAll,
  event: StrategyEvent,
  decide: (state: StrategyState) => 'send' | { skip: string } | null,
): MaybePromise<SystemOperationResult> {
  const states = strategies.map((strategy) => topLevelState(strategy.peekSnapshot().value));
  const decisions = states.map(decide);
  const targets = strategies.filter((_, i) => decisions[i] === 'send');
  return then(sendToAll(targets, event), (outcomes) => {
    const result: SystemOperationResult = { changed: [], skipped: [] };
    strategies.forEach((strategy, i) => {
      const decision = decisions[i];
      if (decision === null) return;
      const state = states[i];
      if (decision !== 'send') return void result.skipped.push({ strategyId: strategy.id, state, reason: decision.skip });
      const outcome = outcomes[strategy.id];
      // Removed while the operation ran: nothing to report.
      if (outcome === undefined) return;
      if (outcome instanceof Error) result.skipped.push({ strategyId: strategy.id, state, reason: `not written: ${outcome.message}` });
      else recordOutcome(result, strategy.id, state, outcome);
    });
    return result;
  });
}

/**
 * Moves every strategy in a `suspendable` state (READY, ANALYZING, PENDING_ENTRY) to SUSPENDED and
 * reports the others. Sent as a broadcast (parts with a turn of the event loop between them, one
 * group commit per batch); a strategy left alone is not woken.
 *
 * @example
 * ```ts
 * const result = await suspendAll(handles, sendToAll, 'FOMC at 14:00');
 * ```
 */
export function suspendAll(
  strategies: readonly OperationTarget[],
  sendToAll: SendToAll,
  reason: string,
): MaybePromise<SystemOperationResult> {
  return operate(strategies, sendToAll, suspension(reason), (state) => {
    const step = suspensionOf(state, reason);
    return 'skip' in step ? step : 'send';
  });
}

/** Resumes every SUSPENDED strategy (READY when flat, MANAGING with a position), as one broadcast. */
export function resumeAll(strategies: readonly OperationTarget[], sendToAll: SendToAll): MaybePromise<SystemOperationResult> {
  return operate(strategies, sendToAll, RESUME, (state) => (resumptionOf(state) ? 'send' : null));
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

/** Parts of a broadcast sent before the oldest is answered: 8 x 64 strategies, four default batches (128): one commits while the next gather. */
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
  targets: ReadonlyArray<Pick<StrategyActor, 'id'>>,
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
