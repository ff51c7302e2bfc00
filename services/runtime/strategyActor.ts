import { createActor, type Actor, type InspectionEvent, type Observer, type Snapshot } from 'xstate';
import { definitionOf, type StrategyMachine, type StrategySnapshot } from '../../machines/createStrategyMachine.js';
import { checkParams } from '../../machines/params.js';
import type { StrategyHooks } from '../../machines/definition.js';
import { type InvalidEventError, SnapshotRestoreError, type RejectionCode } from '../../machines/errors.js';
import { withInvokedChildren } from '../../machines/restoreChildren.js';
import type { StrategyEvent } from '../../machines/events.js';
import type { StrategyState } from '../../machines/states.js';
import type { TransitionRecord } from '../../machines/types.js';
import { realClock, type Clock } from '../market/clock.js';
import { parkedClock } from './durableDelays.js';
import { newIncarnation } from './incarnation.js';
import { createInspectionGate } from './inspectionGate.js';
import { attachStrategy } from './strategyHandle.js';
import { contextRefusal, positionStateRefusal } from './storedContext.js';
import { checkActorOptions } from './systemOptions.js';

/** What `trigger()` answers, synchronously. */
export interface TriggerResult {
  accepted: boolean;
  from: StrategyState;
  to: StrategyState;
  /** Why it was rejected, naming the state and the event. */
  reason?: string;
  code?: RejectionCode;
  /** The audit record this trigger wrote. */
  record: TransitionRecord;
  /** For a malformed event: the typed error naming the field. */
  error?: InvalidEventError;
}

/** A transition as listeners see it: the record and the event that caused it. */
export interface TransitionNotice {
  strategyId: string;
  record: TransitionRecord;
  /** The triggering event, rebuilt from the record (`type` plus payload). */
  event: { type: string } & Record<string, unknown>;
}

/** A listener of every audit record (accepted and rejected) of a strategy. */
export type TransitionListener = (notice: TransitionNotice) => void;

/** The persisted form of a strategy: XState's persisted snapshot plus the records held in memory. */
export interface PersistedStrategy {
  format: 'strategy-lifecycle/1';
  strategyId: string;
  variant: string;
  snapshot: Snapshot<unknown>;
  /**
   * The audit records the strategy held in memory, oldest first: its trail up to the
   * {@link DEFAULT_AUDIT_LIMIT | in-memory cap}, or a store-backed strategy's recent window. Optional
   * when restoring (none: the strategy starts with an empty in-memory trail); snapshots of earlier
   * releases, with their whole trail, restore as they are (cut to the cap).
   */
  auditTrail?: TransitionRecord[];
}

export { DEFAULT_AUDIT_LIMIT } from './strategyHandle.js';

/** Options of {@link createStrategyActor}. */
export interface StrategyActorOptions {
  /** The strategy's id (default: the definition's id). */
  id?: string;
  /** Caller parameters kept in the context (underlying, size, ...). */
  params?: Record<string, unknown>;
  /** Time source; real time by default, {@link createSimulatedClock} in tests and simulations. */
  clock?: Clock;
  /** Passed through to XState (`createActor(machine, { inspect })`), e.g. `@statelyai/inspect`. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** A snapshot from {@link StrategyActor.getPersistedSnapshot} to restore. */
  snapshot?: PersistedStrategy;
  /** Listeners of every transition record. */
  listeners?: TransitionListener[];
  /** Hooks that replace the definition's (same shape). */
  hooks?: StrategyHooks;
  /** XState system id of the actor. */
  systemId?: string;
  /** Called when a listener throws; listeners never break a strategy. Default: console.error. */
  onListenerError?: (error: unknown, notice: TransitionNotice) => void;
  /**
   * Most audit records kept in memory (default {@link DEFAULT_AUDIT_LIMIT}); past it the oldest is
   * dropped. The counts of `getStatistics` are kept in the context and stay whole.
   */
  auditLimit?: number;
}

/** A running strategy: validated, audited triggers over a real XState actor. */
export interface StrategyActor {
  readonly id: string;
  readonly machine: StrategyMachine;
  /**
   * The XState actor underneath, for tooling. It is where each transition is computed, so it shows
   * a transition before it commits (while its store write is under way), and a rollback (a failed
   * write or hook, an action that threw) replaces it with a fresh actor: a subscription to it
   * completes then. For committed states only, and across rollbacks, use this handle's
   * `getSnapshot()`, `state` and `subscribe()`, or the system's `subscribe()`. Read it anew from the
   * handle each time rather than keeping it.
   */
  readonly actorRef: Actor<StrategyMachine>;
  readonly clock: Clock;
  /** The current top-level state. */
  readonly state: StrategyState;
  /**
   * Applies one event and answers at once. Unknown types, malformed payloads and duplicate
   * `eventId`s are rejected with a reason and an audit record; it never throws for bad input.
   * Bound to its strategy (as XState binds an actor's `send`): it may be passed around on its own.
   */
  trigger: (event: StrategyEvent) => TriggerResult;
  /**
   * Whether the strategy would accept `event` now: false for an invalid event, a duplicate
   * `eventId`, no edge or a failing guard, and, in a system, for what its trading state or
   * portfolio limits refuse. Changes nothing, reserves nothing (XState's `snapshot.can`, after
   * the same checks).
   */
  can(event: StrategyEvent): boolean;
  /** Why `event` would be refused now (code and reason, as the audit would say), or null. Changes nothing. */
  explain(event: StrategyEvent): { code: RejectionCode; reason: string } | null;
  getSnapshot(): StrategySnapshot;
  /**
   * The audit records held in memory, oldest first: the whole trail up to the in-memory cap
   * (`auditLimit`, oldest dropped), or, in a persistent system, the recent window (`auditWindow`);
   * older pages come from the store (`PersistentStrategySystem.readAuditTrail`).
   */
  getAuditTrail(): readonly TransitionRecord[];
  /** Receives every record with its event; returns the unsubscribe function. */
  subscribe(listener: TransitionListener): () => void;
  /** A JSON-safe snapshot (machine state, context with deadlines, the records held in memory) to restore later. */
  getPersistedSnapshot(): PersistedStrategy;
  stop(): void;
}

export type { PreparedTrigger, StrategyHandle, Transaction, TriggerGate } from './strategyHandle.js';

/** Checks that `snapshot` is a persisted strategy of `machine`'s variant. */
export function checkPersistedStrategy(machine: StrategyMachine, snapshot: PersistedStrategy): void {
  const def = definitionOf(machine);
  if (
    snapshot?.format !== 'strategy-lifecycle/1' ||
    !snapshot.snapshot ||
    (snapshot.auditTrail !== undefined && !Array.isArray(snapshot.auditTrail))
  ) {
    throw new SnapshotRestoreError('snapshot is not a strategy-lifecycle/1 persisted strategy');
  }
  if (def && snapshot.variant !== def.id) {
    throw new SnapshotRestoreError(`snapshot of variant "${snapshot.variant}" cannot restore into machine "${def.id}"`);
  }
  const stored = snapshot.snapshot as { value?: unknown; context?: { position?: unknown } };
  const refusal = contextRefusal(stored.context) ?? positionStateRefusal(stored.value, stored.context?.position);
  if (refusal !== null) throw new SnapshotRestoreError(`the snapshot does not fit the chart: ${refusal}`);
}

/**
 * The error of a snapshot XState could not restore (it reports the failure in the new actor's
 * status instead of throwing), as the callers of a restore expect it.
 */
export function restoreFailure(snapshot: { error?: unknown }): SnapshotRestoreError {
  const cause = snapshot.error;
  if (cause instanceof SnapshotRestoreError) return cause;
  return new SnapshotRestoreError(`the snapshot does not fit the chart: ${cause instanceof Error ? cause.message : String(cause)}`);
}

/**
 * Starts a strategy. `trigger(event)` validates the event, rejects duplicates, runs the user
 * hooks before the transition commits (a hook that throws aborts it and counts one error),
 * and returns a {@link TriggerResult} synchronously.
 *
 * @example
 * ```ts
 * const clock = createSimulatedClock('2026-12-04T09:30:00-05:00');
 * const s = createStrategyActor(createStrategyMachine(strangle), { id: 'strangle-1', clock });
 * s.trigger({ type: 'MARKET_OPEN' });            // INITIALIZING -> READY
 * s.trigger({ type: 'ORDER_FILLED', quantity: 0 }); // rejected: quantity must be a positive whole number
 * const saved = JSON.stringify(s.getPersistedSnapshot());
 * ```
 * @throws {SnapshotRestoreError} when `options.snapshot` is not a snapshot of this variant, or names a state (or substate) its chart does not have.
 * @throws {InvalidParamsError} when `options.params` do not fit the variant's `params` schema.
 */
export function createStrategyActor(machine: StrategyMachine, options: StrategyActorOptions = {}): StrategyActor {
  checkActorOptions(options);
  const def = definitionOf(machine);
  const clock = options.clock ?? realClock;
  const restored = options.snapshot;
  if (restored !== undefined) checkPersistedStrategy(machine, restored);
  const id = restored?.strategyId ?? options.id ?? def?.id ?? machine.id;
  // A new strategy's params must fit its variant (as `system.add` checks); a restored one keeps its own.
  const params = restored || !def ? options.params : checkParams(id, def.id, def.params, options.params);
  // Its transitions are shown once committed (see inspectionGate.ts).
  const inspection = options.inspect ? createInspectionGate(options.inspect) : undefined;
  // Drawn once: a rollback's respawn restores the committed snapshot, which carries it.
  const incarnation = newIncarnation();
  const handle = attachStrategy(machine, {
    id,
    clock,
    inspection,
    // On a rollback the actor is made again from the last committed snapshot, with the same inspector.
    spawn: (snapshot) => {
      const ref = createActor(machine, {
        // The runtime arms delays itself, durably (see durableDelays.ts); XState's copies are parked.
        clock: parkedClock(clock),
        input: { strategyId: id, params, createdAt: clock.now(), incarnation },
        ...(snapshot ? { snapshot } : restored ? { snapshot: withInvokedChildren(machine, restored.snapshot) } : {}),
        ...(inspection ? { inspect: inspection.inspect } : {}),
        ...(options.systemId ? { systemId: options.systemId } : {}),
      });
      // XState reports a snapshot it cannot restore (a state the chart does not have) in the new
      // actor's status: refused here, as `system.add` refuses it, before the actor is started.
      if (!snapshot && restored && ref.getSnapshot().status === 'error') throw restoreFailure(ref.getSnapshot());
      return ref;
    },
    stopRef: (ref) => ref.stop(),
    hooks: options.hooks,
    listeners: options.listeners,
    auditTrail: restored?.auditTrail ?? [],
    ...(options.auditLimit !== undefined ? { auditLimit: options.auditLimit } : {}),
    onListenerError: options.onListenerError,
  });
  return handle;
}
