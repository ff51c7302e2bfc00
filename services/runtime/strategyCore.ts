/**
 * What a strategy handle holds and how it follows its actor: one object per strategy, methods on
 * the prototype. The actor's records are held back while a transaction is open and published
 * (trail, after-the-fact hooks, listeners) once committed; a rollback replaces the actor.
 * The pipeline steps on top of it are in strategyHandle.ts.
 */
import type { InspectionEvent, Observer } from 'xstate';
import { openQuantity } from '../../guards/position.js';
import { definitionOf, type StrategyEmitted, type StrategyMachine, type StrategySnapshot } from '../../machines/createStrategyMachine.js';
import type { StrategyDefinition, StrategyHooks } from '../../machines/definition.js';
import type { RejectionCode } from '../../machines/errors.js';
import type { AfterEvent, HookFailedEvent, MachineEvent, StrategyEvent } from '../../machines/events.js';
import { topLevelState } from '../../machines/states.js';
import type { StrategyContext, TransitionRecord } from '../../machines/types.js';
import type { Clock, TimerHandle } from '../market/clock.js';
import { AuditWindow } from './auditWindow.js';
import { createDelayTimer, pendingDelay, type DelayTimer } from './durableDelays.js';
import { createEventIdIndex, type EventIdIndex } from './eventIdIndex.js';
import { settledInspection } from './inspectionGate.js';
import { triggerOfRecord, hasHooks, notifyListeners, runHooks } from './handleCallbacks.js';
import { undeliveredResult } from './handleResults.js';
import { DEFAULT_AUDIT_LIMIT, type AttachOptions, type CommittedStrategy, type RequestAsked, type StrategyRef } from './handleTypes.js';
import type { TransitionListener, TriggerResult } from './strategyActor.js';

/** First wait of a request from an invoked actor after a failed write; it doubles with each failure. */
const REQUEST_BACKOFF_MS = 100;
/** Longest wait of such a request. */
const REQUEST_BACKOFF_MAX_MS = 30_000;

/** The wait before the next try after `failures` in a row: 100 ms, doubling, at most 30 s. */
function backoffMs(failures: number): number {
  return Math.min(REQUEST_BACKOFF_MAX_MS, REQUEST_BACKOFF_MS * 2 ** Math.min(20, Math.max(0, failures)));
}

/** One stay of a strategy: its state value and its count of accepted transitions (any move, or a re-entry, is another). */
function stayOf(snapshot: StrategySnapshot): string {
  return `${JSON.stringify(snapshot.value)}#${snapshot.context.stats.transitions}`;
}

/** Whether an accepted record left its top-level state (moved to another, or re-entered it). */
function movedBy(record: TransitionRecord): boolean {
  return record.accepted && record.code === undefined && (record.previousState !== record.currentState || record.reentered === true);
}

/** How many of `records` left their top-level state (see {@link movedBy}). */
export function movesIn(records: readonly TransitionRecord[]): number {
  let moves = 0;
  for (const record of records) if (movedBy(record)) moves++;
  return moves;
}

/** Two requests alike: the same type and payload (an actor restarted again asks the same again). */
function sameEvent(a: StrategyEvent, b: StrategyEvent): boolean {
  return a.type === b.type && JSON.stringify(a) === JSON.stringify(b);
}

/** Watches one actor made by `spawn` for its handle (one object per actor, methods on the prototype). */
class ActorWatch implements Observer<StrategySnapshot> {
  constructor(
    private readonly handle: StrategyCore,
    private readonly ref: StrategyRef,
  ) {}
  next(): void {
    this.handle.actorChanged(this.ref);
  }
  error(error: unknown): void {
    // A throw inside the pipeline's own send is the pipeline's to answer (refused, rolled back).
    if (this.handle.actorFailedInSend(this.ref, error)) return;
    // An event sent around the runtime failed it (a malformed bare sendBack): put back, not left dead.
    if (this.handle.actorFailedAround(this.ref, error)) return;
    this.handle.actorEnded(this.ref);
    console.error(`strategy ${this.handle.id}: actor failed`, error);
  }
  complete(): void {
    this.handle.actorEnded(this.ref);
  }
}

/** A strategy's state and its actor's wiring; `attachStrategy` makes the concrete handle. */
export abstract class StrategyCore {
  readonly id: string;
  readonly machine: StrategyMachine;
  readonly clock: Clock;
  protected readonly def: StrategyDefinition | undefined;
  protected readonly hooks: StrategyHooks;
  protected readonly withHooks: boolean;
  /** The records held in memory (see AuditWindow): the newest `auditLimit`, packed with `compactTrail`. */
  protected get trail(): AuditWindow {
    return (this.trailHeld ??= this.makeTrail());
  }
  private trailHeld: AuditWindow | undefined = undefined;
  protected readonly listeners: Set<TransitionListener>;
  /** What the strategy was attached with: its actor's factory, stop and callbacks. */
  protected readonly options: AttachOptions;
  protected readonly directTrigger: boolean;
  /**
   * True while this strategy runs hooks, processes an event or notifies listeners: a trigger on
   * the same strategy from inside one of those cannot answer synchronously, so it is refused.
   */
  protected busy = false;
  /**
   * The transaction being computed or written (its last committed snapshot, or null): its records
   * are held back until it commits. Two fields, not an object: nothing is allocated per trigger.
   */
  protected openBefore: StrategySnapshot | null = null;
  /** The records the open transaction's sends wrote so far (none yet: null). */
  protected openRecords: TransitionRecord[] | null = null;
  protected ref: StrategyRef | undefined = undefined;
  /** Actors replaced by a rollback (made on the first one). */
  protected retired: WeakSet<StrategyRef> | null = null;
  /** @internal The duplicate check over the committed snapshot's event-id window. */
  readonly eventIds: EventIdIndex;
  /**
   * Sends the runtime is making (the pipeline's, a delay's in memory, an after-the-fact hook
   * failure's): a record written while none is under way came around the runtime.
   */
  protected ownSends = 0;
  /**
   * Events that reached the actor around the runtime (an invoked actor's bare `sendBack`,
   * `actorRef.send`), to trigger once the actor is put back (see `foreignRecord`); null: none.
   */
  protected foreign: StrategyEvent[] | null = null;
  /** The console was told once that events reach this strategy's actor around the runtime. */
  private warnedForeign = false;
  /** True while `openBefore` holds the committed snapshot over a foreign transition (no transaction is open). */
  protected holding = false;
  /** The actor's last committed snapshot outside a transaction: what a foreign transition is undone to. */
  protected committed: StrategySnapshot | undefined = undefined;
  /** Context before the record being published: what after-the-fact hooks see. */
  protected contextBefore: StrategyContext | undefined = undefined;
  protected readonly delays: DelayTimer;

  constructor(machine: StrategyMachine, options: AttachOptions) {
    this.id = options.id;
    this.machine = machine;
    this.clock = options.clock;
    this.def = definitionOf(machine);
    this.hooks = options.hooks ?? this.def?.hooks ?? {};
    this.withHooks = hasHooks(this.hooks);
    this.listeners = new Set<TransitionListener>(options.listeners ?? []);
    this.options = options;
    // A live strategy's trail is made now; a dormant one's when first read or written (its records parsed then).
    if (!options.dormant) this.trailHeld = this.makeTrail();
    this.directTrigger = options.directTrigger !== false;
    this.eventIds = createEventIdIndex();
    // Delays are armed from every committed snapshot, restored ones included.
    this.delays = createDelayTimer(machine, () => this.getSnapshot(), this.clock, options.onDelay ?? ((event) => this.fireDelay(event)));
    // A dormant strategy (restored, nothing to run at once) makes its actor on first use.
    if (!options.dormant) this.wire(this.options.spawn(undefined));
  }

  private makeTrail(): AuditWindow {
    const { auditTrail } = this.options;
    const initial = typeof auditTrail === 'function' ? auditTrail() : auditTrail;
    return new AuditWindow(
      this.options.auditLimit ?? DEFAULT_AUDIT_LIMIT,
      initial,
      undefined,
      this.options.compactTrail,
      this.options.storedThrough,
    );
  }

  /** The current actor: made and started now if the strategy was dormant. */
  protected actor(): StrategyRef {
    return this.ref ?? this.wake();
  }

  /** True until the strategy's actor is made (see `AttachOptions.dormant`). */
  get dormant(): boolean {
    return this.ref === undefined && !this.halted;
  }

  /**
   * Makes and starts the actor of a dormant strategy from its stored snapshot (a no-op once live).
   * A strategy stopped while dormant gets an actor that is never started.
   * @throws {SnapshotRestoreError} when the stored snapshot cannot be restored after all.
   */
  wake(): StrategyRef {
    if (this.ref) return this.ref;
    const ref = this.options.spawn(undefined);
    if (this.halted) this.ref = ref;
    else this.wire(ref);
    return ref;
  }

  /** See `StrategyHandle.inTransaction` (a hold over a foreign transition is no transaction). */
  get inTransaction(): boolean {
    return this.openBefore !== null && !this.holding;
  }

  /** Stopped before its actor was made. */
  protected halted = false;

  /** The committed snapshot: while a transaction is open, the one before it. */
  getSnapshot(): StrategySnapshot {
    return this.openBefore ?? this.actor().getSnapshot();
  }

  /**
   * The committed state without waking a dormant strategy: its stored value, context and status.
   * For counts and listings; anything that acts uses `getSnapshot`.
   */
  peekSnapshot(): Pick<StrategySnapshot, 'value' | 'context' | 'status'> {
    return this.ref || !this.options.dormant ? this.getSnapshot() : this.options.dormant;
  }

  /** The committed state for read-only views (see `CommittedStrategy`): a dormant strategy stays dormant. */
  committedView(): CommittedStrategy {
    // Only the three fields, whichever object holds them: the same shape dormant or live.
    const { value, context, status } = this.peekSnapshot();
    return { id: this.id, machine: this.machine, state: topLevelState(value), snapshot: { value, context, status } };
  }

  /** @internal An observed actor's snapshot changed: outside a transaction it is committed, and delays follow it. */
  actorChanged(ref: StrategyRef): void {
    if (this.openBefore !== null || ref !== this.ref) return;
    this.committed = ref.getSnapshot();
    this.delays.sync();
  }

  /** Own sends made while the actor starts (a delay overdue at a restore): sent once it has started. */
  private starting: MachineEvent[] | null = null;

  /** Sends an event of the runtime's own outside a transaction (a delay in memory, an after-the-fact hook failure). */
  protected sendOwn(event: MachineEvent): void {
    // XState would queue it until the start ends, and process it when nothing marks it as the runtime's.
    if (this.starting) return void this.starting.push(event);
    this.ownSends++;
    try {
      this.actor().send(event);
    } finally {
      this.ownSends--;
    }
  }

  /**
   * A delay fell due in memory (no `onDelay`): it takes the pipeline like a trigger, so an action
   * or guard given through `machine.provide()` that throws on the delayed transition refuses it
   * (`ACTOR_FAILED`, audited, the strategy back on its committed state) instead of failing the
   * actor for good. While the actor starts or a transaction is being computed, it is sent as the
   * runtime's own event, as before.
   */
  private fireDelay(event: AfterEvent & { at: number; dueAt: number }): void {
    if (this.starting || this.openBefore !== null) return this.sendOwn(event);
    // Fired from inside a listener of this strategy (it moved a simulated clock on): taken once the
    // records being published are heard by every listener, as XState queues an event sent then.
    if (this.publishing) return queueMicrotask(() => this.fireDelay(event));
    // The timer of a state just left is re-armed once the listeners heard the move: a listener that
    // moves a simulated clock past it fires it into the new state. That state does not wait for it.
    const pending = pendingDelay(this.machine, this.getSnapshot());
    if (pending?.type !== event.type || pending.dueAt !== event.dueAt) return;
    this.takeDelay(event);
  }

  /** Takes a delayed event that fell due down this strategy's pipeline (its after-the-fact hooks included). */
  protected abstract takeDelay(event: AfterEvent & { at: number; dueAt: number }): void;

  /**
   * What failed the actor during the open transaction's send (an action or guard given through
   * `machine.provide()` that threw): the pipeline refuses the event and restores the actor.
   */
  protected sendFailure: { error: unknown } | null = null;

  /** @internal The actor failed: inside the open transaction's send, kept for the pipeline (true); else not handled. */
  actorFailedInSend(ref: StrategyRef, error: unknown): boolean {
    if (ref !== this.ref || this.openBefore === null || this.ownSends === 0 || this.holding) return false;
    this.sendFailure = { error };
    return true;
  }

  /**
   * @internal The actor failed on an event that reached it around the runtime, outside any
   * transaction: an invoked actor's malformed bare `sendBack` (`undefined`, a string, as XState v4
   * took), or `actorRef.send`. A strategy holding a position must not be left answering
   * ACTOR_STOPPED to its emergency exit for a monitor's bug: like a foreign transition, it is put
   * back on its committed snapshot (readers see that one at once; the actor is made again on the
   * next microtask or trigger, its invoked actors restarted), and nothing is triggered. Not when
   * it fails as it starts (a restarted actor that sends such an event at once would loop): that
   * one stays failed.
   */
  actorFailedAround(ref: StrategyRef, error: unknown): boolean {
    if (ref !== this.ref || this.retired?.has(ref) || this.ownSends > 0 || this.starting !== null) return false;
    if (this.openBefore !== null && !this.holding) return false;
    const back = this.holding ? this.openBefore : this.committed;
    if (!back || back.status !== 'active') return false;
    console.error(
      `strategy ${this.id}: its actor failed on an event sent around the runtime (a bare sendBack or actorRef.send); ` +
        'put back on its committed state: send lifecycleRequest(event) from invoked actors',
      error,
    );
    this.foreign ??= [];
    if (this.holding) return true;
    this.openBefore = back;
    this.holding = true;
    queueMicrotask(() => this.settleForeign());
    return true;
  }

  /** @internal An observed actor ended; a replaced actor's end (a rollback stopped it) is not the strategy's. */
  actorEnded(ref: StrategyRef): void {
    if (!this.retired?.has(ref)) this.delays.stop();
  }

  /** Listens to an actor made by `spawn` and starts it. */
  protected wire(ref: StrategyRef): void {
    const emitted = (e: StrategyEmitted) => this.emitted(ref, e);
    ref.on('transition', emitted);
    ref.on('request', emitted);
    // One observer: its error handler also keeps a failure inside XState from being rethrown into the process.
    ref.subscribe(new ActorWatch(this, ref));
    this.ref = ref;
    this.contextBefore = ref.getSnapshot().context;
    // What a foreign event during the start (an actor's bare sendBack as it starts) is undone to.
    this.committed = ref.getSnapshot();
    const queued: MachineEvent[] = (this.starting = []);
    try {
      ref.start();
    } finally {
      this.starting = null;
    }
    if (!this.holding) this.committed = ref.getSnapshot();
    for (const event of queued) this.sendOwn(event);
  }

  /** What an actor emits: a record it wrote, or an event an invoked actor asks for. */
  protected emitted(ref: StrategyRef, emitted: StrategyEmitted): void {
    if (emitted.type === 'request') {
      // Invoked actors (machines/actors.ts) ask for events; the machine only announces them. Each one
      // takes the caller's path (validated, gated, audited, persisted), deferred so it never re-enters.
      const { event } = emitted;
      // Asked as it starts, by an actor a failed write's rollback restarted: it waits (see `failedWrites`).
      if (this.failedWrites > 0 && this.starting !== null) this.holdRequest(event, ref);
      else {
        const asked = this.askedIn(ref, event);
        queueMicrotask(() => this.deliverRequest(event, asked));
      }
      return;
    }
    const { record } = emitted;
    // An audit action replaced through `machine.provide()` may write no record: nothing to take.
    if (!record) return;
    // Not while the actor starts: undoing would restart the actor that sent it, which would send it again.
    if (this.ownSends === 0 && ref === this.ref && this.starting === null) return this.foreignRecord(record);
    if (this.openBefore && ref === this.ref) {
      if (this.openRecords) this.openRecords.push(record);
      else this.openRecords = [record];
      return;
    }
    // Outside a transaction (a delay in memory, a hook failure after a safety transition): committed as it happens.
    const wasBusy = this.busy;
    this.busy = true;
    try {
      this.publish(record, true);
    } finally {
      this.busy = wasBusy;
    }
    this.options.onUnwrittenRecord?.();
  }

  /**
   * A record the runtime did not ask for: an event reached the actor around the pipeline (an invoked
   * actor's bare `sendBack` instead of `lifecycleRequest`, `actorRef.send`), unvalidated, ungated
   * and unwritten. Nothing sees it: the actor is put back on the committed snapshot (at once for
   * readers, on the next microtask or trigger for the actor; an open transaction's commit or
   * rollback settles it), and an event the machine took is then triggered like any caller's.
   */
  private foreignRecord(record: TransitionRecord): void {
    const first = this.foreign === null;
    const events = (this.foreign ??= []);
    // A rejection or hook failure sent from outside is undone and not triggered again.
    if (record.accepted && record.code === undefined) events.push(triggerOfRecord(record) as StrategyEvent);
    if (!first) return;
    // Said once per strategy: an actor that always reports bare events would otherwise fill the log.
    if (!this.warnedForeign)
      console.error(
        `strategy ${this.id}: ${record.trigger} reached its actor around the runtime (a bare sendBack or actorRef.send); ` +
          'undone and triggered through the runtime instead: send lifecycleRequest(event) from invoked actors (said once per strategy)',
      );
    this.warnedForeign = true;
    if (this.openBefore !== null) return;
    this.openBefore = this.committed ?? null;
    this.holding = true;
    // The inspector sees only committed states: what the actor reports of the foreign transition
    // (its snapshot in the state it never committed) is held, and dropped when it is undone.
    const inspection = this.options.inspection;
    if (inspection && this.ref) inspection.claim(new Set([this.ref]), (this.foreignInspection = []));
    queueMicrotask(() => this.settleForeign());
  }

  /** What the inspector was told of the actor during a hold over a foreign transition (none held: null). */
  private foreignInspection: InspectionEvent[] | null = null;

  /** Ends a hold over a foreign transition: the actor back on the committed snapshot, its events triggered. */
  protected settleForeign(): void {
    if (!this.holding) return;
    const back = this.openBefore;
    this.openBefore = null;
    this.holding = false;
    const held = this.foreignInspection;
    this.foreignInspection = null;
    const inspection = this.options.inspection;
    const undone = this.ref;
    if (held) {
      inspection?.unclaim(held);
      inspection?.hold();
    }
    try {
      // Stopped meanwhile (removed, closed): nothing to put back, nothing to trigger.
      if (!back || this.ref?.getSnapshot().status === 'stopped') return void (this.foreign = null);
      this.undoForeign(back);
    } finally {
      // As a rollback shows it: of the undone actor only its stop, in the state it was committed in.
      if (held && inspection) {
        const events = [...held, ...inspection.take()];
        inspection.release(back ? settledInspection(events, (ref) => ref === undone, back) : events);
      }
    }
  }

  /** Puts the actor back on `back` and sends the foreign events down the trigger path (each deferred). */
  protected undoForeign(back: StrategySnapshot): void {
    const events = this.foreign ?? [];
    this.foreign = null;
    const contextBefore = this.contextBefore;
    this.restore(back, false);
    this.contextBefore = contextBefore;
    // Triggered in the stay put back: asked there, they stand while it lasts.
    const stay = this.askedIn(this.actor());
    for (const event of events) {
      const asked = this.standing(event, stay);
      queueMicrotask(() => this.deliverRequest(event, asked));
    }
    // The foreign transition stopped the actors of the state it left. Triggered again, the event may
    // be refused (trading HALTED): the strategy stays, and they must run again, or a position would
    // be left unwatched (here and, stored stopped, after a restart). Not at once: an actor that
    // reports bare again as it starts would loop. Once the events went their way, on the clock.
    if (events.length > 0) this.reviveLater(stayOf(back));
  }

  /** Foreign events undone in a row (their revivals wait longer each time: 100 ms, doubling, at most 30 s). */
  protected foreignUndos = 0;
  private reviveTimer: TimerHandle = undefined;

  /** After a backoff: if the strategy is still in `stay`, outside any transaction, its stopped invoked actors run again. */
  private reviveLater(stay: string): void {
    if (this.reviveTimer !== undefined) this.clock.clearTimeout(this.reviveTimer);
    const wait = backoffMs(this.foreignUndos++);
    this.reviveTimer = this.clock.setTimeout(() => {
      this.reviveTimer = undefined;
      const ref = this.ref;
      const now = ref?.getSnapshot();
      if (!ref || now?.status !== 'active') return;
      // A transaction under way: look again once it is over (it may be refused, and the stay go on).
      if (this.openBefore !== null || this.holding) return this.reviveLater(stay);
      if (stayOf(now) !== stay) return;
      const stopped = Object.values(now.children as Record<string, { getSnapshot(): { status: string } } | undefined>).some(
        (child) => child?.getSnapshot().status === 'stopped',
      );
      if (stopped) this.restore(now, true);
    }, wait);
  }

  /**
   * Transitions that failed since the last one committed: writes rolled back, and sends refused
   * because an action or guard threw (ACTOR_FAILED). Either restarts the invoked actors of the
   * state it returns to, and one that asks for an event as it starts (an analyzer that finds its
   * conditions met at once) would ask again at once: request, failure, restart, request... in
   * microtasks that never let a timer or I/O run. So after a failure, what an actor asks for as
   * it starts waits on the clock, longer after each failure in a row; what actors ask for later
   * goes at once, as always.
   */
  protected failedWrites = 0;
  /** Each with whether it still stands (see {@link askedIn}). */
  private heldRequests: Array<{ event: StrategyEvent; asked: RequestAsked }> = [];
  private heldTimer: TimerHandle = undefined;
  /** The actor whose invoked children asked for the held requests: another actor (a later stay) gets none of them but emergency exits. */
  private heldFor: StrategyRef | undefined = undefined;

  /** Delivers `event` after the backoff of the failures so far: 100 ms, doubling, at most 30 s. */
  private holdRequest(event: StrategyEvent, ref: StrategyRef): void {
    // An emergency exit is kept: it stands while a position is held (see {@link standing}).
    if (this.heldFor !== ref) this.heldRequests = this.heldRequests.filter((held) => held.event.type === 'EMERGENCY_EXIT');
    this.heldFor = ref;
    const asked = this.askedIn(ref, event);
    // An actor restarted again asks again: its request is held once (standing as the latest ask says).
    const same = this.heldRequests.find((held) => sameEvent(held.event, event));
    if (same) same.asked = asked;
    else this.heldRequests.push({ event, asked });
    if (this.heldTimer !== undefined) return;
    const wait = backoffMs(this.failedWrites - 1);
    this.heldTimer = this.clock.setTimeout(() => {
      this.heldTimer = undefined;
      const held = this.heldRequests;
      this.heldRequests = [];
      this.heldFor = undefined;
      for (const { event: e, asked: stands } of held) this.deliverRequest(e, stands);
    }, wait);
  }

  /** Forgets the requests held back (the strategy stops). */
  protected dropHeldRequests(): void {
    if (this.reviveTimer !== undefined) this.clock.clearTimeout(this.reviveTimer);
    this.reviveTimer = undefined;
    if (this.heldTimer !== undefined) this.clock.clearTimeout(this.heldTimer);
    this.heldTimer = undefined;
    this.heldRequests = [];
    this.heldFor = undefined;
  }

  /** Committed moves from one top-level state (or re-entries of one) so far: each ends the stay of the invoked actors there. */
  private moves = 0;
  /** Moves of the transaction being written (its records are the transaction's until it commits or rolls back). */
  protected movesInFlight = 0;

  /**
   * Whether a request an invoked actor of `ref` makes now still stands, asked later: no committed
   * move has left the top-level state it was asked in since (invoked actors run on top-level
   * states, so that state's actors, the asker among them, ran on all along), and the strategy is
   * in that state and running. A move left and entered again ends it; a substate move or a
   * transition that stays does not; nor does a rollback, which puts back the stay it undid (the
   * actors restarted by the restore are the same stay's). Moves of a transaction not yet
   * committed count as made, on both sides: asked inside one (an actor started by the transition
   * into its state), it stands once that commits, not if it is rolled back.
   */
  private askedIn(ref: StrategyRef, event?: StrategyEvent): RequestAsked {
    const state = topLevelState(ref.getSnapshot().value);
    const epoch = this.movesMade();
    const stay: RequestAsked = () => {
      const now = this.ref?.getSnapshot();
      return now?.status === 'active' && this.movesMade() === epoch && topLevelState(now.value) === state;
    };
    return event ? this.standing(event, stay) : stay;
  }

  /**
   * Whether `event`, asked in the stay `stay` checks, still stands. An EMERGENCY_EXIT outlives its
   * stay: it stands while the strategy runs and still holds a position (a state tagged
   * `holdsPosition`, contracts open), whatever moves came between (MANAGING to ADJUSTING): the
   * position it was asked to flatten is still there, and losing the exit could lose money. Flat
   * (CLOSED, an exit filled), it is dropped like any other stale request; so it is in ERROR,
   * where whoever put the strategy there (a position mismatch held for an operator, an operator's
   * hold) decides what follows: a stale exit would order a quantity that may no longer match the
   * broker's. Standing, it is triggered like any event: the machine accepts it or refuses it
   * (EXITING: the exit is already working), audited either way.
   */
  private standing(event: StrategyEvent, stay: RequestAsked): RequestAsked {
    if (event.type !== 'EMERGENCY_EXIT') return stay;
    return () => stay() || this.holdsPositionOutsideError();
  }

  /** Whether the strategy runs, outside ERROR, in a state that holds a position and has contracts open. */
  private holdsPositionOutsideError(): boolean {
    const now = this.ref?.getSnapshot();
    return now?.status === 'active' && now.hasTag('holdsPosition') && openQuantity(now.context) > 0 && topLevelState(now.value) !== 'ERROR';
  }

  /** {@link moves}, with those of the transaction under way. */
  private movesMade(): number {
    let made = this.moves + this.movesInFlight;
    if (this.openRecords) made += movesIn(this.openRecords);
    return made;
  }

  /**
   * Sends what an invoked actor asked for down the strategy's path, unless its stay is over when
   * it would be applied (`asked`; a queued path, `onRequest`, checks it at its turn).
   */
  protected deliverRequest(event: StrategyEvent, asked: RequestAsked | undefined): void {
    try {
      // Routed through a queue, the check is made at its turn there: a write in flight now may yet
      // be rolled back. A lone strategy's path is synchronous: checked here, applied at once.
      if (this.options.onRequest) this.options.onRequest(event, asked ?? (() => true));
      else if (!asked || asked()) this.request(event);
    } catch (error) {
      console.error(`strategy ${this.id}: an event its invoked actor asked for could not be delivered`, error);
    }
  }

  /**
   * Back to `before`: a fresh actor from its persisted form (public API), inspected like the first.
   * `revive`: the actors `before`'s states invoke run again (a rolled-back transition stopped those
   * of the states it left). An undone foreign event leaves them as they are: the event is triggered
   * again at once, and an actor restarted here would report it again, in a loop.
   */
  protected restore(before: StrategySnapshot, revive = true): void {
    let persisted = this.machine.getPersistedSnapshot(before);
    if (revive) persisted = withChildrenRunning(persisted);
    const replaced = this.actor();
    (this.retired ??= new WeakSet()).add(replaced);
    this.options.stopRef(replaced);
    // An actor an action or guard failed: XState reports neither its failure nor its stop, so the
    // inspector would show it running for good beside its replacement. Its end is reported here.
    const ended = replaced.getSnapshot();
    if (ended.status === 'error') this.options.inspection?.stopped(replaced, ended);
    this.wire(this.options.spawn(persisted));
  }

  /** True while a committed record's after-the-fact hooks and listeners run (see `fireDelay`). */
  private publishing = false;

  /** Publishes one committed record; `hooksAfter`: its hooks run now and cannot abort it. */
  protected publish(record: TransitionRecord, hooksAfter: boolean): void {
    const wasPublishing = this.publishing;
    this.publishing = true;
    try {
      this.publishRecord(record, hooksAfter);
    } finally {
      this.publishing = wasPublishing;
    }
  }

  private publishRecord(record: TransitionRecord, hooksAfter: boolean): void {
    this.trail.push(record);
    if (movedBy(record)) this.moves++;
    if (hooksAfter && this.withHooks && record.accepted && record.code === undefined) {
      const failure = runHooks(this.hooks, this.id, record, this.contextBefore as StrategyContext);
      if (failure) {
        const failed: HookFailedEvent & { at: number } = {
          type: 'lifecycle.hookFailed',
          hook: failure.hook,
          trigger: record.trigger,
          message: failure.message,
          after: true,
          at: record.at,
        };
        if (this.options.onHookFailure) this.options.onHookFailure(failed);
        else this.sendOwn(failed);
      }
    }
    this.contextBefore = this.actor().getSnapshot().context;
    if (this.listeners.size > 0) notifyListeners(this.listeners, this.id, record, this.options.onListenerError);
  }

  protected undelivered(code: RejectionCode, reason: string): TriggerResult {
    return undeliveredResult(topLevelState(this.getSnapshot().value), this.clock.now(), code, reason);
  }

  protected stoppedResult(): TriggerResult {
    return this.undelivered('ACTOR_STOPPED', `strategy ${this.id} is not running (${this.getSnapshot().status})`);
  }

  /** Takes an event an invoked actor asked for down this strategy's own trigger path. */
  protected abstract request(event: StrategyEvent): void;
}

/** A persisted child actor, as XState writes it in its parent's `children`. */
interface PersistedChild {
  snapshot?: { status?: string };
}

/**
 * `persisted` (a machine snapshot taken before a transition that is being undone) with its
 * children running. The snapshot's children are the actors that ran in its state; the transition
 * being undone stopped those of the states it left, and the persisted form reads each child's
 * status as it is now. Restored as `stopped`, a position monitor would never run again, here or
 * after a restart. A child that ended by itself (`done`, `error`) stays as it is.
 */
function withChildrenRunning<T>(persisted: T): T {
  const children = (persisted as { children?: Record<string, PersistedChild | undefined> }).children;
  if (!children) return persisted;
  let running: Record<string, PersistedChild | undefined> | undefined;
  for (const [id, child] of Object.entries(children)) {
    if (child?.snapshot?.status !== 'stopped') continue;
    running ??= { ...children };
    running[id] = { ...child, snapshot: { ...child.snapshot, status: 'active' } };
  }
  return running ? { ...persisted, children: running } : persisted;
}
