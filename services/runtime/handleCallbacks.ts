/**
 * The user code a strategy handle calls: the hooks of one transition (onExit, onTransition,
 * onEnter), run synchronously, the first that throws (or returns a promise) naming the failure
 * the strategy audits instead; and the transition listeners of a committed record.
 */
import { describeThrown } from '../../machines/errors.js';
import type { StrategyHook, StrategyHooks } from '../../machines/definition.js';
import type { StrategyContext, TransitionRecord } from '../../machines/types.js';
import type { TransitionListener, TransitionNotice } from './strategyActor.js';

/** Triggers a failing hook must never block: their hooks run after the transition. */
export const SAFETY_TRIGGERS: readonly string[] = ['SYSTEM_ERROR', 'EMERGENCY_EXIT'];

/** A hook that failed: its name (`onExit(READY)`, `onTransition`, ...) and its message. */
export interface HookFailure {
  hook: string;
  message: string;
}

function hookList(hooks: StrategyHooks, record: TransitionRecord, moved: boolean): Array<[string, StrategyHook]> {
  const list: Array<[string, StrategyHook]> = [];
  const { previousState: from, currentState: to } = record;
  if (moved && hooks.onExit?.[from]) list.push([`onExit(${from})`, hooks.onExit[from]]);
  if (hooks.onTransition) list.push(['onTransition', hooks.onTransition]);
  if (moved && hooks.onEnter?.[to]) list.push([`onEnter(${to})`, hooks.onEnter[to]]);
  return list;
}

/** Whether `hooks` has anything to run. */
export const hasHooks = (hooks: StrategyHooks): boolean =>
  Boolean(hooks.onTransition || Object.keys(hooks.onEnter ?? {}).length || Object.keys(hooks.onExit ?? {}).length);

const movedBy = (record: TransitionRecord) => record.previousState !== record.currentState || record.reentered === true;

/** Runs the hooks of a transition; returns the failing hook and its message, or null. */
export function runHooks(hooks: StrategyHooks, strategyId: string, record: TransitionRecord, context: StrategyContext): HookFailure | null {
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
      return { hook: name, message: describeThrown(error) };
    }
  }
  return null;
}

/**
 * The trigger a record was written for, as a caller sent it (payload and type, no stamp): what
 * listeners are told. Replay rebuilds the machine event instead (`eventOfRecord` in replay.ts).
 */
export function triggerOfRecord(record: TransitionRecord): TransitionNotice['event'] {
  // The payload, then its type (the order `{ ...data, type }` gives), copied key by key: on Node 20 a
  // spread followed by a new key costs microseconds, and every listener of every record pays it.
  const event: Record<string, unknown> = {};
  const data = record.data;
  for (const key in data) event[key] = data[key];
  event.type = record.trigger;
  return event as TransitionNotice['event'];
}

/**
 * Tells every listener about a committed record; a listener that throws is reported to
 * `onError` (default: the console) and the others still hear it. An `onError` that throws in turn
 * is logged: nothing a listener or its handler throws reaches the strategy, whose transition is
 * already committed.
 */
export function notifyListeners(
  listeners: ReadonlySet<TransitionListener>,
  strategyId: string,
  record: TransitionRecord,
  onError: ((error: unknown, notice: TransitionNotice) => void) | undefined,
): void {
  const notice: TransitionNotice = { strategyId, record, event: triggerOfRecord(record) };
  for (const listener of listeners) {
    try {
      listener(notice);
    } catch (error) {
      if (!onError) {
        console.error(`strategy ${strategyId}: transition listener threw`, error);
        continue;
      }
      try {
        onError(error, notice);
      } catch (handlerError) {
        console.error(`strategy ${strategyId}: transition listener threw, and so did onListenerError`, error, handlerError);
      }
    }
  }
}
