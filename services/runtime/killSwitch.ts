import { describeThrown, KillSwitchInterruptedError, OwnershipLostError, StoreUnavailableError } from '../../machines/errors.js';
import type { StrategyEvent } from '../../machines/events.js';
import { topLevelState } from '../../machines/states.js';
import { hasStateTag } from '../../machines/tags.js';
import type { Clock } from '../market/clock.js';
import type { StrategyHandle, TriggerResult } from './strategyActor.js';

/** How the kill switch delivers its own events (privileged: past the HALTED trading state). */
export type KillSwitchDeliver = (handle: StrategyHandle, event: StrategyEvent) => TriggerResult | Promise<TriggerResult>;

/** Retry policy of the kill switch: exponential backoff on the system clock, bounded. */
export interface KillSwitchOptions {
  /** Retries after the first exit attempt; default 5. */
  maxRetries?: number;
  /** First backoff; doubles after each rejection. Default 1 s. */
  backoffMs?: number;
  /** Cap of the backoff. Default 60 s. */
  maxBackoffMs?: number;
}

/** What the kill switch did to each strategy. */
export interface KillSwitchResult {
  reason: string;
  flattened: string[];
  alreadyFlat: string[];
  /**
   * Strategies that could not be flattened: each ends in ERROR with this reason, unless the store
   * could not write that either (an exit refused by the store on every retry: the reason says so).
   */
  failed: Array<{ strategyId: string; reason: string }>;
}

/**
 * The committed position's quantity, read without waking a dormant strategy: a flat one is left as
 * it is (a live one reads its committed snapshot, as `getSnapshot` does).
 */
export const openQuantity = (handle: StrategyHandle) => handle.peekSnapshot().context.position?.quantity ?? 0;

/**
 * Whether the kill switch has something to see to in a strategy's committed state: a position, or
 * an entry order that may still fill (states tagged `entering`: PENDING_ENTRY, ENTERING). Read
 * without waking a dormant strategy.
 */
export function needsKillSwitch(handle: StrategyHandle): boolean {
  const committed = handle.peekSnapshot();
  return (committed.context.position?.quantity ?? 0) > 0 || hasStateTag(topLevelState(committed.value), 'entering');
}

/**
 * What became of one strategy: flat, failed with a reason, interrupted by a close, or lost to
 * another instance that owns it now (its own part of the kill switch flattens it there).
 */
export type KillSwitchOutcome =
  /** `neverHeld`: an entry order it waited for ended without a fill (listed as already flat). */
  | { strategyId: string; flat: true; neverHeld?: true }
  | { strategyId: string; flat: false; reason: string }
  | { strategyId: string; flat: false; interrupted: true }
  | { strategyId: string; flat: false; lost: true };
type Outcome = KillSwitchOutcome;

/** How a caller follows and stops one run of the kill switch. */
export interface KillSwitchControl {
  /** Told each strategy's outcome once known, before the run resolves (the persistent system stores it). */
  onOutcome?: (outcome: KillSwitchOutcome) => void | Promise<void>;
  /** Aborting stops every retry: the run rejects with {@link KillSwitchInterruptedError}. */
  signal?: AbortSignal;
}

/**
 * Exits of one strategy sent again at once after REENTRANT_TRIGGER (the kill switch pressed from
 * inside that strategy's hook or listener): one suffices, as the transition is over when the answer
 * is read; the bound only keeps a strategy that stayed busy from looping in microtasks.
 */
const MAX_REENTRANT_RETRIES = 3;

/**
 * The run's abort, fanned out to its flattening loops: one listener on the caller's signal for the
 * whole run, however many positions (a listener each would pass Node's limit of 10 per signal and
 * print a leak warning during every kill switch over more than ten positions).
 */
interface Interrupts {
  aborted(): boolean;
  listeners: Set<() => void>;
}

/**
 * Flattens one strategy: exits now, retries each rejected exit, gives up into ERROR held for an
 * operator (no auto-recovery: it would put the position back in MANAGING as if nothing failed). A flat one
 * with an entry order working is watched until the broker answers: a fill is flattened, a rejection
 * or the stuck deadline leaves it flat.
 */
function flatten(
  handle: StrategyHandle,
  reason: string,
  clock: Clock,
  options: Required<KillSwitchOptions>,
  deliver: KillSwitchDeliver,
  interrupts: Interrupts,
): Promise<Outcome> {
  return new Promise((resolve) => {
    let attempts = 0;
    /** Exits answered REENTRANT_TRIGGER so far (see {@link MAX_REENTRANT_RETRIES}). */
    let reentrant = 0;
    let timer: unknown;
    let settled = false;
    /** Flat so far, waiting for its entry order's answer; and whether it ever held a position here. */
    let awaitingEntry = false;
    let held = false;
    const finish = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      unsubscribe();
      interrupts.listeners.delete(interrupt);
      if (timer !== undefined) clock.clearTimeout(timer);
      resolve(outcome);
    };
    const interrupt = () => finish({ strategyId: handle.id, flat: false, interrupted: true });
    /** Fenced: no retry and no ERROR here; the strategy is the new owner's to flatten. */
    const lost: Outcome = { strategyId: handle.id, flat: false, lost: true };
    const fail = () =>
      finish({ strategyId: handle.id, flat: false, reason: handle.getSnapshot().context.lastError?.reason ?? handle.state });
    // The kill switch's own exits pass the HALTED trading state: they are sent without the gate.
    const flat = () => finish(held ? { strategyId: handle.id, flat: true } : { strategyId: handle.id, flat: true, neverHeld: true });
    const attempt = () => {
      timer = undefined;
      const state = handle.state;
      const snapshot = handle.getSnapshot();
      if (openQuantity(handle) === 0) {
        if (!snapshot.hasTag('entering')) return flat();
        awaitingEntry = true; // an entry order may still fill: wait for the broker's answer
        return;
      }
      held = true;
      if (snapshot.hasTag('exiting')) return; // an exit order is working: wait for the broker's answer
      attempts++;
      // States tagged `exitable` take EMERGENCY_EXIT while holding a position; others are overridden.
      const event: StrategyEvent = snapshot.hasTag('exitable')
        ? { type: 'EMERGENCY_EXIT', reason: `kill switch: ${reason}` }
        : { type: 'MANUAL_OVERRIDE', target: 'EXITING', reason: `kill switch: ${reason}`, operator: 'kill-switch' };
      void deliverNow(event)
        .then(async (result) => {
          if (result.accepted || settled) return;
          // Pressed from inside this strategy's own hook or transition listener (an in-memory
          // system answers at once): the exit was not delivered, not rejected. Its transition is
          // over by this reaction, so the exit goes now, without using up a retry.
          if (result.code === 'REENTRANT_TRIGGER' && reentrant++ < MAX_REENTRANT_RETRIES) {
            attempts--;
            return attempt();
          }
          await deliver(handle, {
            type: 'SYSTEM_ERROR',
            reason: `kill switch could not start an exit from ${state}: ${result.reason}`,
            hold: true,
          });
          fail();
        })
        .catch((error: unknown) => {
          if (settled) return;
          if (error instanceof OwnershipLostError) return finish(lost);
          // The store could not write the exit (a full disk, a read-only file, a database down for a
          // moment): tried again on the backoff, as a rejected exit is, within the same retries.
          // Trading is HALTED: given up at once, nothing else would ever flatten this position.
          const unwritten = error instanceof StoreUnavailableError;
          if (unwritten && attempts <= options.maxRetries) return void (timer = clock.setTimeout(attempt, backoff()));
          finish({
            strategyId: handle.id,
            flat: false,
            reason: `kill switch could not start an exit${unwritten ? ` (${attempts} attempts)` : ''}: ${describeThrown(error)}`,
          });
        });
    };
    /**
     * `deliver`, its synchronous throw (a synchronous store's refusal, in the in-memory system) made a
     * rejection: thrown out of an attempt, it skipped the retry and left the run pending for ever.
     */
    const deliverNow = (event: StrategyEvent): Promise<TriggerResult> => {
      try {
        return Promise.resolve(deliver(handle, event));
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    };
    /** The wait before the next attempt: `backoffMs` doubling after each one, at most `maxBackoffMs`. */
    const backoff = () => Math.min(options.maxBackoffMs, options.backoffMs * 2 ** (attempts - 1));
    const retryAfterRejection = (why: string) => {
      if (attempts > options.maxRetries) {
        // From inside a listener a trigger must be deferred: a zero delay on the clock does it.
        timer = clock.setTimeout(() => {
          timer = undefined;
          void deliverNow({ type: 'SYSTEM_ERROR', reason: `kill switch: exit rejected ${attempts} times, last: ${why}`, hold: true }).catch(
            (error: unknown) =>
              finish(
                error instanceof OwnershipLostError
                  ? lost
                  : {
                      strategyId: handle.id,
                      flat: false,
                      reason: `kill switch: exit rejected ${attempts} times and ERROR could not be written: ${describeThrown(error)}`,
                    },
              ),
          );
        }, 0);
        return;
      }
      timer = clock.setTimeout(attempt, backoff());
    };
    /**
     * Given up on because the strategy went to ERROR (its exit stuck: the broker never answered).
     * Its recovery, armed on the way in, would put the position back in MANAGING 30 minutes later
     * as if the flattening had worked: it is held there for an operator, as after rejected exits.
     */
    const failInError = () => {
      const { lastError, deadline } = handle.getSnapshot().context;
      const why = lastError?.reason ?? handle.state;
      if (deadline?.kind !== 'ERROR_RECOVERY') return fail();
      // From inside a listener a trigger must be deferred: a zero delay on the clock does it.
      timer = clock.setTimeout(() => {
        timer = undefined;
        const given = { strategyId: handle.id, flat: false as const, reason: why };
        void deliverNow({
          type: 'MANUAL_OVERRIDE',
          target: 'ERROR',
          reason: `kill switch gave up (${why}): held for an operator`,
          operator: 'kill-switch',
          hold: true,
        }).then(
          () => finish(given),
          (error: unknown) => finish(error instanceof OwnershipLostError ? lost : given),
        );
      }, 0);
    };
    const unsubscribe = handle.subscribe(({ record }) => {
      if (settled) return;
      if (openQuantity(handle) === 0) {
        if (!handle.getSnapshot().hasTag('entering')) flat();
        return;
      }
      if (awaitingEntry) {
        // The entry it waited for filled while trading is halted: flatten it (deferred, as below).
        awaitingEntry = false;
        timer = clock.setTimeout(attempt, 0);
        return;
      }
      if (record.currentState === 'ERROR' && record.previousState !== 'ERROR') return failInError();
      if (
        record.accepted &&
        record.currentState === 'PENDING_EXIT' &&
        (record.previousState === 'EXITING' || record.previousState === 'PARTIAL_EXIT')
      ) {
        retryAfterRejection(String(record.data.reason ?? 'ORDER_REJECTED'));
      }
    });
    if (interrupts.aborted()) return interrupt();
    interrupts.listeners.add(interrupt);
    attempt();
  });
}

/**
 * The exit loops of one kill switch part: flattens every strategy holding a position (the caller
 * has set the trading state to HALTED), each exit delivered through `deliver` (the system's
 * write-ahead, past the trading state). Resolves when each one is flat or has failed. Both systems
 * run it through `killSwitchPart.ts`, which stores each outcome.
 * @throws {KillSwitchInterruptedError} when `control.signal` aborts first.
 *
 * @example
 * ```ts
 * const result = await killSwitch(core.handles(), 'risk desk', clock, { maxRetries: 3 }, core.deliver);
 * ```
 */
export async function killSwitch(
  handles: StrategyHandle[],
  reason: string,
  clock: Clock,
  options: KillSwitchOptions | undefined,
  deliver: KillSwitchDeliver,
  control: KillSwitchControl = {},
): Promise<KillSwitchResult> {
  const policy: Required<KillSwitchOptions> = { maxRetries: 5, backoffMs: 1000, maxBackoffMs: 60_000, ...options };
  const result: KillSwitchResult = { reason, flattened: [], alreadyFlat: [], failed: [] };
  const pending: Array<Promise<Outcome>> = [];
  const { signal } = control;
  const interrupts: Interrupts = { aborted: () => signal?.aborted === true, listeners: new Set() };
  const onAbort = () => {
    for (const interrupt of [...interrupts.listeners]) interrupt();
  };
  signal?.addEventListener('abort', onAbort);
  for (const handle of handles) {
    if (!needsKillSwitch(handle)) result.alreadyFlat.push(handle.id);
    else {
      pending.push(
        flatten(handle, reason, clock, policy, deliver, interrupts).then(async (outcome) => {
          if (!('interrupted' in outcome)) await control.onOutcome?.(outcome);
          return outcome;
        }),
      );
    }
  }
  const interrupted: string[] = [];
  const outcomes = await Promise.all(pending).finally(() => signal?.removeEventListener('abort', onAbort));
  for (const outcome of outcomes) {
    if (outcome.flat) (outcome.neverHeld ? result.alreadyFlat : result.flattened).push(outcome.strategyId);
    else if ('interrupted' in outcome) interrupted.push(outcome.strategyId);
    else if ('lost' in outcome)
      continue; // in the new owner's result, not this one's
    else result.failed.push({ strategyId: outcome.strategyId, reason: outcome.reason });
  }
  if (interrupted.length) throw new KillSwitchInterruptedError(reason, interrupted);
  return result;
}
