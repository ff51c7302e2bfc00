/**
 * The types of a strategy handle (see strategyHandle.ts): what a trigger prepares, the open
 * transaction the store writes, the handle's pipeline steps and what attaching one needs.
 */
import type { ActorRefFrom, Snapshot } from 'xstate';
import type { StrategyMachine, StrategySnapshot } from '../../machines/createStrategyMachine.js';
import type { StrategyHooks } from '../../machines/definition.js';
import type { InvalidEventError, RejectionCode } from '../../machines/errors.js';
import type { InspectionEvent } from 'xstate';
import type { InspectionGate } from './inspectionGate.js';
import type { AfterEvent, HookFailedEvent, MachineEvent, StrategyEvent } from '../../machines/events.js';
import type { StrategyState, topLevelState } from '../../machines/states.js';
import type { StrategyContext, TransitionRecord } from '../../machines/types.js';
import type { Clock } from '../market/clock.js';
import type { ChunkCodec } from './auditWindow.js';
import type { StrategyActor, TransitionListener, TransitionNotice, TriggerResult } from './strategyActor.js';
import type { MaybePromise } from './settle.js';

/** The XState actor a handle wraps: the root actor or a child of the coordinator. */
export type StrategyRef = ActorRefFrom<StrategyMachine>;

/**
 * A system-level check run on a valid, non-duplicate event before it reaches the strategy
 * (trading state, portfolio limits): a rejection with its code and reason, or null to let it in.
 */
export type TriggerGate = (
  state: ReturnType<typeof topLevelState>,
  event: StrategyEvent,
  context: StrategyContext,
) => { code: RejectionCode; reason: string } | null;

/** What a trigger will send into the machine, decided before anything changes. */
export type PreparedTrigger =
  | { kind: 'undelivered'; result: TriggerResult }
  | { kind: 'event'; event: MachineEvent; seqBefore: number; hooksAfter: boolean; error?: InvalidEventError };

/** A transition computed on the actor and not yet committed: what the store must write. */
/**
 * Whether an invoked actor's request still stands: true while the invoked actors that ran when it
 * was asked (the one that asked among them) still run, in the same strategy actor. An actor
 * stopped since (its state was left, even if entered again, or a rollback replaced it) vouches for
 * nothing: its request is dropped where it would be applied, after the writes queued before it.
 * An EMERGENCY_EXIT also stands while the strategy runs and still holds a position: a move to
 * another position-holding state does not drop it.
 */
export type RequestAsked = () => boolean;

export interface Transaction {
  kind: 'open';
  /** The last committed snapshot: what a rollback returns to. */
  before: StrategySnapshot;
  /** The snapshot the transition led to. */
  after: StrategySnapshot;
  /** The records it wrote (first: the trigger's own), not yet in the trail. */
  records: TransitionRecord[];
  /** The event that was sent (the trigger, or the rejection or hook failure that replaced it). */
  event: MachineEvent;
  /** A safety trigger's hooks run at the commit and cannot abort it. */
  hooksAfter: boolean;
  error?: InvalidEventError;
  /** What the inspector was not shown yet of this transaction (released at its commit or rollback). */
  inspection?: InspectionEvent[];
}

/** A strategy handle with the pipeline's steps; not part of the public API. */
export interface StrategyHandle extends StrategyActor {
  /** Validation, duplicates and the gate; changes nothing. */
  prepare(event: StrategyEvent, gate: TriggerGate | undefined): PreparedTrigger;
  /** Computes the transition once, on the actor, and runs the hooks; nothing is committed yet. */
  begin(prepared: PreparedTrigger): Transaction | { kind: 'undelivered'; result: TriggerResult };
  /** Publishes a transaction: trail, after-the-fact hooks, listeners, delays. */
  commit(tx: Transaction): TriggerResult;
  /** Drops a transaction: the actor is replaced by one restored from `tx.before`. */
  rollback(tx: Transaction): void;
  /**
   * True while a transaction is open: begun (its hooks run then), not yet committed or rolled back.
   * Over a synchronous store, only from inside the strategy's own hooks.
   */
  readonly inTransaction: boolean;
  /** True while the strategy is dormant: restored, its actor not made yet (see `AttachOptions.dormant`). */
  readonly dormant: boolean;
  /** Makes and starts a dormant strategy's actor (nothing once it is live); returns the actor. */
  wake(): StrategyRef;
  /** The committed snapshot without waking a dormant strategy (its stored one): for counts and listings. */
  peekSnapshot(): Pick<StrategySnapshot, 'value' | 'context' | 'status'>;
  /** The committed state as read-only views need it, without waking a dormant strategy. */
  committedView(): CommittedStrategy;
}

/**
 * A strategy's committed state as a read-only view needs it (a listing, a count, a metric label):
 * the same for a dormant strategy, read from its stored snapshot, as for a live one in the same
 * state, and taking it never makes an actor. Anything that acts on the strategy, or reads its
 * trail, goes through the strategy itself (`PersistentStrategySystem.get`).
 *
 * @example
 * ```ts
 * const { state, snapshot } = system.peek('lt112-spx'); // a dormant strategy stays dormant
 * console.log(state, snapshot.context.variant, snapshot.context.position?.quantity ?? 0);
 * ```
 */
export interface CommittedStrategy {
  readonly id: string;
  /** The strategy's machine (its variant's chart), for what the view derives from its definition. */
  readonly machine: StrategyMachine;
  /** The committed top-level state. */
  readonly state: StrategyState;
  /** The committed snapshot's state value, context and status (while a transaction is open, the one before it). */
  readonly snapshot: Pick<StrategySnapshot, 'value' | 'context' | 'status'>;
}

/**
 * Audit records a strategy keeps in memory when nothing else bounds them (no store): the oldest is
 * dropped when a new one would pass it. A persistent system keeps a smaller window (`auditWindow`)
 * and reads older records from its store.
 */
export const DEFAULT_AUDIT_LIMIT = 10_000;

/** What `attachStrategy` needs to make (and remake, on a rollback) the strategy's actor. */
export interface AttachOptions {
  id: string;
  clock: Clock;
  /** Creates the actor, fresh or from a persisted snapshot; not started. */
  spawn(snapshot?: Snapshot<unknown>): StrategyRef;
  /** Stops an actor made by `spawn` (a child is stopped by its parent). */
  stopRef(ref: StrategyRef): void;
  /** The inspection the actors are made with, held while a transaction is computed (see inspectionGate.ts). */
  inspection?: InspectionGate;
  hooks?: StrategyHooks;
  listeners?: Iterable<TransitionListener>;
  /** Records to start with, oldest first; a function is called when the trail is first needed (a dormant restore). */
  auditTrail?: TransitionRecord[] | (() => TransitionRecord[]);
  /** Most records kept in `auditTrail`, the oldest dropped first (default {@link DEFAULT_AUDIT_LIMIT}). */
  auditLimit?: number;
  /** Keep the records held compactly, packed with this codec and decoded on read (see AuditWindow); default: as written. */
  compactTrail?: ChunkCodec;
  /** Seq of the newest record the store holds: the trail never drops a record after it (see AuditWindow). */
  storedThrough?: () => number;
  onListenerError?: (error: unknown, notice: TransitionNotice) => void;
  /** `false` makes the public `trigger()` refuse: a persisted strategy's events go through its store first. */
  directTrigger?: boolean;
  /**
   * The system's send for this strategy: a direct `trigger()` takes the system's path (its trading
   * state and portfolio gate, its store), as `system.send` does. None: the strategy's own pipeline.
   */
  systemTrigger?: (event: StrategyEvent) => MaybePromise<TriggerResult>;
  /** Where a delayed transition goes when it falls due (the persistent system writes it first). */
  onDelay?: (event: AfterEvent & { at: number; dueAt: number }) => void;
  /**
   * Where a hook failure after a committed transition goes (the persistent system writes it first,
   * so a forced ERROR is never in memory only); default: applied at once.
   */
  onHookFailure?: (event: HookFailedEvent & { at: number }) => void;
  /**
   * Where an event an invoked actor asks for goes (the system gates it, the persistent system
   * writes it first); default: this strategy's own trigger path. `asked` tells, where the event is
   * about to be applied, whether the stay it was asked in still holds (see {@link RequestAsked}).
   */
  onRequest?: (event: StrategyEvent, asked: RequestAsked) => void;
  /**
   * The system's checks (trading state, portfolio limits) as `can()` and `explain()` see them:
   * what its gate would answer, reserving nothing. Default: none (a lone strategy).
   */
  explainGate?: (handle: StrategyHandle, ...args: Parameters<TriggerGate>) => ReturnType<TriggerGate>;
  /**
   * A record was committed outside a transaction (an after-the-fact hook failure, a report an
   * invoked actor sent as the strategy was restored): the system writes it (default: nothing to write).
   */
  onUnwrittenRecord?: () => void;
  /**
   * The stored state (value, context, status) of a restored strategy, checked against the chart
   * without an actor: the strategy starts dormant, and `spawn` is first called by whatever needs its actor (a trigger,
   * `getSnapshot`, `actorRef`, `subscribe`, ...). Default: the actor is made and started at once.
   */
  dormant?: Pick<StrategySnapshot, 'value' | 'context' | 'status'>;
}
