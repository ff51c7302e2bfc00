import { createActor, transition, type Actor, type ActorRefFrom, type InspectionEvent, type Observer, type Snapshot } from 'xstate';
import { payloadOf } from '../../actions/audit.js';
import { definitionOf, type StrategyMachine, type StrategySnapshot } from '../../machines/createStrategyMachine.js';
import type { StrategyHook, StrategyHooks } from '../../machines/definition.js';
import { type InvalidEventError, SnapshotRestoreError, type RejectionCode } from '../../machines/errors.js';
import type { AfterEvent, MachineEvent, StrategyEvent } from '../../machines/events.js';
import { topLevelState, type StrategyState } from '../../machines/states.js';
import type { StrategyContext, TransitionRecord } from '../../machines/types.js';
import { sentType, validateEvent } from '../../machines/validateEvent.js';
import { realClock, type Clock } from '../market/clock.js';
import { createDelayTimer, parkedClock } from './durableDelays.js';
import { refusalOf, rejectionEvent } from './rejection.js';
import { toMarketIso } from '../market/time.js';

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

/** The persisted form of a strategy: XState's persisted snapshot plus the audit trail. */
export interface PersistedStrategy {
  format: 'strategy-lifecycle/1';
  strategyId: string;
  variant: string;
  snapshot: Snapshot<unknown>;
  auditTrail: TransitionRecord[];
}

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
}

/** A running strategy: validated, audited triggers over a real XState actor. */
export interface StrategyActor {
  readonly id: string;
  readonly machine: StrategyMachine;
  /** The XState actor underneath, for `subscribe`, `getSnapshot` and tooling. */
  readonly actorRef: Actor<StrategyMachine>;
  readonly clock: Clock;
  /** The current top-level state. */
  readonly state: StrategyState;
  /**
   * Applies one event and answers at once. Unknown types, malformed payloads and duplicate
   * `eventId`s are rejected with a reason and an audit record; it never throws for bad input.
   */
  trigger(event: StrategyEvent): TriggerResult;
  /**
   * Whether the strategy would accept `event` now: false for an invalid event, no edge or a
   * failing guard. Changes nothing (XState's `snapshot.can`, after the same validation).
   */
  can(event: StrategyEvent): boolean;
  /** Why `event` would be refused now (code and reason, as the audit would say), or null. Changes nothing. */
  explain(event: StrategyEvent): { code: RejectionCode; reason: string } | null;
  getSnapshot(): StrategySnapshot;
  /** The whole audit trail, oldest first. */
  getAuditTrail(): readonly TransitionRecord[];
  /** Receives every record with its event; returns the unsubscribe function. */
  subscribe(listener: TransitionListener): () => void;
  /** A JSON-safe snapshot (machine state, context with deadlines, audit trail) to restore later. */
  getPersistedSnapshot(): PersistedStrategy;
  stop(): void;
}

/** Triggers a failing hook must never block: their hooks run after the transition. */
const SAFETY_TRIGGERS: readonly string[] = ['SYSTEM_ERROR', 'EMERGENCY_EXIT'];

function hookList(hooks: StrategyHooks, record: TransitionRecord, moved: boolean): Array<[string, StrategyHook]> {
  const list: Array<[string, StrategyHook]> = [];
  const { previousState: from, currentState: to } = record;
  if (moved && hooks.onExit?.[from]) list.push([`onExit(${from})`, hooks.onExit[from]]);
  if (hooks.onTransition) list.push(['onTransition', hooks.onTransition]);
  if (moved && hooks.onEnter?.[to]) list.push([`onEnter(${to})`, hooks.onEnter[to]]);
  return list;
}

function hasHooks(hooks: StrategyHooks): boolean {
  return Boolean(hooks.onTransition || Object.keys(hooks.onEnter ?? {}).length || Object.keys(hooks.onExit ?? {}).length);
}

/** Runs the hooks of a transition; returns the failing hook and its message, or null. */
function runHooks(hooks: StrategyHooks, strategyId: string, record: TransitionRecord, context: StrategyContext, moved: boolean): { hook: string; message: string } | null {
  for (const [name, hook] of hookList(hooks, record, moved)) {
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
 * A system-level check run on a valid, non-duplicate event before it reaches the strategy
 * (trading state, portfolio limits): a rejection with its code and reason, or null to let it in.
 */
export type TriggerGate = (state: StrategyState, event: StrategyEvent, context: StrategyContext) => { code: RejectionCode; reason: string } | null;

/** What a trigger will send into the machine, decided before anything changes. */
export type PreparedTrigger =
  | { kind: 'undelivered'; result: TriggerResult }
  | { kind: 'event'; event: MachineEvent; seqBefore: number; hooksAfter: boolean; error?: InvalidEventError };

/** A strategy handle with the system's extras; not part of the public API. */
export interface StrategyHandle extends StrategyActor {
  /** `trigger` with a system gate between validation and the transition. */
  triggerGated(event: StrategyEvent, gate: TriggerGate | undefined): TriggerResult;
  /** First half of a trigger: validation, duplicates, gate and hooks; changes nothing. */
  prepare(event: StrategyEvent, gate: TriggerGate | undefined): PreparedTrigger;
  /** Second half: applies a prepared trigger (refused if the strategy moved on meanwhile). */
  commit(prepared: PreparedTrigger): TriggerResult;
}

/** What {@link attachStrategy} needs besides the actor. */
export interface AttachOptions {
  id: string;
  clock: Clock;
  hooks?: StrategyHooks;
  listeners?: Iterable<TransitionListener>;
  auditTrail?: TransitionRecord[];
  onListenerError?: (error: unknown, notice: TransitionNotice) => void;
  /** How to stop the actor (a child is stopped by its parent); default `actorRef.stop()`. */
  stop?: () => void;
  /** `false` makes the public `trigger()` refuse: a persisted strategy's events go through its store first. */
  directTrigger?: boolean;
  /**
   * Where a delayed transition goes when it falls due (the persistent system writes it first);
   * default: straight into the strategy, its hooks run after it.
   */
  onDelay?: (event: AfterEvent & { at: number; dueAt: number }) => void;
}

/**
 * Wraps a strategy machine's actor, root or spawned child, with validated triggers, hooks,
 * listeners and the audit trail. Call before the actor starts so no record is missed.
 */
export function attachStrategy(machine: StrategyMachine, actorRef: ActorRefFrom<StrategyMachine>, options: AttachOptions): StrategyHandle {
  const def = definitionOf(machine);
  const { id, clock } = options;
  const hooks = options.hooks ?? def?.hooks ?? {};
  const withHooks = hasHooks(hooks);
  const trail: TransitionRecord[] = options.auditTrail ?? [];
  const listeners = new Set<TransitionListener>(options.listeners ?? []);
  let inTrigger = false;
  // True while this strategy runs hooks, processes an event or notifies listeners: a trigger on
  // the same strategy from inside one of those cannot answer synchronously, so it is refused.
  let busy = false;

  const notify = (record: TransitionRecord) => {
    if (listeners.size === 0) return;
    const notice: TransitionNotice = { strategyId: id, record, event: { ...record.data, type: record.trigger } };
    for (const listener of listeners) {
      try {
        listener(notice);
      } catch (error) {
        (options.onListenerError ?? ((e) => console.error(`strategy ${id}: transition listener threw`, e)))(error, notice);
      }
    }
  };

  actorRef.on('transition', ({ record }) => {
    const wasBusy = busy;
    busy = true;
    try {
      onRecord(record);
    } finally {
      busy = wasBusy;
    }
  });

  /** The context as it was before the record being processed: what after-the-fact hooks see. */
  let contextBefore = actorRef.getSnapshot().context;
  /** Set while a safety trigger is delivered: its hooks run after it and cannot abort it. */
  let hooksAfter = false;

  const onRecord = (record: TransitionRecord) => {
    trail.push(record);
    // Deadline-driven transitions happen outside trigger(), and safety triggers (SYSTEM_ERROR,
    // EMERGENCY_EXIT) must never be blocked by a hook: their hooks run after the fact, and a
    // failure is still audited and counted, but the transition stands.
    if ((!inTrigger || hooksAfter) && withHooks && record.accepted && record.code === undefined) {
      const failure = runHooks(hooks, id, record, contextBefore, record.previousState !== record.currentState || record.reentered === true);
      if (failure) actorRef.send({ type: 'lifecycle.hookFailed', hook: failure.hook, trigger: record.trigger, message: failure.message, after: true, at: record.at });
    }
    contextBefore = actorRef.getSnapshot().context;
    notify(record);
  };

  const lastSeq = () => actorRef.getSnapshot().context.lastRecord?.seq ?? 0;

  // Delays are armed from every committed snapshot, restored ones included.
  const delays = createDelayTimer(machine, () => actorRef.getSnapshot(), clock, options.onDelay ?? ((event) => actorRef.send(event)));
  actorRef.subscribe({ next: () => delays.sync(), error: () => delays.stop(), complete: () => delays.stop() });

  /** A trigger that was not delivered: a result with a record that is not part of the trail. */
  const undelivered = (snapshot: StrategySnapshot, code: RejectionCode, reason: string): TriggerResult => {
    const state = topLevelState(snapshot.value);
    const at = clock.now();
    const record: TransitionRecord = { seq: 0, timestamp: toMarketIso(at), at, previousState: state, currentState: state, trigger: '(not delivered)', data: {}, message: reason, accepted: false, reason, code };
    return { accepted: false, from: state, to: state, reason, code, record };
  };
  const stoppedResult = (snapshot: StrategySnapshot) => undelivered(snapshot, 'ACTOR_STOPPED', `strategy ${id} is not running (${snapshot.status})`);

  /** The result of the first record written since `seqBefore` (later ones are follow-ups, e.g. a failed hook). */
  const resultOf = (seqBefore: number, error?: InvalidEventError): TriggerResult => {
    const snapshot = actorRef.getSnapshot();
    const last = snapshot.context.lastRecord;
    if (!last || last.seq === seqBefore) return stoppedResult(snapshot);
    const record = trail[trail.length - (last.seq - seqBefore)] ?? last;
    const result: TriggerResult = { accepted: record.accepted, from: record.previousState, to: record.currentState, record };
    if (record.reason !== undefined) result.reason = record.reason;
    if (record.code !== undefined) result.code = record.code;
    if (error) result.error = error;
    return result;
  };

  const send = (event: MachineEvent) => {
    inTrigger = true;
    try {
      actorRef.send(event);
    } finally {
      inTrigger = false;
    }
  };

  const triggerGated = (input: StrategyEvent, gate: TriggerGate | undefined): TriggerResult => {
    if (busy) {
      return undelivered(actorRef.getSnapshot(), 'REENTRANT_TRIGGER', `trigger() on ${id} from inside its own hook or transition listener cannot answer synchronously: defer it (queueMicrotask, setImmediate or the clock)`);
    }
    busy = true;
    try {
      return deliver(input, gate);
    } finally {
      busy = false;
    }
  };

  /**
   * Decides what a trigger sends into the machine, without changing anything: the event itself,
   * or the rejection or hook failure that replaces it. Hooks run here, before any commit.
   */
  const prepare = (input: StrategyEvent, gate: TriggerGate | undefined): PreparedTrigger => {
    const seqBefore = lastSeq();
    if (actorRef.getSnapshot().status !== 'active') return { kind: 'undelivered', result: stoppedResult(actorRef.getSnapshot()) };
    // A clock that jumps backwards is treated as standing still until it catches up: a strategy's
    // trail never goes back in time and no duration is negative.
    const at = Math.max(clock.now(), actorRef.getSnapshot().context.lastRecord?.at ?? -Infinity);
    const validation = validateEvent(input);
    if (!validation.ok) {
      return { kind: 'event', seqBefore, hooksAfter: false, error: validation.error, event: { type: 'lifecycle.rejected', trigger: sentType(input), reason: validation.error.message, code: 'INVALID_EVENT', at } };
    }
    // validateEvent returned a fresh object: stamping it is safe.
    const event = validation.event;
    event.at = at;
    const snapshot = actorRef.getSnapshot();
    const context = snapshot.context;
    const { type, eventId } = event;
    if (eventId !== undefined && context.recentEventIds.includes(eventId)) {
      return { kind: 'event', seqBefore, hooksAfter: false, event: { type: 'lifecycle.rejected', trigger: type, reason: `duplicate eventId "${eventId}": already applied to ${id}`, code: 'DUPLICATE_EVENT', data: payloadOf(event), at, eventId } };
    }
    const refusal = gate?.(topLevelState(snapshot.value), event, context) ?? refusalOf(machine, snapshot, event);
    if (refusal) return { kind: 'event', seqBefore, hooksAfter: false, event: rejectionEvent(event, refusal, at) };
    if (withHooks && SAFETY_TRIGGERS.includes(event.type)) return { kind: 'event', seqBefore, hooksAfter: true, event };
    if (withHooks) {
      // Hooks run before the commit, on the transition XState computes purely (its public
      // `transition`) from the same snapshot and event; a throw aborts it so the state stays put.
      const [next] = transition(machine, snapshot, event);
      const planned = next.context.lastRecord;
      if (planned && planned.seq > seqBefore && planned.accepted) {
        const moved = planned.previousState !== planned.currentState || planned.reentered === true;
        const failure = runHooks(hooks, id, planned, context, moved);
        if (failure) {
          return { kind: 'event', seqBefore, hooksAfter: false, event: { type: 'lifecycle.hookFailed', hook: failure.hook, trigger: event.type, message: failure.message, at } };
        }
      }
    }
    return { kind: 'event', seqBefore, hooksAfter: false, event };
  };

  /** Sends what {@link prepare} decided and answers with the record it wrote. */
  const commit = (prepared: PreparedTrigger): TriggerResult => {
    if (prepared.kind === 'undelivered') return prepared.result;
    if (lastSeq() !== prepared.seqBefore) {
      return undelivered(actorRef.getSnapshot(), 'REENTRANT_TRIGGER', `strategy ${id} moved on since this trigger was prepared: prepare it again`);
    }
    hooksAfter = prepared.hooksAfter;
    try {
      send(prepared.event);
    } finally {
      hooksAfter = false;
    }
    return resultOf(prepared.seqBefore, prepared.error);
  };

  const deliver = (input: StrategyEvent, gate: TriggerGate | undefined): TriggerResult => commit(prepare(input, gate));

  const explain = (input: StrategyEvent): { code: RejectionCode; reason: string } | null => {
    const validation = validateEvent(input);
    if (!validation.ok) return { code: 'INVALID_EVENT', reason: validation.error.message };
    const snapshot = actorRef.getSnapshot();
    const event = validation.event;
    event.at = Math.max(clock.now(), snapshot.context.lastRecord?.at ?? -Infinity);
    if (event.eventId !== undefined && snapshot.context.recentEventIds.includes(event.eventId)) {
      return { code: 'DUPLICATE_EVENT', reason: `duplicate eventId "${event.eventId}": already applied to ${id}` };
    }
    return refusalOf(machine, snapshot, event);
  };

  return {
    id,
    machine,
    // XState makes every actor ref, a spawned child's too, as an Actor; its declared type is the interface.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
    actorRef: actorRef as Actor<StrategyMachine>,
    clock,
    get state() {
      return topLevelState(actorRef.getSnapshot().value);
    },
    trigger:
      options.directTrigger === false
        ? () => undelivered(actorRef.getSnapshot(), 'STORE_REQUIRED', `strategy ${id} is persisted: send its events through the system, which writes them first`)
        : (event) => triggerGated(event, undefined),
    triggerGated,
    can: (event) => explain(event) === null,
    explain: (event) => explain(event),
    prepare: (event, gate) => {
      if (busy) return { kind: 'undelivered', result: undelivered(actorRef.getSnapshot(), 'REENTRANT_TRIGGER', `prepare() on ${id} from inside its own hook or listener`) };
      busy = true;
      try {
        return prepare(event, gate);
      } finally {
        busy = false;
      }
    },
    commit: (prepared) => {
      busy = true;
      try {
        return commit(prepared);
      } finally {
        busy = false;
      }
    },
    getSnapshot: () => actorRef.getSnapshot(),
    getAuditTrail: () => trail,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    getPersistedSnapshot: () => ({
      format: 'strategy-lifecycle/1',
      strategyId: id,
      variant: def?.id ?? machine.id,
      snapshot: structuredClone(actorRef.getPersistedSnapshot()),
      auditTrail: trail.slice(),
    }),
    stop: () => {
      delays.stop();
      (options.stop ?? (() => actorRef.stop()))();
    },
  };
}

/** Checks that `snapshot` is a persisted strategy of `machine`'s variant. */
export function checkPersistedStrategy(machine: StrategyMachine, snapshot: PersistedStrategy): void {
  const def = definitionOf(machine);
  if (snapshot?.format !== 'strategy-lifecycle/1' || !snapshot.snapshot || !Array.isArray(snapshot.auditTrail)) {
    throw new SnapshotRestoreError('snapshot is not a strategy-lifecycle/1 persisted strategy');
  }
  if (def && snapshot.variant !== def.id) {
    throw new SnapshotRestoreError(`snapshot of variant "${snapshot.variant}" cannot restore into machine "${def.id}"`);
  }
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
 * @throws {SnapshotRestoreError} when `options.snapshot` is not a snapshot of this variant.
 */
export function createStrategyActor(machine: StrategyMachine, options: StrategyActorOptions = {}): StrategyActor {
  const def = definitionOf(machine);
  const clock = options.clock ?? realClock;
  const restored = options.snapshot;
  if (restored !== undefined) checkPersistedStrategy(machine, restored);
  const id = restored?.strategyId ?? options.id ?? def?.id ?? machine.id;
  const actorRef = createActor(machine, {
    // The runtime arms delays itself, durably (see durableDelays.ts); XState's copies are parked.
    clock: parkedClock(clock),
    input: { strategyId: id, params: options.params, createdAt: clock.now() },
    ...(restored ? { snapshot: restored.snapshot } : {}),
    ...(options.inspect ? { inspect: options.inspect } : {}),
    ...(options.systemId ? { systemId: options.systemId } : {}),
  });
  const handle = attachStrategy(machine, actorRef, {
    id,
    clock,
    hooks: options.hooks,
    listeners: options.listeners,
    auditTrail: restored ? restored.auditTrail.slice() : [],
    onListenerError: options.onListenerError,
  });
  // An error observer keeps a failure inside XState from being rethrown into the process.
  actorRef.subscribe({ error: (error) => console.error(`strategy ${id}: actor failed`, error) });
  actorRef.start();
  return handle;
}
