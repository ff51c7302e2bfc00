/**
 * One strategy's side of the event pipeline: the transition is computed once, on the real actor
 * (`actor.send`); its records are held back until the caller commits (after the store write) or
 * rolls back (the actor is replaced by a fresh one from the last committed snapshot). Listeners,
 * the audit trail, delay arming and notifications only ever see committed transitions.
 */
import type { ActorRefFrom, Snapshot } from 'xstate';
import { payloadOf } from '../../actions/audit.js';
import { definitionOf, type StrategyMachine, type StrategySnapshot } from '../../machines/createStrategyMachine.js';
import type { StrategyHook, StrategyHooks } from '../../machines/definition.js';
import { mustExist, type InvalidEventError, type RejectionCode } from '../../machines/errors.js';
import type { AfterEvent, MachineEvent, StrategyEvent } from '../../machines/events.js';
import { topLevelState } from '../../machines/states.js';
import type { StrategyContext, TransitionRecord } from '../../machines/types.js';
import { sentType, validateEvent } from '../../machines/validateEvent.js';
import type { Clock } from '../market/clock.js';
import { toMarketIso } from '../market/time.js';
import { AuditWindow, type ChunkCodec } from './auditWindow.js';
import { createDelayTimer } from './durableDelays.js';
import { createEventIdIndex } from './eventIdIndex.js';
import { runPipeline } from './pipeline.js';
import { hasNoEdge, refusalOf, rejectionEvent } from './rejection.js';
import type { StrategyActor, TransitionListener, TransitionNotice, TriggerResult } from './strategyActor.js';

type StrategyRef = ActorRefFrom<StrategyMachine>;

/** The records of a send that wrote none (shared, never written to). */
const NO_RECORDS: readonly TransitionRecord[] = Object.freeze([]);

/** Triggers a failing hook must never block: their hooks run after the transition. */
const SAFETY_TRIGGERS: readonly string[] = ['SYSTEM_ERROR', 'EMERGENCY_EXIT'];

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
}

/**
 * Audit records a strategy keeps in memory when nothing else bounds them (no store): the oldest is
 * dropped when a new one would pass it. A persistent system keeps a smaller window (`auditWindow`)
 * and reads older records from its store.
 */
export const DEFAULT_AUDIT_LIMIT = 10_000;

/** What {@link attachStrategy} needs to make (and remake, on a rollback) the strategy's actor. */
export interface AttachOptions {
  id: string;
  clock: Clock;
  /** Creates the actor, fresh or from a persisted snapshot; not started. */
  spawn(snapshot?: Snapshot<unknown>): StrategyRef;
  /** Stops an actor made by `spawn` (a child is stopped by its parent). */
  stopRef(ref: StrategyRef): void;
  hooks?: StrategyHooks;
  listeners?: Iterable<TransitionListener>;
  auditTrail?: TransitionRecord[];
  /** Most records kept in `auditTrail`, the oldest dropped first (default {@link DEFAULT_AUDIT_LIMIT}). */
  auditLimit?: number;
  /** Keep the records held compactly, packed with this codec and decoded on read (see AuditWindow); default: as written. */
  compactTrail?: ChunkCodec;
  onListenerError?: (error: unknown, notice: TransitionNotice) => void;
  /** `false` makes the public `trigger()` refuse: a persisted strategy's events go through its store first. */
  directTrigger?: boolean;
  /** Where a delayed transition goes when it falls due (the persistent system writes it first). */
  onDelay?: (event: AfterEvent & { at: number; dueAt: number }) => void;
  /**
   * Where an event an invoked actor asks for goes (the system gates it, the persistent system
   * writes it first); default: this strategy's own trigger path.
   */
  onRequest?: (event: StrategyEvent) => void;
}

function hookList(hooks: StrategyHooks, record: TransitionRecord, moved: boolean): Array<[string, StrategyHook]> {
  const list: Array<[string, StrategyHook]> = [];
  const { previousState: from, currentState: to } = record;
  if (moved && hooks.onExit?.[from]) list.push([`onExit(${from})`, hooks.onExit[from]]);
  if (hooks.onTransition) list.push(['onTransition', hooks.onTransition]);
  if (moved && hooks.onEnter?.[to]) list.push([`onEnter(${to})`, hooks.onEnter[to]]);
  return list;
}

const hasHooks = (hooks: StrategyHooks) =>
  Boolean(hooks.onTransition || Object.keys(hooks.onEnter ?? {}).length || Object.keys(hooks.onExit ?? {}).length);
const movedBy = (record: TransitionRecord) => record.previousState !== record.currentState || record.reentered === true;

/** Runs the hooks of a transition; returns the failing hook and its message, or null. */
function runHooks(
  hooks: StrategyHooks,
  strategyId: string,
  record: TransitionRecord,
  context: StrategyContext,
): { hook: string; message: string } | null {
  for (const [name, hook] of hookList(hooks, record, movedBy(record))) {
    try {
      const returned: unknown = hook({ strategyId, record, context });
      // Hooks are synchronous: a promise could never abort the transition and could hang for
      // ever, so an async hook fails (its promise is left to settle on its own).
      if (returned && typeof (returned as { then?: unknown }).then === 'function') {
        (returned as Promise<unknown>).then(undefined, () => undefined);
        return { hook: name, message: 'hooks must be synchronous, but this one returned a promise' };
      }
    } catch (error) {
      return { hook: name, message: error instanceof Error ? error.message : String(error) };
    }
  }
  return null;
}

/**
 * Wraps a strategy machine's actor, root or spawned child, with validated triggers, hooks,
 * listeners, the audit trail and the pipeline's begin / commit / rollback. Starts the actor.
 */
export function attachStrategy(machine: StrategyMachine, options: AttachOptions): StrategyHandle {
  const def = definitionOf(machine);
  const { id, clock } = options;
  const hooks = options.hooks ?? def?.hooks ?? {};
  const withHooks = hasHooks(hooks);
  // The records held in memory (see AuditWindow): the newest `auditLimit`, packed with `compactTrail`.
  const trail = new AuditWindow(options.auditLimit ?? DEFAULT_AUDIT_LIMIT, options.auditTrail, undefined, options.compactTrail);
  const listeners = new Set<TransitionListener>(options.listeners ?? []);
  // True while this strategy runs hooks, processes an event or notifies listeners: a trigger on
  // the same strategy from inside one of those cannot answer synchronously, so it is refused.
  let busy = false;
  /**
   * The transaction being computed or written (its last committed snapshot, or null): its records
   * are held back until it commits. Two variables, not an object: nothing is allocated per trigger.
   */
  let openBefore: StrategySnapshot | null = null;
  /** The records the open transaction's sends wrote so far (none yet: null). */
  let openRecords: TransitionRecord[] | null = null;
  let actorRef: StrategyRef;
  /** Actors replaced by a rollback. */
  const retired = new WeakSet<StrategyRef>();
  /** The duplicate check over the committed snapshot's event-id window. */
  const eventIds = createEventIdIndex();

  const notify = (record: TransitionRecord) => {
    if (listeners.size === 0) return;
    // The payload, then its type (the order `{ ...data, type }` gives), copied key by key: on Node 20 a
    // spread followed by a new key costs microseconds, and every listener of every record pays it.
    const event: Record<string, unknown> = {};
    const data = record.data;
    for (const key in data) event[key] = data[key];
    event.type = record.trigger;
    const notice: TransitionNotice = { strategyId: id, record, event: event as TransitionNotice['event'] };
    for (const listener of listeners) {
      try {
        listener(notice);
      } catch (error) {
        (options.onListenerError ?? ((e) => console.error(`strategy ${id}: transition listener threw`, e)))(error, notice);
      }
    }
  };

  /** The committed snapshot: while a transaction is open, the one before it. */
  const view = (): StrategySnapshot => openBefore ?? actorRef.getSnapshot();
  /** Context before the record being published: what after-the-fact hooks see. */
  let contextBefore: StrategyContext;

  /** Publishes one committed record; `hooksAfter`: its hooks run now and cannot abort it. */
  const publish = (record: TransitionRecord, hooksAfter: boolean) => {
    trail.push(record);
    if (hooksAfter && withHooks && record.accepted && record.code === undefined) {
      const failure = runHooks(hooks, id, record, contextBefore);
      if (failure)
        actorRef.send({
          type: 'lifecycle.hookFailed',
          hook: failure.hook,
          trigger: record.trigger,
          message: failure.message,
          after: true,
          at: record.at,
        });
    }
    contextBefore = actorRef.getSnapshot().context;
    notify(record);
  };

  // Delays are armed from every committed snapshot, restored ones included.
  const delays = createDelayTimer(machine, view, clock, options.onDelay ?? ((event) => actorRef.send(event)));

  /** Listens to an actor made by `spawn` and starts it. */
  const wire = (ref: StrategyRef) => {
    ref.on('transition', ({ record }) => {
      // An audit action replaced through `machine.provide()` may write no record: nothing to take.
      if (!record) return;
      if (openBefore && ref === actorRef) {
        if (openRecords) openRecords.push(record);
        else openRecords = [record];
        return;
      }
      // Outside a transaction (a delay in memory, a hook failure after a safety transition): committed as it happens.
      const wasBusy = busy;
      busy = true;
      try {
        publish(record, true);
      } finally {
        busy = wasBusy;
      }
    });
    // Invoked actors (machines/actors.ts) ask for events; the machine only announces them. Each one
    // takes the caller's path (validated, gated, audited, persisted), deferred so it never re-enters.
    ref.on('request', ({ event }) =>
      queueMicrotask(() => {
        try {
          (options.onRequest ?? ((e: StrategyEvent) => void runPipeline(handle, handle.prepare(e, undefined))))(event);
        } catch (error) {
          console.error(`strategy ${id}: an event its invoked actor asked for could not be delivered`, error);
        }
      }),
    );
    // A replaced actor's end (a rollback stopped it) is not the strategy's.
    const ended = () => retired.has(ref) || delays.stop();
    // One observer: its error handler also keeps a failure inside XState from being rethrown into the process.
    ref.subscribe({
      next: () => openBefore === null && delays.sync(),
      error: (error) => {
        ended();
        console.error(`strategy ${id}: actor failed`, error);
      },
      complete: ended,
    });
    actorRef = ref;
    contextBefore = ref.getSnapshot().context;
    ref.start();
  };

  /** Back to `before`: a fresh actor from its persisted form (public API), inspected like the first. */
  const restore = (before: StrategySnapshot) => {
    const persisted = machine.getPersistedSnapshot(before);
    retired.add(actorRef);
    options.stopRef(actorRef);
    wire(options.spawn(persisted));
  };

  const undelivered = (code: RejectionCode, reason: string): TriggerResult => {
    const state = topLevelState(view().value);
    const at = clock.now();
    const record: TransitionRecord = {
      seq: 0,
      timestamp: toMarketIso(at),
      at,
      previousState: state,
      currentState: state,
      trigger: '(not delivered)',
      data: {},
      message: reason,
      accepted: false,
      reason,
      code,
    };
    return { accepted: false, from: state, to: state, reason, code, record };
  };
  const stoppedResult = () => undelivered('ACTOR_STOPPED', `strategy ${id} is not running (${view().status})`);
  const lastSeq = () => view().context.lastRecord?.seq ?? 0;

  const prepare = (input: StrategyEvent, gate: TriggerGate | undefined): PreparedTrigger => {
    const snapshot = view();
    const seqBefore = snapshot.context.lastRecord?.seq ?? 0;
    if (snapshot.status !== 'active') return { kind: 'undelivered', result: stoppedResult() };
    // A clock that jumps backwards is treated as standing still until it catches up: a strategy's
    // trail never goes back in time and no duration is negative.
    const at = Math.max(clock.now(), snapshot.context.lastRecord?.at ?? -Infinity);
    const validation = validateEvent(input);
    if (!validation.ok) {
      return {
        kind: 'event',
        seqBefore,
        hooksAfter: false,
        error: validation.error,
        event: { type: 'lifecycle.rejected', trigger: sentType(input), reason: validation.error.message, code: 'INVALID_EVENT', at },
      };
    }
    // validateEvent returned a fresh object: stamping it is safe.
    const event = validation.event;
    event.at = at;
    const { type, eventId } = event;
    if (eventId !== undefined && eventIds.has(snapshot.context.recentEventIds, eventId)) {
      return {
        kind: 'event',
        seqBefore,
        hooksAfter: false,
        event: {
          type: 'lifecycle.rejected',
          trigger: type,
          reason: `duplicate eventId "${eventId}": already applied to ${id}`,
          code: 'DUPLICATE_EVENT',
          data: payloadOf(event),
          at,
          eventId,
        },
      };
    }
    const refusal = gate?.(topLevelState(snapshot.value), event, snapshot.context);
    if (refusal) return { kind: 'event', seqBefore, hooksAfter: false, event: rejectionEvent(event, refusal, at) };
    return { kind: 'event', seqBefore, hooksAfter: withHooks && SAFETY_TRIGGERS.includes(event.type), event };
  };

  /** Sends into the open transaction; returns the records it wrote so far. */
  const sendOpen = (event: MachineEvent): readonly TransitionRecord[] => {
    actorRef.send(event);
    return openRecords ?? NO_RECORDS;
  };

  const begin = (prepared: PreparedTrigger): Transaction | { kind: 'undelivered'; result: TriggerResult } => {
    if (prepared.kind === 'undelivered') return prepared;
    if (openBefore)
      return {
        kind: 'undelivered',
        result: undelivered('REENTRANT_TRIGGER', `strategy ${id} has a transition being written: wait for it`),
      };
    if (lastSeq() !== prepared.seqBefore)
      return {
        kind: 'undelivered',
        result: undelivered('REENTRANT_TRIGGER', `strategy ${id} moved on since this trigger was prepared: prepare it again`),
      };
    const before = actorRef.getSnapshot();
    if (before.status !== 'active') return { kind: 'undelivered', result: stoppedResult() };
    openBefore = before;
    openRecords = null;
    // A new trigger: the records of the one before it may be kept compactly now.
    trail.seal();
    let event = prepared.event;
    // The one computation: the real actor takes the event, unless the chart has no edge for it in
    // this state (memoised per state and type). No transition taken (XState keeps the same snapshot
    // object; an audit action replaced by one that writes no record still moves) is a refusal: it
    // is read from the machine and audited instead.
    const external = !event.type.startsWith('lifecycle.');
    let records = external && hasNoEdge(machine, before, event.type) ? NO_RECORDS : sendOpen(event);
    if (records.length === 0 && external && actorRef.getSnapshot() === before) {
      // The send took no transition: the snapshot refuses the event, so only the reason is asked.
      const refusal = refusalOf(machine, before, event, true) ?? {
        code: 'NO_EDGE' as const,
        reason: `${topLevelState(before.value)} has no edge for ${event.type}`,
      };
      records = sendOpen((event = rejectionEvent(event, refusal, mustExist(event.at, 'the stamped event time'))));
    }
    const first = records[0];
    if (first && withHooks && !prepared.hooksAfter && first.accepted && first.code === undefined) {
      const failure = runHooks(hooks, id, first, before.context);
      if (failure) {
        // A throwing hook aborts the transition: back to `before`, and the failure is audited instead.
        openBefore = null;
        restore(before);
        openBefore = before;
        openRecords = null;
        records = sendOpen(
          (event = {
            type: 'lifecycle.hookFailed',
            hook: failure.hook,
            trigger: prepared.event.type,
            message: failure.message,
            at: mustExist(event.at, 'the stamped event time'),
          }),
        );
      }
    }
    const tx: Transaction = {
      kind: 'open',
      before,
      after: actorRef.getSnapshot(),
      records: records as TransitionRecord[],
      event,
      hooksAfter: prepared.hooksAfter,
    };
    if (prepared.error) tx.error = prepared.error;
    // Later sends while the transaction is written (none from the runtime) start a new list.
    openRecords = null;
    return tx;
  };

  const commit = (tx: Transaction): TriggerResult => {
    openBefore = null;
    openRecords = null;
    for (const record of tx.records) publish(record, tx.hooksAfter);
    delays.sync();
    const record = tx.records[0];
    if (!record) return stoppedResult();
    const result: TriggerResult = { accepted: record.accepted, from: record.previousState, to: record.currentState, record };
    if (record.reason !== undefined) result.reason = record.reason;
    if (record.code !== undefined) result.code = record.code;
    if (tx.error) result.error = tx.error;
    return result;
  };

  const rollback = (tx: Transaction) => {
    openBefore = null;
    openRecords = null;
    if (tx.records.length > 0) restore(tx.before);
  };

  const guarded = <T>(run: () => T): T => {
    const wasBusy = busy;
    busy = true;
    try {
      return run();
    } finally {
      busy = wasBusy;
    }
  };
  const reentrant = () =>
    undelivered(
      'REENTRANT_TRIGGER',
      `trigger() on ${id} from inside its own hook or transition listener cannot answer synchronously: defer it (queueMicrotask, setImmediate or the clock)`,
    );

  const explain = (input: StrategyEvent): { code: RejectionCode; reason: string } | null => {
    const validation = validateEvent(input);
    if (!validation.ok) return { code: 'INVALID_EVENT', reason: validation.error.message };
    const snapshot = view();
    const event = validation.event;
    event.at = Math.max(clock.now(), snapshot.context.lastRecord?.at ?? -Infinity);
    if (event.eventId !== undefined && eventIds.has(snapshot.context.recentEventIds, event.eventId)) {
      return { code: 'DUPLICATE_EVENT', reason: `duplicate eventId "${event.eventId}": already applied to ${id}` };
    }
    return refusalOf(machine, snapshot, event);
  };

  wire(options.spawn(undefined));

  const handle: StrategyHandle = {
    id,
    machine,
    get actorRef() {
      // The root and every spawned child are made by XState's createActor, so each is an Actor instance.
      // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
      return actorRef as StrategyActor['actorRef'];
    },
    clock,
    get state() {
      return topLevelState(view().value);
    },
    trigger:
      options.directTrigger === false
        ? () => undelivered('STORE_REQUIRED', `strategy ${id} is persisted: send its events through the system, which writes them first`)
        : // The pipeline without a store: it answers at once.
          (event) => runPipeline(handle, handle.prepare(event, undefined)) as TriggerResult,
    can: (event) => explain(event) === null,
    explain,
    // Each step marks the strategy busy while it runs (written out: no closure per trigger).
    prepare(event, gate) {
      if (busy) return { kind: 'undelivered', result: reentrant() };
      busy = true;
      try {
        return prepare(event, gate);
      } finally {
        busy = false;
      }
    },
    begin(prepared) {
      const wasBusy = busy;
      busy = true;
      try {
        return begin(prepared);
      } finally {
        busy = wasBusy;
      }
    },
    commit(tx) {
      const wasBusy = busy;
      busy = true;
      try {
        return commit(tx);
      } finally {
        busy = wasBusy;
      }
    },
    rollback: (tx) => guarded(() => rollback(tx)),
    getSnapshot: view,
    getAuditTrail: () => trail.view(),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    getPersistedSnapshot: () => ({
      format: 'strategy-lifecycle/1',
      strategyId: id,
      variant: def?.id ?? machine.id,
      snapshot: structuredClone(machine.getPersistedSnapshot(view())),
      auditTrail: trail.toArray(),
    }),
    stop: () => {
      delays.stop();
      options.stopRef(actorRef);
    },
  };
  return handle;
}
