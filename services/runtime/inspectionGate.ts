/**
 * What the inspector is shown of a transition that may still be rolled back. A transition is
 * computed on the real, inspected actor before its store write; a rollback then replaces that
 * actor. Shown as they happen, the inspector would see the strategy enter a state it never
 * committed (and its invoked actors start and stop). So the inspection events of a transaction
 * are held while it is computed and released at its end: as they were on a commit; on a
 * rollback without the undone transition, the replaced actor shown stopped in its committed state.
 */
import type { ActorRefLike, InspectionEvent, Observer, Snapshot } from 'xstate';
import type { StrategySnapshot } from '../../machines/createStrategyMachine.js';

/** The inspection of a system or a lone strategy, with holds for the transactions under way. */
export interface InspectionGate {
  /** What XState is given as `inspect`. */
  readonly inspect: (event: InspectionEvent) => void;
  /** Starts holding what is inspected (holds nest: each `take` ends the newest). */
  hold(): void;
  /** Ends the newest hold; returns what it held, in order. */
  take(): InspectionEvent[];
  /** Shows `events` now, in order (past any hold: they are settled). */
  release(events: readonly InspectionEvent[]): void;
  /**
   * From now on, what is inspected of `actors` goes to `into` (a transaction's events, while its
   * store write is under way: the actor and the invoked actors it started may still report).
   */
  claim(actors: ReadonlySet<ActorRefLike>, into: InspectionEvent[]): void;
  /** Ends the claim that fills `into`. */
  unclaim(into: InspectionEvent[]): void;
  /**
   * Reports `actorRef` stopped, in `snapshot`'s state, as XState would (held or claimed like its
   * own events): for an actor that failed (an action or guard threw), whose failure and stop
   * XState never reports, so the inspector would show it running for good.
   */
  stopped(actorRef: ActorRefLike, snapshot: Snapshot<unknown>): void;
}

/**
 * A gate in front of the caller's `inspect` option (an observer or a function, as XState takes it).
 *
 * @example
 * ```ts
 * const gate = createInspectionGate(createBrowserInspector().inspect);
 * createActor(coordinatorMachine, { inspect: gate.inspect });
 * ```
 */
export function createInspectionGate(target: Observer<InspectionEvent> | ((event: InspectionEvent) => void)): InspectionGate {
  const deliver = typeof target === 'function' ? target : (event: InspectionEvent) => target.next?.(event);
  let warned = false;
  // An inspector that throws must not stop a strategy (a commit releases its events): told once, then ignored.
  const show = (event: InspectionEvent) => {
    try {
      deliver(event);
    } catch (error) {
      if (!warned) console.error('strategy-lifecycle: the inspector threw (its events are still sent; said once)', error);
      warned = true;
    }
  };
  const holds: InspectionEvent[][] = [];
  const claims = new Map<InspectionEvent[], ReadonlySet<ActorRefLike>>();
  /** The root of the inspected system (one per gate), as XState's own events name it. */
  let rootId = '';
  const inspect = (event: InspectionEvent) => {
    rootId = event.rootId;
    const held = holds.at(-1);
    if (held) return void held.push(event);
    for (const [into, actors] of claims) if (actors.has(event.actorRef)) return void into.push(event);
    show(event);
  };
  return {
    inspect,
    stopped: (actorRef, snapshot) =>
      inspect({
        type: '@xstate.snapshot',
        actorRef,
        rootId,
        event: { type: 'xstate.stop' },
        snapshot: { ...snapshot, status: 'stopped', output: undefined, error: undefined },
      }),
    claim: (actors, into) => void claims.set(into, actors),
    unclaim: (into) => void claims.delete(into),
    hold: () => void holds.push([]),
    take: () => holds.pop() ?? [],
    release: (events) => {
      for (const event of events) show(event);
    },
  };
}

/**
 * `events` as they may be shown once a transaction ended: without the actors that were made and
 * stopped inside it (the invoked actors of a state the undone transition entered), and, for an
 * actor replaced by a rollback (`retired`), only its stop, shown in `committed` (the state it
 * really was in), not the transition it computed.
 */
export function settledInspection(
  events: readonly InspectionEvent[],
  retired: (ref: ActorRefLike) => boolean,
  committed: StrategySnapshot,
): InspectionEvent[] {
  const made = new Set<ActorRefLike>();
  const stopped = new Set<ActorRefLike>();
  for (const event of events) {
    if (event.type === '@xstate.actor') made.add(event.actorRef);
    else if (event.type === '@xstate.snapshot' && event.snapshot.status === 'stopped') stopped.add(event.actorRef);
  }
  const shown: InspectionEvent[] = [];
  for (const event of events) {
    const ref = event.actorRef;
    if (made.has(ref) && stopped.has(ref)) continue;
    if (retired(ref)) {
      if (event.type === '@xstate.snapshot' && event.snapshot.status === 'stopped')
        shown.push({ ...event, snapshot: { ...committed, status: 'stopped' } as typeof event.snapshot });
      continue;
    }
    shown.push(event);
  }
  return shown;
}
