/**
 * Restoring without starting: a persistent system's open loads every stored strategy, checks its
 * snapshot against the chart and resolves before most XState actors exist. A strategy whose
 * restored state runs nothing at once stays **dormant** (its handle holds the stored snapshot,
 * resolved against the chart) until something needs its actor, or until the background wake
 * after the open reaches it. What must run at once starts at the open, as before: a pending
 * durable `after` deadline, or an invoked actor that is not the package's default no-op.
 * Only XState's public API: `machine.resolveState` (once per state value), state nodes' `invoke`
 * and `after` definitions and the machine's actor implementations.
 */
import type { AnyActorLogic } from 'xstate';
import { defaultActors } from '../../machines/actors.js';
import type { StrategyMachine, StrategySnapshot } from '../../machines/createStrategyMachine.js';
import { SnapshotRestoreError } from '../../machines/errors.js';
import type { StrategyContext } from '../../machines/types.js';
import { pendingDelay } from './durableDelays.js';
import { nextTurn, STRATEGIES_PER_TURN } from './eventLoopTurns.js';
import { activeNodes } from './rejection.js';

/** The part of XState's persisted machine snapshot a dormant restore reads. */
interface StoredMachineSnapshot {
  value?: unknown;
  context?: unknown;
  status?: unknown;
  children?: unknown;
}

/** What a dormant strategy answers from without an actor: its stored state value, context and status. */
export type StoredState = Pick<StrategySnapshot, 'value' | 'context' | 'status'>;

/** What one state value of a chart means for a restore, worked out once per machine and value. */
interface ValueFacts {
  /** Why the chart cannot take it, or null. */
  refusal: string | null;
  /** An active state has `after` delays: the exact pending one is asked of the resolved snapshot. */
  hasDelays: boolean;
  /** An active state invokes an actor that is not one of the package's default no-ops. */
  runsOwnActor: boolean;
}

const factsByMachine = new WeakMap<StrategyMachine, Map<string, ValueFacts>>();

/** Whether an actor implementation is one of the package's default no-ops. */
const isDefaultActor = (machine: StrategyMachine, src: string): boolean => {
  const logic = (machine.implementations.actors as Record<string, AnyActorLogic | undefined>)[src];
  return logic === undefined || logic === (defaultActors as Record<string, AnyActorLogic | undefined>)[src];
};

function factsOf(machine: StrategyMachine, value: unknown): ValueFacts {
  const key = typeof value === 'string' ? value : JSON.stringify(value);
  let byValue = factsByMachine.get(machine);
  if (!byValue) factsByMachine.set(machine, (byValue = new Map<string, ValueFacts>()));
  let facts = byValue.get(key);
  if (facts) return facts;
  try {
    // The chart's own resolution of the value (XState's public API): it throws for a state it does not have.
    const resolved = machine.resolveState({ value: value as StrategySnapshot['value'], context: {} as StrategyContext });
    const nodes = activeNodes(machine, resolved);
    facts = {
      refusal: null,
      hasDelays: nodes.some((node) => node.after.length > 0),
      runsOwnActor: nodes.some((node) => node.invoke.some((i) => typeof i.src !== 'string' || !isDefaultActor(machine, i.src))),
    };
  } catch (error) {
    facts = { refusal: error instanceof Error ? error.message : String(error), hasDelays: false, runsOwnActor: false };
  }
  byValue.set(key, facts);
  return facts;
}

/**
 * Checks a stored snapshot against the chart without an actor, as restoring it in an actor would:
 * a state the chart does not have, no context or no children record is refused.
 * @throws {SnapshotRestoreError} "the snapshot does not fit the chart: ..."
 */
export function checkStored(machine: StrategyMachine, stored: unknown): StoredState {
  const persisted = stored as StoredMachineSnapshot | null;
  let refusal: string | null;
  if (persisted === null || typeof persisted !== 'object') refusal = 'no snapshot';
  else if (persisted.value === undefined) refusal = 'the snapshot has no state value';
  else if (persisted.context === null || typeof persisted.context !== 'object') refusal = 'the snapshot has no context';
  // XState restores the children a snapshot lists: a snapshot without the record cannot be restored.
  else if (persisted.children === null || typeof persisted.children !== 'object') refusal = 'the snapshot has no children record';
  else refusal = factsOf(machine, persisted.value).refusal;
  if (refusal !== null) throw new SnapshotRestoreError(`the snapshot does not fit the chart: ${refusal}`);
  return persisted as StoredState;
}

/**
 * Whether a restored strategy must start at the open: it waits for a durable deadline (it fires at
 * its original instant, or at once if overdue), its active states or stored children run an actor
 * that is not a default no-op (a user's `machine.provide({ actors })`, a variant's), or it is not
 * active. Anything else can stay dormant.
 */
export function mustStartAtOnce(machine: StrategyMachine, state: StoredState, stored: unknown): boolean {
  if (state.status !== 'active') return true;
  if ((state.context as { deadline?: unknown }).deadline != null) return true;
  const facts = factsOf(machine, state.value);
  if (facts.runsOwnActor) return true;
  // Only states with delays pay for a resolved snapshot: the delay pending now, if any.
  if (facts.hasDelays && pendingDelay(machine, machine.resolveState({ value: state.value, context: state.context })) !== null) return true;
  const children = (stored as StoredMachineSnapshot).children as Record<string, { src?: unknown } | undefined>;
  for (const id in children) {
    const src = children[id]?.src;
    if (typeof src !== 'string' || !isDefaultActor(machine, src)) return true;
  }
  return false;
}

/** The background wake {@link wakeInBackground} runs. */
export interface BackgroundWake {
  /** Resolves when every strategy it was given is live (or stopped, or gone). */
  readonly done: Promise<void>;
  /** Stops waking: what is live stays live, the rest stays dormant. */
  stop(): void;
}

/** What the background wake needs of a strategy. */
export interface Wakeable {
  readonly dormant: boolean;
  wake(): unknown;
}

/**
 * Longest run of wakes between two turns of the event loop, in real milliseconds: an actor costs
 * tens of microseconds once the code is optimised, but a cold process or a collection can make a
 * fixed batch take far longer, so each turn also stops at this budget.
 */
export const WAKE_BUDGET_MS = 8;

/**
 * Wakes `strategies` with a turn of the event loop (timers, I/O) before each batch: a batch ends
 * after `perTurn` strategies or {@link WAKE_BUDGET_MS} of real time, whichever comes first, so no
 * pause is much longer than that. The budget is the event loop's time (`performance.now`), not the
 * strategies' clock, which may be simulated. A strategy woken meanwhile (a send, a `get`) is
 * skipped; one that fails to wake is reported and skipped.
 *
 * @example
 * ```ts
 * const wake = wakeInBackground(() => registry.handles(), (e, id) => console.error(id, e));
 * await wake.done; // every restored strategy is live
 * ```
 */
export function wakeInBackground(
  strategies: () => Iterable<Wakeable & { readonly id: string }>,
  report: (error: unknown, strategyId: string) => void,
  perTurn = STRATEGIES_PER_TURN,
): BackgroundWake {
  let stopped = false;
  const run = async () => {
    const pending = [...strategies()].filter((s) => s.dormant);
    let next = 0;
    while (next < pending.length && !stopped) {
      await nextTurn();
      const until = performance.now() + WAKE_BUDGET_MS;
      const end = Math.min(next + perTurn, pending.length);
      while (next < end && !stopped) {
        const strategy = pending[next++];
        if (!strategy.dormant) continue;
        try {
          strategy.wake();
        } catch (error) {
          report(error, strategy.id);
        }
        if (performance.now() >= until) break;
      }
    }
  };
  return {
    done: run(),
    stop: () => {
      stopped = true;
    },
  };
}
