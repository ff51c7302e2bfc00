/**
 * Restoring without starting: a persistent system's open loads every stored strategy, checks its
 * snapshot against the chart and resolves before most XState actors exist. A strategy whose
 * restored state runs nothing at once stays **dormant** (its handle holds the stored snapshot,
 * resolved against the chart) until something needs its actor, or until the background wake
 * after the open reaches it. What must run at once starts at the open, as before: a pending
 * durable `after` deadline, or an invoked actor that is not the package's default no-op.
 * Only XState's public API: `machine.resolveState`, state nodes' `invoke` definitions and the
 * machine's actor implementations.
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
  historyValue?: unknown;
}

/**
 * The stored snapshot resolved against the chart, without an actor (`machine.resolveState`): a
 * snapshot the chart cannot take (a state it does not have, no children record) is refused here,
 * as restoring it in an actor would refuse it.
 * @throws {SnapshotRestoreError} "the snapshot does not fit the chart: ..."
 */
export function resolveStored(machine: StrategyMachine, stored: unknown): StrategySnapshot {
  const persisted = stored as StoredMachineSnapshot;
  try {
    if (persisted === null || typeof persisted !== 'object') throw new Error('no snapshot');
    if (persisted.value === undefined) throw new Error('the snapshot has no state value');
    if (persisted.context === null || typeof persisted.context !== 'object') throw new Error('the snapshot has no context');
    // XState restores the children a snapshot lists: a snapshot without the record cannot be restored.
    if (persisted.children === null || typeof persisted.children !== 'object') throw new Error('the snapshot has no children record');
    return machine.resolveState({
      value: persisted.value as StrategySnapshot['value'],
      context: persisted.context as StrategyContext,
      ...(persisted.status === 'active' ? {} : { status: persisted.status as StrategySnapshot['status'] }),
    });
  } catch (error) {
    throw new SnapshotRestoreError(`the snapshot does not fit the chart: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Per machine: whether an actor implementation is one of the package's default no-ops. */
const isDefaultActor = (machine: StrategyMachine, src: string): boolean => {
  const logic = (machine.implementations.actors as Record<string, AnyActorLogic | undefined>)[src];
  return logic === undefined || logic === (defaultActors as Record<string, AnyActorLogic | undefined>)[src];
};

/** Per machine and state value: whether an active state invokes an actor other than a default no-op. */
const runsActorsByMachine = new WeakMap<StrategyMachine, Map<string, boolean>>();

function invokesOwnActor(machine: StrategyMachine, snapshot: StrategySnapshot): boolean {
  const key = typeof snapshot.value === 'string' ? snapshot.value : JSON.stringify(snapshot.value);
  let byValue = runsActorsByMachine.get(machine);
  if (!byValue) runsActorsByMachine.set(machine, (byValue = new Map<string, boolean>()));
  let runs = byValue.get(key);
  if (runs === undefined) {
    runs = activeNodes(machine, snapshot).some((node) =>
      node.invoke.some((invoke) => typeof invoke.src !== 'string' || !isDefaultActor(machine, invoke.src)),
    );
    byValue.set(key, runs);
  }
  return runs;
}

/**
 * Whether a restored strategy must start at the open: it waits for a durable deadline (it fires at
 * its original instant, or at once if overdue), its active states or stored children run an actor
 * that is not a default no-op (a user's `machine.provide({ actors })`, a variant's), or it is not
 * active. Anything else can stay dormant.
 */
export function mustStartAtOnce(machine: StrategyMachine, resolved: StrategySnapshot, stored: unknown): boolean {
  if (resolved.status !== 'active') return true;
  if ((resolved.context as { deadline?: unknown }).deadline != null) return true;
  if (pendingDelay(machine, resolved) !== null) return true;
  if (invokesOwnActor(machine, resolved)) return true;
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
 * Wakes `strategies` a batch at a time, with a turn of the event loop (timers, I/O) before each
 * batch, so no pause is longer than one batch (about 256 actors, a few milliseconds). A strategy
 * woken meanwhile (a send, a `get`) is skipped; one that fails to wake is reported and skipped.
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
    for (let i = 0; i < pending.length && !stopped; i += perTurn) {
      await nextTurn();
      for (let j = i; j < Math.min(i + perTurn, pending.length) && !stopped; j++) {
        const strategy = pending[j];
        if (!strategy.dormant) continue;
        try {
          strategy.wake();
        } catch (error) {
          report(error, strategy.id);
        }
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
