/**
 * One strategy's side of the event pipeline: the transition is computed once, on the real actor
 * (`actor.send`); its records are held back until the caller commits (after the store write) or
 * rolls back (the actor is replaced by a fresh one from the last committed snapshot). Listeners,
 * the audit trail, delay arming and notifications only ever see committed transitions.
 *
 * A handle is one object per strategy (a class: its methods live on the prototype), so holding
 * and creating ten thousand strategies costs their state, not a closure per method each.
 */
import type { ActorRefLike, InspectionEvent } from 'xstate';
import type { StrategyMachine, StrategySnapshot } from '../../machines/createStrategyMachine.js';
import { mustExist, type RejectionCode } from '../../machines/errors.js';
import type { AfterEvent, MachineEvent, StrategyEvent } from '../../machines/events.js';
import { topLevelState, type StrategyState } from '../../machines/states.js';
import type { TransitionRecord } from '../../machines/types.js';
import { runHooks } from './handleCallbacks.js';
import { committedResult, NO_RECORDS, undeliveredResult } from './handleResults.js';
import {
  DEFAULT_AUDIT_LIMIT,
  type AttachOptions,
  type PreparedTrigger,
  type StrategyHandle,
  type StrategyRef,
  type Transaction,
  type TriggerGate,
} from './handleTypes.js';
import { settledInspection } from './inspectionGate.js';
import { runPipeline } from './pipeline.js';
import { isThenable } from './settle.js';
import { explainTrigger, prepareTrigger } from './prepareTrigger.js';
import { actorFailedRefusal, hasNoEdge, noEdgeRefusal, refusalOf, rejectionEvent } from './rejection.js';
import type { PersistedStrategy, StrategyActor, TransitionListener, TriggerResult } from './strategyActor.js';
import { movesIn, StrategyCore } from './strategyCore.js';

export { DEFAULT_AUDIT_LIMIT };
export type { AttachOptions, PreparedTrigger, StrategyHandle, Transaction, TriggerGate };

type Undelivered = { kind: 'undelivered'; result: TriggerResult };

/**
 * Wraps a strategy machine's actor, root or spawned child, with validated triggers, hooks,
 * listeners, the audit trail and the pipeline's begin / commit / rollback. Starts the actor.
 *
 * @example
 * ```ts
 * const handle = attachStrategy(machine, {
 *   id: 'lt112-1',
 *   clock,
 *   spawn: (snapshot) => createActor(machine, { clock: parkedClock(clock), input, ...(snapshot ? { snapshot } : {}) }),
 *   stopRef: (ref) => ref.stop(),
 * });
 * handle.trigger({ type: 'MARKET_OPEN' });
 * ```
 */
export function attachStrategy(machine: StrategyMachine, options: AttachOptions): StrategyHandle {
  return new Handle(machine, options);
}

/** The handle {@link attachStrategy} returns: the public actor and the pipeline's steps over {@link StrategyCore}. */
class Handle extends StrategyCore implements StrategyHandle {
  constructor(machine: StrategyMachine, options: AttachOptions) {
    super(machine, options);
    // Bound, as XState binds an actor's `send`: `trigger` may be passed around on its own
    // (`events.forEach(strategy.trigger)`); the other methods are shared, unbound, on the prototype.
    this.trigger = this.trigger.bind(this);
  }

  protected request(event: StrategyEvent): void {
    void runPipeline(this, this.prepare(event, undefined));
  }

  protected takeDelay(event: AfterEvent & { at: number; dueAt: number }): void {
    const seqBefore = this.getSnapshot().context.lastRecord?.seq ?? 0;
    void runPipeline(this, { kind: 'event', event, seqBefore, hooksAfter: true });
    // Committed outside the system's write path (an in-memory system's strategy): its store is told.
    this.options.onUnwrittenRecord?.();
  }

  get actorRef(): StrategyActor['actorRef'] {
    // The root and every spawned child are made by XState's createActor, so each is an Actor instance.
    // A dormant strategy gets its actor first.
    this.actor();
    return this.ref as StrategyActor['actorRef'];
  }

  get state(): StrategyState {
    return topLevelState(this.getSnapshot().value);
  }

  getAuditTrail(): readonly TransitionRecord[] {
    return this.trail.view();
  }

  subscribe(listener: TransitionListener): () => void {
    this.actor();
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  getPersistedSnapshot(): PersistedStrategy {
    return {
      format: 'strategy-lifecycle/1',
      strategyId: this.id,
      variant: this.def?.id ?? this.machine.id,
      snapshot: structuredClone(this.machine.getPersistedSnapshot(this.getSnapshot())),
      auditTrail: this.trail.toArray(),
    };
  }

  stop(): void {
    this.delays.stop();
    this.dropHeldRequests();
    // A dormant strategy has no actor to stop: it stays without one.
    if (this.ref) this.options.stopRef(this.ref);
    else this.halted = true;
  }

  trigger(event: StrategyEvent): TriggerResult {
    if (!this.directTrigger)
      return this.undelivered(
        'STORE_REQUIRED',
        `strategy ${this.id} is persisted: send its events through the system, which writes them first`,
      );
    // A strategy of an in-memory system: the system's path (trading state, portfolio limits), which
    // answers at once over its synchronous store. Stopped (removed): its own pipeline says so.
    const { systemTrigger } = this.options;
    if (systemTrigger && this.getSnapshot().status === 'active') {
      const result = systemTrigger(event);
      if (!isThenable(result)) return result;
      result.catch(() => undefined);
      return this.undelivered(
        'STORE_REQUIRED',
        `strategy ${this.id}: its system answers asynchronously: send its events through the system`,
      );
    }
    // The pipeline without a store: it answers at once.
    return runPipeline(this, this.prepare(event, undefined)) as TriggerResult;
  }

  can(event: StrategyEvent): boolean {
    return this.explain(event) === null;
  }

  explain(event: StrategyEvent): { code: RejectionCode; reason: string } | null {
    const snapshot = this.getSnapshot();
    // What `trigger` would answer: a stopped strategy accepts nothing.
    if (snapshot.status !== 'active') return { code: 'ACTOR_STOPPED', reason: `strategy ${this.id} is not running (${snapshot.status})` };
    const check = this.options.explainGate;
    return explainTrigger(this, snapshot, event, check && ((state, e, context) => check(this, state, e, context)));
  }

  // Each pipeline step marks the strategy busy while it runs (written out: no closure per trigger).
  prepare(event: StrategyEvent, gate: TriggerGate | undefined): PreparedTrigger {
    if (this.busy)
      return {
        kind: 'undelivered',
        result: this.undelivered(
          'REENTRANT_TRIGGER',
          `trigger() on ${this.id} from inside its own hook or transition listener cannot answer synchronously: defer it (queueMicrotask, setImmediate or the clock)`,
        ),
      };
    // An event that came around the runtime is undone first (see `foreignRecord`).
    if (this.holding) this.settleForeign();
    this.busy = true;
    try {
      return this.prepareEvent(event, gate);
    } finally {
      this.busy = false;
    }
  }

  begin(prepared: PreparedTrigger): Transaction | Undelivered {
    if (this.holding) this.settleForeign();
    const wasBusy = this.busy;
    this.busy = true;
    // What the inspector sees of the computation waits for the commit or the rollback.
    const inspection = this.options.inspection;
    inspection?.hold();
    let taken = false;
    try {
      const result = this.beginTransition(prepared);
      if (inspection) {
        taken = true;
        const held = inspection.take();
        if (result.kind === 'open') {
          // Until it commits or rolls back, what its actor and the actors it started report waits too.
          const actors = new Set<ActorRefLike>([this.actor()]);
          for (const event of held) if (event.type === '@xstate.actor') actors.add(event.actorRef);
          inspection.claim(actors, held);
          result.inspection = held;
        } else inspection.release(this.settledInspection(held, this.getSnapshot()));
      }
      return result;
    } finally {
      if (inspection && !taken) inspection.release(inspection.take());
      this.busy = wasBusy;
    }
  }

  /** Held inspection events as they may be shown: see `settledInspection` (inspectionGate.ts). */
  private settledInspection(events: readonly InspectionEvent[], committed: StrategySnapshot): InspectionEvent[] {
    const retired = this.retired;
    return settledInspection(events, (ref) => retired?.has(ref as StrategyRef) === true, committed);
  }

  commit(tx: Transaction): TriggerResult {
    const wasBusy = this.busy;
    this.busy = true;
    if (tx.inspection) {
      this.options.inspection?.unclaim(tx.inspection);
      this.options.inspection?.release(this.settledInspection(tx.inspection, tx.before));
    }
    try {
      this.openBefore = null;
      this.openRecords = null;
      this.movesInFlight = 0; // published below
      // A transition went through (an ACTOR_FAILED refusal is the failure itself, not a way out of it).
      if (tx.records[0]?.code !== 'ACTOR_FAILED') this.failedWrites = 0;
      if (tx.records[0]?.accepted) this.foreignUndos = 0;
      // An event that came around the runtime while the write was under way: back to what was written.
      if (this.foreign) this.undoForeign(tx.after);
      for (const record of tx.records) this.publish(record, tx.hooksAfter);
      // (Unless an actor restarted above sent a bare event as it started: that one is held and settled next.)
      if (!this.holding) this.committed = this.actor().getSnapshot();
      this.delays.sync();
      const record = tx.records[0];
      return record ? committedResult(record, tx.error) : this.stoppedResult();
    } finally {
      this.busy = wasBusy;
    }
  }

  rollback(tx: Transaction): void {
    const wasBusy = this.busy;
    this.busy = true;
    // The undone transition is never shown: only the replaced actor's stop, in its committed state.
    const inspection = this.options.inspection;
    if (tx.inspection) inspection?.unclaim(tx.inspection);
    inspection?.hold();
    try {
      this.openBefore = null;
      this.openRecords = null;
      this.movesInFlight = 0;
      // Until a write commits again, what the revived invoked actors ask for waits (see `emitted`).
      this.failedWrites++;
      if (this.foreign) this.undoForeign(tx.before);
      else if (tx.records.length > 0) this.restore(tx.before);
    } finally {
      if (inspection) inspection.release(this.settledInspection([...(tx.inspection ?? []), ...inspection.take()], tx.before));
      this.busy = wasBusy;
    }
  }

  private prepareEvent(input: StrategyEvent, gate: TriggerGate | undefined): PreparedTrigger {
    const snapshot = this.getSnapshot();
    if (snapshot.status !== 'active') return { kind: 'undelivered', result: this.stoppedResult() };
    return prepareTrigger(this, snapshot, input, gate, this.withHooks);
  }

  /** Sends into the open transaction; returns the records it wrote so far. */
  private sendOpen(event: MachineEvent): readonly TransitionRecord[] {
    this.ownSends++;
    try {
      this.actor().send(event);
    } finally {
      this.ownSends--;
    }
    return this.openRecords ?? NO_RECORDS;
  }

  /**
   * Takes back the failure of the send just made (an action or guard that threw failed the actor),
   * or null when it did not fail: the actor is replaced by a fresh one from `before`, as a
   * rollback does, and the transaction stays open on it.
   */
  private takeSendFailure(before: StrategySnapshot): { error: unknown } | null {
    const failure = this.sendFailure;
    if (!failure) return null;
    this.sendFailure = null;
    // Like a failed write: what the restarted actors ask for as they start waits (see `failedWrites`).
    this.failedWrites++;
    this.openBefore = null;
    this.restore(before);
    this.openBefore = before;
    this.openRecords = null;
    console.error(
      `strategy ${this.id}: an action or guard threw; the event is refused (ACTOR_FAILED) and the strategy restored`,
      failure.error,
    );
    return failure;
  }

  /** Not even the refusal's record could be taken (the audit action itself throws): nothing is written. */
  private failedTwice(before: StrategySnapshot, reason: string): Undelivered {
    this.openBefore = null;
    this.openRecords = null;
    return { kind: 'undelivered', result: undeliveredResult(topLevelState(before.value), this.clock.now(), 'ACTOR_FAILED', reason) };
  }

  private beginTransition(prepared: PreparedTrigger): Transaction | Undelivered {
    if (prepared.kind === 'undelivered') return prepared;
    if (this.openBefore)
      return {
        kind: 'undelivered',
        result: this.undelivered('REENTRANT_TRIGGER', `strategy ${this.id} has a transition being written: wait for it`),
      };
    if ((this.getSnapshot().context.lastRecord?.seq ?? 0) !== prepared.seqBefore)
      return {
        kind: 'undelivered',
        result: this.undelivered('REENTRANT_TRIGGER', `strategy ${this.id} moved on since this trigger was prepared: prepare it again`),
      };
    const before = this.actor().getSnapshot();
    if (before.status !== 'active') return { kind: 'undelivered', result: this.stoppedResult() };
    this.openBefore = before;
    this.openRecords = null;
    // A new trigger: the records of the one before it may be kept compactly now.
    this.trail.seal();
    let event = prepared.event;
    // The one computation: the real actor takes the event, unless the chart has no edge for it in
    // this state (memoised per state and type). No transition taken (XState keeps the same snapshot
    // object; an audit action replaced by one that writes no record still moves) is a refusal: it
    // is read from the machine and audited instead.
    const external = !event.type.startsWith('lifecycle.');
    const noEdge = external && hasNoEdge(this.machine, before, event.type);
    let records = noEdge ? NO_RECORDS : this.sendOpen(event);
    const thrown = noEdge ? null : this.takeSendFailure(before);
    if (thrown !== null) {
      // An action or guard given through `machine.provide()` threw: XState failed the actor. The
      // event is refused and audited like a failing hook; the strategy runs on from `before`.
      const refusal = actorFailedRefusal(event.type, topLevelState(before.value), thrown.error);
      records = this.sendOpen((event = rejectionEvent(event, refusal, mustExist(event.at, 'the stamped event time'))));
      if (this.takeSendFailure(before) !== null) return this.failedTwice(before, refusal.reason);
    } else if (records.length === 0 && external && this.actor().getSnapshot() === before) {
      // The send took no transition (or no edge exists): the snapshot refuses the event, so only the reason is asked.
      const state = topLevelState(before.value);
      const refusal = noEdge
        ? noEdgeRefusal(state, event.type)
        : (refusalOf(this.machine, before, event, true) ?? noEdgeRefusal(state, event.type));
      records = this.sendOpen((event = rejectionEvent(event, refusal, mustExist(event.at, 'the stamped event time'))));
    }
    const first = records[0];
    if (first && this.withHooks && !prepared.hooksAfter && first.accepted && first.code === undefined) {
      const failure = runHooks(this.hooks, this.id, first, before.context);
      if (failure) {
        // A throwing hook aborts the transition: back to `before`, and the failure is audited instead.
        this.openBefore = null;
        this.restore(before);
        this.openBefore = before;
        this.openRecords = null;
        const at = mustExist(event.at, 'the stamped event time');
        event = { type: 'lifecycle.hookFailed', hook: failure.hook, trigger: prepared.event.type, message: failure.message, at };
        records = this.sendOpen(event);
        const thrown = this.takeSendFailure(before);
        if (thrown !== null)
          return this.failedTwice(
            before,
            `the record of a failing ${failure.hook} hook could not be taken: ${actorFailedRefusal(event.type, topLevelState(before.value), thrown.error).reason}`,
          );
      }
    }
    const tx: Transaction = {
      kind: 'open',
      before,
      after: this.actor().getSnapshot(),
      records: records as TransitionRecord[],
      event,
      hooksAfter: prepared.hooksAfter,
    };
    if (prepared.error) tx.error = prepared.error;
    // Later sends while the transaction is written (none from the runtime) start a new list.
    this.openRecords = null;
    this.movesInFlight = movesIn(tx.records);
    return tx;
  }
}
