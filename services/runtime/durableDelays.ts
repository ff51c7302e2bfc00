/**
 * Durable delayed transitions on XState's public API. XState runs a machine's `after` delays on
 * the clock given to `createActor`, but a restored actor schedules nothing (statelyai/xstate
 * issue 5331). So the runtime parks XState's own timers and keeps one timer per strategy itself:
 * which delay is pending follows from the snapshot (the active state nodes' `after` definitions,
 * the delay's implementation, and the time the state was entered, kept in the context), and the
 * delayed event (`xstate.after.<delay>.<machine>.<state>`) is sent through the runtime's pipeline
 * when it falls due: at its original instant, or at once if it passed while the process was down.
 */
import type { StrategyMachine, StrategySnapshot } from '../../machines/createStrategyMachine.js';
import type { AfterEvent } from '../../machines/events.js';
import { afterDelayOf, DELAY_NAMES, delayMsOf, dueInstant } from '../../machines/delays.js';
import { parkTimers, type Clock } from '../market/clock.js';
import { activeNodes } from './rejection.js';

/** A delayed transition that will be taken when it falls due. */
export interface PendingDelay {
  type: AfterEvent['type'];
  dueAt: number;
}

/** One `after` of an active state node, read once per state value: what `pendingDelay` needs of it. */
interface AfterEntry {
  type: AfterEvent['type'];
  /** The delay's implementation (a function of the context) or its fixed milliseconds. */
  delay: unknown;
  /** An unguarded delayed transition with a target is always taken; only guarded ones are asked. */
  certain: boolean;
  /** The lifecycle state whose deadline this delay is (its instant is in the context), if it is one of ours. */
  deadlineOf: string | undefined;
}

/** Per machine: the `after` entries of the active nodes of each top-level state value (none: most states). */
const afterByMachine = new WeakMap<StrategyMachine, Map<string, readonly AfterEntry[]>>();

function afterEntries(machine: StrategyMachine, snapshot: StrategySnapshot): readonly AfterEntry[] {
  const delays = (machine.implementations.delays ?? {}) as Record<string, unknown>;
  const entries: AfterEntry[] = [];
  for (const node of activeNodes(machine, snapshot)) {
    for (const after of node.after) {
      entries.push({
        type: after.eventType as AfterEvent['type'],
        delay: typeof after.delay === 'string' ? delays[after.delay] : after.delay,
        certain: after.guard === undefined && (after.target?.length ?? 0) > 0,
        deadlineOf: deadlineStateOf(after.eventType as string),
      });
    }
  }
  return entries;
}

/** The state whose durable deadline the delayed event `type` is (ERROR's recovery, a stuck state's), if it is one of the lifecycle's. */
function deadlineStateOf(type: string): string | undefined {
  const name = afterDelayOf(type);
  return name === undefined ? undefined : DELAY_NAMES[name];
}

/** The `after` entries of `snapshot`'s active nodes, memoised per machine and plain (top-level) state value. */
function afterOf(machine: StrategyMachine, snapshot: StrategySnapshot): readonly AfterEntry[] {
  const value = snapshot.value;
  if (typeof value !== 'string') return afterEntries(machine, snapshot);
  let byValue = afterByMachine.get(machine);
  if (!byValue) afterByMachine.set(machine, (byValue = new Map<string, readonly AfterEntry[]>()));
  let entries = byValue.get(value);
  if (entries === undefined) byValue.set(value, (entries = afterEntries(machine, snapshot)));
  return entries;
}

/**
 * The delayed transition `snapshot` waits for, or null: the earliest `after` of the active states
 * whose transition would be taken (ERROR with its circuit breaker open waits for none).
 */
export function pendingDelay(machine: StrategyMachine, snapshot: StrategySnapshot): PendingDelay | null {
  if (snapshot.status !== 'active') return null;
  // Most states wait for nothing: answered from the state value alone, no transition computed.
  const entries = afterOf(machine, snapshot);
  if (entries.length === 0) return null;
  let best: PendingDelay | null = null;
  for (const { type, delay, certain, deadlineOf } of entries) {
    const dueAt = dueInstant(snapshot.context, deadlineOf, () => delayMsOf(delay, { context: snapshot.context, event: { type } }));
    if (dueAt === undefined) continue;
    if (best && best.dueAt <= dueAt) continue;
    if (certain || wouldTake(snapshot, type, dueAt)) best = { type, dueAt };
  }
  return best;
}

/**
 * Whether the guarded delayed transition `type` would be taken at `dueAt`. A guard given through
 * `machine.provide()` that throws answers yes: the delay falls due and the pipeline refuses it
 * (`ACTOR_FAILED`, audited), instead of the throw escaping whoever asked (a trigger's commit).
 */
function wouldTake(snapshot: StrategySnapshot, type: AfterEvent['type'], dueAt: number): boolean {
  try {
    return snapshot.can({ type, at: dueAt, dueAt });
  } catch {
    return true;
  }
}

/**
 * A clock for `createActor` whose timers never run: the runtime arms delays itself (see
 * {@link createDelayTimer}), so XState's in-memory copies are parked. `now` is the real clock's.
 */
export function parkedClock(clock: Clock): Clock {
  return parkTimers(clock);
}

/** One strategy's durable delay timer. */
export interface DelayTimer {
  /** Re-reads the pending delay from the snapshot; arms, moves or disarms the timer. */
  sync(): void;
  stop(): void;
}

/**
 * Keeps a timer on `clock` for the delay `snapshot()` waits for; `fire` receives the delayed event,
 * stamped with its due instant (or now, when it was already overdue when armed or its timer fired
 * late: a host asleep past it).
 */
export function createDelayTimer(
  machine: StrategyMachine,
  snapshot: () => StrategySnapshot,
  clock: Clock,
  fire: (event: AfterEvent & { at: number; dueAt: number }) => void,
): DelayTimer {
  let armed: (PendingDelay & { handle: unknown }) | null = null;
  /** The delay last handed to `fire`: it is not fired again while the snapshot still waits for it. */
  let fired: PendingDelay | null = null;
  let stopped = false;
  const disarm = () => {
    if (armed) clock.clearTimeout(armed.handle);
    armed = null;
  };
  /** The snapshot `sync` last read: an unchanged snapshot (an event no edge took) changes nothing. */
  let seen: StrategySnapshot | null = null;
  const sync = () => {
    if (stopped) return;
    const current = snapshot();
    if (current === seen) return;
    seen = current;
    const pending = pendingDelay(machine, current);
    if (pending && armed && pending.type === armed.type && pending.dueAt === armed.dueAt) return;
    disarm();
    if (!pending || (fired && pending.type === fired.type && pending.dueAt === fired.dueAt)) return;
    arm(pending);
  };
  /** Fires `pending` now if it is due, else arms its timer. */
  const arm = (pending: PendingDelay) => {
    const remaining = pending.dueAt - clock.now();
    if (remaining <= 0) {
      // Passed while the process was down: fire now, stamped with the time it actually happens.
      fired = pending;
      fire({ type: pending.type, at: clock.now(), dueAt: pending.dueAt });
      return;
    }
    // A literal, not `{ ...pending, handle }`: on Node 20 a spread followed by a new key costs microseconds.
    const timer: PendingDelay & { handle: unknown } = { type: pending.type, dueAt: pending.dueAt, handle: undefined };
    timer.handle = clock.setTimeout(() => {
      if (armed !== timer) return;
      armed = null;
      // Ended before its instant by the clock (the wall clock was stepped back meanwhile): it waits on.
      if (pending.dueAt > clock.now()) return arm(pending);
      fired = pending;
      // Stamped with its due instant, or later when the timer fired late: a host that slept past
      // it records the transition when it happens, never before the records made on waking.
      fire({ type: pending.type, at: Math.max(pending.dueAt, clock.now()), dueAt: pending.dueAt });
    }, remaining);
    armed = timer;
  };
  return {
    sync,
    stop: () => {
      stopped = true;
      disarm();
    },
  };
}
